// Package links owns short links: their wire object (docs/webhooks.md), their
// validation, and every way to write them (single, bulk, upsert, and
// CreateInTx for other packages' transactions).
//
// Every write claims or frees its (domain, key) in the shared key space
// (shortlinks) and emits its link.* event in the same transaction, so a change
// and its webhook delivery commit together or not at all. An update that
// changes nothing writes nothing and emits nothing.
package links

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/codeqr/codeqr/internal/cache"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/shortlinks"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
)

// Link is the link object of the webhook contract and the API. Absent optional
// values are null; tags is never null.
type Link struct {
	ID                string            `json:"id"`
	Domain            string            `json:"domain"`
	Key               string            `json:"key"`
	URL               string            `json:"url"`
	ShortLink         string            `json:"shortLink"`
	QRCode            string            `json:"qrCode"`
	ExternalID        *string           `json:"externalId"`
	Archived          bool              `json:"archived"`
	ExpiresAt         *time.Time        `json:"expiresAt"`
	ExpiredURL        *string           `json:"expiredUrl"`
	PasswordProtected bool              `json:"passwordProtected"`
	Proxy             bool              `json:"proxy"`
	Title             *string           `json:"title"`
	Description       *string           `json:"description"`
	Image             *string           `json:"image"`
	Video             *string           `json:"video"`
	Rewrite           bool              `json:"rewrite"`
	DoIndex           bool              `json:"doIndex"`
	IOS               *string           `json:"ios"`
	Android           *string           `json:"android"`
	Geo               map[string]string `json:"geo"`
	PublicStats       bool              `json:"publicStats"`
	TrackConversion   bool              `json:"trackConversion"`
	Tags              []tags.Tag        `json:"tags"`
	Comments          *string           `json:"comments"`
	UTMSource         *string           `json:"utm_source"`
	UTMMedium         *string           `json:"utm_medium"`
	UTMCampaign       *string           `json:"utm_campaign"`
	UTMTerm           *string           `json:"utm_term"`
	UTMContent        *string           `json:"utm_content"`
	PartnerID         *string           `json:"partnerId"`
	ProjectID         string            `json:"projectId"`
	Clicks            int64             `json:"clicks"`
	Leads             int64             `json:"leads"`
	Sales             int64             `json:"sales"`
	SaleAmount        int64             `json:"saleAmount"`
	LastClicked       *time.Time        `json:"lastClicked"`
	CreatedAt         time.Time         `json:"createdAt"`
	UpdatedAt         time.Time         `json:"updatedAt"`
}

// record is a Link with what is stored but never shown.
type record struct {
	Link
	passwordHash *string
}

func (r record) clone() record {
	c := r
	c.Tags = slices.Clone(r.Tags)
	c.Geo = maps.Clone(r.Geo)
	return c
}

// Service reads and writes links.
type Service struct {
	st  *store.Store
	ev  *events.Writer
	tg  *tags.Service
	cfg config.Config
	now func() time.Time
	inv cache.Invalidator
}

// NewService returns a Service. Every committed change is told to inv (the
// process's cache.Bus; nil for none): by id, so a moved key is dropped too,
// and by its domain and key, so a cached "unknown key" goes on create.
func NewService(st *store.Store, ev *events.Writer, tg *tags.Service, cfg config.Config, inv cache.Invalidator) *Service {
	if inv == nil {
		inv = cache.Nop{}
	}
	return &Service{st: st, ev: ev, tg: tg, cfg: cfg, now: time.Now, inv: inv}
}

// invalidate schedules the cache invalidation of l for after tx commits.
func (s *Service) invalidate(tx *store.Tx, l Link) {
	inv, id, domain, key := s.inv, l.ID, l.Domain, l.Key
	tx.AfterCommit(func() { inv.Invalidate(id, domain, key) })
}

// GetIn returns one link of the project as q sees it (e.g. inside another
// package's transaction).
func (s *Service) GetIn(ctx context.Context, q store.Querier, projectID, id string) (Link, error) {
	r, err := s.load(ctx, q, "id = $1 AND project_id = $2", id, projectID)
	return r.Link, err
}

// ListOptions filter and page List. Zero values mean "no filter"; Page is
// 1-based and PageSize defaults to 50 (max 100).
type ListOptions struct {
	Search   string // substring of url, key or title, case-insensitive
	TagID    string
	Domain   string
	Archived *bool
	Page     int
	PageSize int
}

// InfoQuery names one link: by LinkID, by ExternalID, or by Domain and Key.
type InfoQuery struct {
	LinkID     string
	ExternalID string
	Domain     string
	Key        string
}

// prepared is a request that passed the pure validation, with its password
// already hashed (bcrypt is slow; it must not run inside the write lock).
type prepared struct {
	u        UpdateRequest
	password string  // the clear password when u.Password sets one
	hash     *string // its bcrypt hash
}

func prepare(u UpdateRequest, path string, base record) (prepared, error) {
	if err := applyFields(&base, u, path); err != nil {
		return prepared{}, err
	}
	p := prepared{u: u}
	if u.Password.Set && !u.Password.Null {
		h, err := bcrypt.GenerateFromPassword([]byte(u.Password.Value), bcrypt.DefaultCost)
		if err != nil {
			return prepared{}, fmt.Errorf("links: hash password: %w", err)
		}
		s := string(h)
		p.password, p.hash = u.Password.Value, &s
	}
	return p, nil
}

func prepareCreate(req CreateRequest, path string) (prepared, error) {
	if err := shortlinks.ValidateURL(path+"url", req.URL); err != nil {
		return prepared{}, err
	}
	return prepare(req.AsUpdate(), path, record{})
}

func prepareUpdate(u UpdateRequest, path string) (prepared, error) {
	return prepare(u, path, record{Link: Link{URL: "https://placeholder.invalid", Domain: "d", Key: "k"}})
}

func (s *Service) nowMs() time.Time { return store.FromMillis(store.Millis(s.now())) }

// Create makes a link and emits link.created.
func (s *Service) Create(ctx context.Context, projectID string, req CreateRequest) (Link, error) {
	p, err := prepareCreate(req, "")
	if err != nil {
		return Link{}, err
	}
	var l Link
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		l, err = s.create(ctx, tx, projectID, p, "")
		return err
	})
	return l, err
}

// CreateInTx makes a link and emits link.created inside the caller's
// transaction (e.g. partner enrollment creating referral links), so the link
// commits with the caller's other changes or not at all.
func (s *Service) CreateInTx(ctx context.Context, tx *store.Tx, projectID string, req CreateRequest) (Link, error) {
	p, err := prepareCreate(req, "")
	if err != nil {
		return Link{}, err
	}
	return s.create(ctx, tx, projectID, p, "")
}

// Get returns one link of the project.
func (s *Service) Get(ctx context.Context, projectID, id string) (Link, error) {
	r, err := s.load(ctx, s.st.Read(), "id = $1 AND project_id = $2", id, projectID)
	return r.Link, err
}

// Info finds a link by id, by external id, or by domain and key.
func (s *Service) Info(ctx context.Context, projectID string, q InfoQuery) (Link, error) {
	var (
		r   record
		err error
	)
	switch {
	case q.LinkID != "":
		r, err = s.load(ctx, s.st.Read(), "id = $1 AND project_id = $2", q.LinkID, projectID)
	case q.ExternalID != "":
		r, err = s.load(ctx, s.st.Read(), "external_id = $1 AND project_id = $2", q.ExternalID, projectID)
	case q.Key != "":
		domain := strings.ToLower(q.Domain)
		if domain == "" {
			domain = s.cfg.BaseDomain()
		}
		r, err = s.load(ctx, s.st.Read(), "domain = $1 AND key = $2 AND project_id = $3", domain, q.Key, projectID)
	default:
		return Link{}, errs.BadInput("give linkId, externalId, or domain and key")
	}
	return r.Link, err
}

// List returns the project's links, newest first.
func (s *Service) List(ctx context.Context, projectID string, o ListOptions) ([]Link, error) {
	if o.Page < 1 {
		o.Page = 1
	}
	if o.PageSize < 1 || o.PageSize > 100 {
		o.PageSize = 50
	}
	where := []string{"project_id = $1"}
	args := []any{projectID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if o.Search != "" {
		add(`(LOWER(url) LIKE $? ESCAPE '\' OR LOWER(key) LIKE $? ESCAPE '\' OR LOWER(COALESCE(title, '')) LIKE $? ESCAPE '\')`,
			"%"+likeEscape(strings.ToLower(o.Search))+"%")
	}
	if o.TagID != "" {
		add("EXISTS (SELECT 1 FROM link_tags lt WHERE lt.link_id = links.id AND lt.tag_id = $?)", o.TagID)
	}
	if o.Domain != "" {
		add("domain = $?", strings.ToLower(o.Domain))
	}
	if o.Archived != nil {
		add("archived = $?", *o.Archived)
	}
	args = append(args, o.PageSize, (o.Page-1)*o.PageSize)
	query := "SELECT " + columns + " FROM links WHERE " + strings.Join(where, " AND ") +
		fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d", len(args)-1, len(args))
	return s.query(ctx, s.st.Read(), query, args...)
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Update applies a PATCH. It emits link.updated with the link after the change,
// or nothing when the request changes nothing.
func (s *Service) Update(ctx context.Context, projectID, id string, u UpdateRequest) (Link, error) {
	p, err := prepareUpdate(u, "")
	if err != nil {
		return Link{}, err
	}
	var l Link
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		l, _, err = s.update(ctx, tx, projectID, id, p, "")
		return err
	})
	return l, err
}

// Delete removes a link, frees its key and emits link.deleted with the link as
// it was.
func (s *Service) Delete(ctx context.Context, projectID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		return s.delete(ctx, tx, projectID, id)
	})
}

// Upsert creates or updates by a natural key. The match is, in order: the
// externalId when given; else domain+key when key is given (domain defaults to
// the base domain); else the first (oldest) link of the project with exactly
// this url. A match is updated with the fields the request gives (absent and
// null fields are left alone; link.updated only if something changed); no
// match creates a link (link.created). created tells which happened.
func (s *Service) Upsert(ctx context.Context, projectID string, req CreateRequest) (l Link, created bool, err error) {
	pc, err := prepareCreate(req, "")
	if err != nil {
		return Link{}, false, err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		id, err := s.match(ctx, tx, projectID, req)
		if errors.Is(err, store.ErrNotFound) {
			created = true
			l, err = s.create(ctx, tx, projectID, pc, "")
			return err
		}
		if err != nil {
			return err
		}
		created = false
		l, _, err = s.update(ctx, tx, projectID, id, pc, "")
		return err
	})
	return l, created, err
}

func (s *Service) match(ctx context.Context, tx *store.Tx, projectID string, req CreateRequest) (string, error) {
	var (
		id  string
		err error
	)
	switch {
	case req.ExternalID != nil && *req.ExternalID != "":
		err = tx.QueryRowContext(ctx, "SELECT id FROM links WHERE project_id = $1 AND external_id = $2", projectID, *req.ExternalID).Scan(&id)
	case req.Key != nil && *req.Key != "":
		domain := s.cfg.BaseDomain()
		if req.Domain != nil && *req.Domain != "" {
			domain = strings.ToLower(strings.TrimSpace(*req.Domain))
		}
		err = tx.QueryRowContext(ctx, "SELECT id FROM links WHERE project_id = $1 AND domain = $2 AND key = $3", projectID, domain, *req.Key).Scan(&id)
	default:
		err = tx.QueryRowContext(ctx, "SELECT id FROM links WHERE project_id = $1 AND url = $2 ORDER BY created_at, id LIMIT 1", projectID, req.URL).Scan(&id)
	}
	return id, err
}

// BulkCreate creates up to MaxBulk links atomically: every item is validated
// first, then all are written in one transaction; any failure names the item
// (links[i]) and writes nothing. One link.created per link.
func (s *Service) BulkCreate(ctx context.Context, projectID string, reqs []CreateRequest) ([]Link, error) {
	if err := checkBulkSize(len(reqs)); err != nil {
		return nil, err
	}
	ps := make([]prepared, len(reqs))
	for i, req := range reqs {
		p, err := prepareCreate(req, itemPath(i))
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	var out []Link
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		out = make([]Link, 0, len(ps))
		for i, p := range ps {
			l, err := s.create(ctx, tx, projectID, p, itemPath(i))
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	return out, err
}

// BulkUpdate applies the same change to up to MaxBulk links atomically. key
// and externalId cannot be set in bulk (they are unique per link). An unknown
// id fails the whole batch with 404. One link.updated per link that changed.
func (s *Service) BulkUpdate(ctx context.Context, projectID string, linkIDs []string, u UpdateRequest) ([]Link, error) {
	linkIDs = dedupe(linkIDs)
	if err := checkBulkSize(len(linkIDs)); err != nil {
		return nil, err
	}
	if u.Key.Set || u.ExternalID.Set {
		return nil, errs.Invalid("data: key and externalId cannot be set in a bulk update")
	}
	p, err := prepareUpdate(u, "data.")
	if err != nil {
		return nil, err
	}
	var out []Link
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		out = make([]Link, 0, len(linkIDs))
		for i, id := range linkIDs {
			l, _, err := s.update(ctx, tx, projectID, id, p, fmt.Sprintf("linkIds[%d].", i))
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	return out, err
}

// BulkDelete deletes up to MaxBulk links of the project atomically and returns
// how many it deleted; ids that are unknown (or of another project) are
// skipped. One link.deleted per deleted link.
func (s *Service) BulkDelete(ctx context.Context, projectID string, linkIDs []string) (int, error) {
	linkIDs = dedupe(linkIDs)
	if err := checkBulkSize(len(linkIDs)); err != nil {
		return 0, err
	}
	var n int
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		for _, id := range linkIDs {
			err := s.delete(ctx, tx, projectID, id)
			if errs.KindOf(err) == errs.KindNotFound {
				continue
			}
			if err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

func checkBulkSize(n int) error {
	if n < 1 || n > MaxBulk {
		return errs.Invalid("send between 1 and %d links (got %d)", MaxBulk, n)
	}
	return nil
}

func itemPath(i int) string { return fmt.Sprintf("links[%d].", i) }

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, id := range in {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// atPath prefixes a domain error's message with the bulk item it concerns.
func atPath(path string, err error) error {
	var e *errs.Error
	if path == "" || !errors.As(err, &e) {
		return err
	}
	return &errs.Error{Kind: e.Kind, Message: strings.TrimSuffix(path, ".") + ": " + e.Message}
}

// create writes a validated request and its event in tx.
func (s *Service) create(ctx context.Context, tx *store.Tx, projectID string, p prepared, path string) (Link, error) {
	now := s.nowMs()
	r := record{Link: Link{ID: ids.New("link"), ProjectID: projectID, Tags: []tags.Tag{}, CreatedAt: now, UpdatedAt: now}}
	if err := applyFields(&r, p.u, path); err != nil {
		return Link{}, err
	}
	r.passwordHash = p.hash
	if r.Domain == "" {
		r.Domain = s.cfg.BaseDomain()
	} else if err := shortlinks.CheckDomain(ctx, tx, s.cfg, projectID, r.Domain); err != nil {
		return Link{}, atPath(path, err)
	}
	if err := s.checkExternalID(ctx, tx, projectID, r.ID, r.ExternalID); err != nil {
		return Link{}, atPath(path, err)
	}
	if r.Key != "" {
		if err := shortlinks.Claim(ctx, tx, s.st.Dialect(), r.Domain, r.Key, projectID, shortlinks.KindLink, r.ID); err != nil {
			return Link{}, atPath(path, err)
		}
	} else {
		key, err := shortlinks.ClaimRandom(ctx, tx, s.st.Dialect(), r.Domain, projectID, shortlinks.KindLink, r.ID)
		if err != nil {
			return Link{}, err
		}
		r.Key = key
	}
	if p.u.TagIDs.Set || p.u.TagNames.Set {
		t, err := s.tg.Resolve(ctx, tx, projectID, p.u.TagIDs.Value, p.u.TagNames.Value)
		if err != nil {
			return Link{}, atPath(path, err)
		}
		r.Tags = append([]tags.Tag{}, t...)
	}
	s.derive(&r)
	if err := s.insert(ctx, tx, r); err != nil {
		return Link{}, atPath(path, err)
	}
	if err := s.writeTags(ctx, tx, r.ID, r.Tags); err != nil {
		return Link{}, err
	}
	if _, err := s.ev.Emit(ctx, tx, events.Event{ProjectID: projectID, Type: events.LinkCreated, Data: r.Link}); err != nil {
		return Link{}, err
	}
	s.invalidate(tx, r.Link)
	return r.Link, nil
}

// update applies a validated change to one link in tx. changed is false (and
// nothing is written or emitted) when the link would stay the same.
func (s *Service) update(ctx context.Context, tx *store.Tx, projectID, id string, p prepared, path string) (Link, bool, error) {
	// A no-op write first takes the row lock (PostgreSQL), so two concurrent
	// PATCHes of one link cannot lose each other's fields.
	res, err := tx.ExecContext(ctx, "UPDATE links SET updated_at = updated_at WHERE id = $1 AND project_id = $2", id, projectID)
	if err != nil {
		return Link{}, false, fmt.Errorf("links: lock %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Link{}, false, atPath(path, errs.NotFound("link %s not found", truncate(id)))
	}
	before, err := s.load(ctx, tx, "id = $1 AND project_id = $2", id, projectID)
	if err != nil {
		return Link{}, false, err
	}
	r := before.clone()
	if err := applyFields(&r, p.u, path); err != nil {
		return Link{}, false, err
	}
	if p.u.Password.Set {
		switch {
		case p.u.Password.Null || p.hash == nil:
			r.passwordHash = nil
		// The same password again keeps the stored hash, so it is not a change.
		// (bcrypt runs inside the transaction here; it only happens when a
		// request sends a password.)
		case before.passwordHash != nil && bcrypt.CompareHashAndPassword([]byte(*before.passwordHash), []byte(p.password)) == nil:
		default:
			r.passwordHash = p.hash
		}
	}
	if r.Domain != before.Domain && !strings.EqualFold(r.Domain, s.cfg.BaseDomain()) {
		if err := shortlinks.CheckDomain(ctx, tx, s.cfg, projectID, r.Domain); err != nil {
			return Link{}, false, atPath(path, err)
		}
	}
	if !equalPtr(r.ExternalID, before.ExternalID) {
		if err := s.checkExternalID(ctx, tx, projectID, id, r.ExternalID); err != nil {
			return Link{}, false, atPath(path, err)
		}
	}
	tagsSet := p.u.TagIDs.Set || p.u.TagNames.Set
	if tagsSet {
		t, err := s.tg.Resolve(ctx, tx, projectID, p.u.TagIDs.Value, p.u.TagNames.Value)
		if err != nil {
			return Link{}, false, atPath(path, err)
		}
		r.Tags = append([]tags.Tag{}, t...)
	}
	s.derive(&r)
	same, err := sameRecord(before, r)
	if err != nil || same {
		return before.Link, false, err
	}
	if r.Domain != before.Domain || r.Key != before.Key {
		if err := shortlinks.Move(ctx, tx, s.st.Dialect(), before.Domain, before.Key, r.Domain, r.Key, projectID, shortlinks.KindLink, id); err != nil {
			return Link{}, false, atPath(path, err)
		}
	}
	r.UpdatedAt = s.nowMs()
	if err := s.save(ctx, tx, r); err != nil {
		return Link{}, false, atPath(path, err)
	}
	if tagsSet {
		if _, err := tx.ExecContext(ctx, "DELETE FROM link_tags WHERE link_id = $1", id); err != nil {
			return Link{}, false, fmt.Errorf("links: clear tags: %w", err)
		}
		if err := s.writeTags(ctx, tx, id, r.Tags); err != nil {
			return Link{}, false, err
		}
	}
	if _, err := s.ev.Emit(ctx, tx, events.Event{ProjectID: projectID, Type: events.LinkUpdated, Data: r.Link}); err != nil {
		return Link{}, false, err
	}
	s.invalidate(tx, r.Link)
	return r.Link, true, nil
}

func (s *Service) delete(ctx context.Context, tx *store.Tx, projectID, id string) error {
	r, err := s.load(ctx, tx, "id = $1 AND project_id = $2", id, projectID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM link_tags WHERE link_id = $1", id); err != nil {
		return fmt.Errorf("links: delete tags: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM links WHERE id = $1 AND project_id = $2", id, projectID); err != nil {
		return fmt.Errorf("links: delete: %w", err)
	}
	if err := events.ForgetResource(ctx, tx, id); err != nil {
		return err
	}
	if err := shortlinks.Release(ctx, tx, r.Domain, r.Key); err != nil {
		return err
	}
	s.invalidate(tx, r.Link)
	_, err = s.ev.Emit(ctx, tx, events.Event{ProjectID: projectID, Type: events.LinkDeleted, Data: r.Link})
	return err
}

// sameRecord reports whether an update left everything a client can see, and
// the password, as it was (updatedAt aside).
func sameRecord(a, b record) (bool, error) {
	if !equalPtr(a.passwordHash, b.passwordHash) {
		return false, nil
	}
	b.UpdatedAt = a.UpdatedAt
	ja, err := json.Marshal(a.Link)
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b.Link)
	if err != nil {
		return false, err
	}
	return string(ja) == string(jb), nil
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func (s *Service) checkExternalID(ctx context.Context, tx *store.Tx, projectID, selfID string, ext *string) error {
	if ext == nil {
		return nil
	}
	var other string
	err := tx.QueryRowContext(ctx, "SELECT id FROM links WHERE project_id = $1 AND external_id = $2 AND id <> $3", projectID, *ext, selfID).Scan(&other)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("links: check externalId: %w", err)
	}
	return errs.Conflict("externalId %q is already used by link %s", truncate(*ext), other)
}

// derive fills the fields computed from others.
func (s *Service) derive(r *record) {
	r.ShortLink = shortlinks.ShortLink(s.cfg, r.Domain, r.Key)
	r.QRCode = shortlinks.QRImageURL(s.cfg, r.ShortLink)
	r.PasswordProtected = r.passwordHash != nil
	if r.Tags == nil {
		r.Tags = []tags.Tag{}
	}
	// One order everywhere (byte order, not the database's collation), so that
	// comparing before and after an update never sees a change that isn't one.
	slices.SortFunc(r.Tags, func(a, b tags.Tag) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
}
