// Package partners owns the partner program of a project: partners, their
// enrollment (pending → approved) and their referral links.
//
// Every project has exactly one partner program; it has no row of its own and
// its id is derived from the project id (ProgramID), so there is nothing to
// create or keep in sync. Referral links are ordinary links with partnerId set,
// created through links.Service.CreateInTx so that link.created is emitted in
// the same transaction as the partner change.
//
// partner.enrolled fires exactly once per partner: when its enrollment becomes
// approved (at creation with status "approved", or at approve). The guard is a
// conditional UPDATE (status <> 'approved'), so concurrent approvals on either
// database produce one event.
package partners

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/shortlinks"
	"github.com/codeqr/codeqr/internal/store"
)

// Enrollment statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
)

// Limits.
const (
	MaxName  = 190
	MaxEmail = 254
	maxSlug  = 50
	// maxKeyTries bounds the numbered suffixes tried for a name-derived key
	// before a random suffix is used.
	maxKeyTries = 20
)

// Partner is the partner object of the API and of partner.* events
// (docs/webhooks.md).
type Partner struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Image     *string   `json:"image"`
	Country   *string   `json:"country"`
	Status    string    `json:"status"`
	ProgramID string    `json:"programId"`
	CreatedAt time.Time `json:"createdAt"`
}

// LinkSummary is a referral link as partner.enrolled and the API show it.
type LinkSummary struct {
	ID         string `json:"id"`
	Domain     string `json:"domain"`
	Key        string `json:"key"`
	ShortLink  string `json:"shortLink"`
	URL        string `json:"url"`
	Clicks     int64  `json:"clicks"`
	Leads      int64  `json:"leads"`
	Sales      int64  `json:"sales"`
	SaleAmount int64  `json:"saleAmount"`
}

// Detail is a partner as the API answers it: the partner object, its totals
// over all its referral links, and those links.
//
// It also carries every field of Dub's enrolled partner: partnerId (the id
// again), tenantId, username, companyName and description as given, the
// totals again under Dub's names (totalClicks…; netRevenue is the sale amount,
// as codeqr pays no commissions, so totalCommissions is 0). codeqr has no
// partner network, payouts or bans: networkStatus is always "draft" (not
// listed in a network) and the payout, verification and ban fields are null.
type Detail struct {
	Partner
	Clicks     int64         `json:"clicks"`
	Leads      int64         `json:"leads"`
	Sales      int64         `json:"sales"`
	SaleAmount int64         `json:"saleAmount"`
	Links      []LinkSummary `json:"links"`

	PartnerID           string     `json:"partnerId"`
	TenantID            *string    `json:"tenantId"`
	Username            *string    `json:"username"`
	CompanyName         *string    `json:"companyName"`
	Description         *string    `json:"description"`
	NetworkStatus       string     `json:"networkStatus"`
	DefaultPayoutMethod *string    `json:"defaultPayoutMethod"`
	PaypalEmail         *string    `json:"paypalEmail"`
	StripeConnectID     *string    `json:"stripeConnectId"`
	PayoutsEnabledAt    *time.Time `json:"payoutsEnabledAt"`
	IdentityVerifiedAt  *time.Time `json:"identityVerifiedAt"`
	BannedAt            *time.Time `json:"bannedAt"`
	BannedReason        *string    `json:"bannedReason"`
	TotalClicks         int64      `json:"totalClicks"`
	TotalLeads          int64      `json:"totalLeads"`
	TotalConversions    int64      `json:"totalConversions"`
	TotalSales          int64      `json:"totalSales"`
	TotalSaleAmount     int64      `json:"totalSaleAmount"`
	TotalCommissions    int64      `json:"totalCommissions"`
	NetRevenue          int64      `json:"netRevenue"`
}

// profile is what a partner row stores beyond the Partner object of docs/webhooks.md.
type profile struct {
	tenantID, username, companyName, description *string
}

// Enrolled is the data of partner.enrolled.
type Enrolled struct {
	Partner Partner       `json:"partner"`
	Links   []LinkSummary `json:"links"`
}

// CreateRequest is the body of POST /api/partners. It creates a partner, or
// updates the one with the same tenantId or email (Dub's "create or update").
// URL is the destination of the default referral link and LinkKey its key
// (default: from the name); linkProps are more fields of that link (Dub's).
// Without url no referral link is made: codeqr's program has no default
// destination, so links is empty until one is added.
type CreateRequest struct {
	Name        string               `json:"name"`
	Email       string               `json:"email"`
	Image       *string              `json:"image"`
	Country     *string              `json:"country"`
	Status      *string              `json:"status"`
	LinkKey     *string              `json:"linkKey"`
	URL         string               `json:"url"`
	TenantID    *string              `json:"tenantId"`
	Username    *string              `json:"username"`
	CompanyName *string              `json:"companyName"`
	Description *string              `json:"description"`
	LinkProps   *links.CreateRequest `json:"linkProps"`
}

// LinkRequest is the body of POST /api/partners/{id}/links, and of Dub's
// POST /api/partners/links and PUT /api/partners/links/upsert, which name
// the partner by partnerId or tenantId in the body. linkProps are more fields
// of the link.
type LinkRequest struct {
	URL       string               `json:"url"`
	Key       *string              `json:"key"`
	Domain    *string              `json:"domain"`
	PartnerID *string              `json:"partnerId"`
	TenantID  *string              `json:"tenantId"`
	LinkProps *links.CreateRequest `json:"linkProps"`
}

// ListOptions filter and page List.
type ListOptions struct {
	Page, PageSize int
	Status         string // "" for all
	Email          string
	TenantID       string
	Country        string
	Search         string // substring of name or email
}

// Service reads and writes partners.
type Service struct {
	st    *store.Store
	ev    *events.Writer
	links *links.Service
	cfg   config.Config
	now   func() time.Time
}

// NewService returns a Service.
func NewService(st *store.Store, ev *events.Writer, ls *links.Service, cfg config.Config) *Service {
	return &Service{st: st, ev: ev, links: ls, cfg: cfg, now: time.Now}
}

// ProgramID is the id of the project's one partner program.
func ProgramID(projectID string) string {
	_, suffix, ok := strings.Cut(projectID, "_")
	if !ok {
		suffix = projectID
	}
	return "prog_" + suffix
}

func (s *Service) nowMs() time.Time { return store.FromMillis(store.Millis(s.now())) }

// Create makes a partner and its default referral link, and, when it is
// created approved, emits partner.enrolled — all in one transaction. A
// partner with the same tenantId (when given) or email is updated instead:
// its profile fields that the request gives are set, and no link is made.
func (s *Service) Create(ctx context.Context, projectID string, req CreateRequest) (Detail, error) {
	p, pr, err := validateCreate(req)
	if err != nil {
		return Detail{}, err
	}
	var out Detail
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		existing, err := s.existing(ctx, tx, projectID, pr.tenantID, p.Email)
		if err != nil {
			return err
		}
		if existing != "" {
			out, err = s.updateProfile(ctx, tx, projectID, existing, p, pr, req)
			return err
		}
		now := s.nowMs()
		p.ID, p.ProgramID, p.CreatedAt = ids.New("pn"), ProgramID(projectID), now
		var enrolledAt any
		if p.Status == StatusApproved {
			enrolledAt = store.Millis(now)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO partners (id, project_id, name, email, image, country, status, enrolled_at, created_at, updated_at,
tenant_id, username, company_name, description)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13)`,
			p.ID, projectID, p.Name, p.Email, store.StringOrNil(p.Image), store.StringOrNil(p.Country), p.Status, enrolledAt, store.Millis(now),
			store.StringOrNil(pr.tenantID), store.StringOrNil(pr.username), store.StringOrNil(pr.companyName), store.StringOrNil(pr.description)); err != nil {
			if errors.Is(err, store.ErrUniqueViolation) {
				return errs.Conflict("a partner with email %q or this tenantId is already enrolled in this program", p.Email)
			}
			return fmt.Errorf("partners: insert: %w", err)
		}
		sums := []LinkSummary{}
		if url := linkURL(req.URL, req.LinkProps); url != "" {
			l, err := s.createLink(ctx, tx, projectID, p, LinkRequest{URL: url, Key: req.LinkKey, LinkProps: req.LinkProps}, "linkKey")
			if err != nil {
				return err
			}
			sums = append(sums, s.summary(l))
		} else if req.LinkProps != nil || req.LinkKey != nil {
			return errs.Invalid("url is required with linkProps or linkKey: codeqr's partner program has no default destination")
		}
		if p.Status == StatusApproved {
			if err := s.emitEnrolled(ctx, tx, projectID, p, sums); err != nil {
				return err
			}
		}
		out = detail(p, pr, sums)
		return nil
	})
	if err != nil {
		return Detail{}, err
	}
	return out, nil
}

func linkURL(url string, props *links.CreateRequest) string {
	if url == "" && props != nil {
		return props.URL
	}
	return url
}

// existing is the id of the partner with this tenantId (when given), else
// with this email, or "".
func (s *Service) existing(ctx context.Context, tx *store.Tx, projectID string, tenantID *string, email string) (string, error) {
	var id string
	err := store.ErrNotFound
	if tenantID != nil {
		err = tx.QueryRowContext(ctx, "SELECT id FROM partners WHERE project_id = $1 AND tenant_id = $2", projectID, *tenantID).Scan(&id)
	}
	if errors.Is(err, store.ErrNotFound) {
		err = tx.QueryRowContext(ctx, "SELECT id FROM partners WHERE project_id = $1 AND email = $2", projectID, email).Scan(&id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("partners: find existing: %w", err)
	}
	return id, nil
}

// updateProfile sets the profile fields a repeated create gives.
func (s *Service) updateProfile(ctx context.Context, tx *store.Tx, projectID, id string, p Partner, pr profile, req CreateRequest) (Detail, error) {
	cur, curPr, err := s.get(ctx, tx, projectID, id)
	if err != nil {
		return Detail{}, err
	}
	cur.Name, cur.Email = p.Name, p.Email
	if req.Image != nil {
		cur.Image = p.Image
	}
	if req.Country != nil {
		cur.Country = p.Country
	}
	for _, f := range []struct {
		given bool
		dst   **string
		v     *string
	}{{req.TenantID != nil, &curPr.tenantID, pr.tenantID}, {req.Username != nil, &curPr.username, pr.username},
		{req.CompanyName != nil, &curPr.companyName, pr.companyName}, {req.Description != nil, &curPr.description, pr.description}} {
		if f.given {
			*f.dst = f.v
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE partners SET name = $1, email = $2, image = $3, country = $4, tenant_id = $5, username = $6,
company_name = $7, description = $8, updated_at = $9 WHERE id = $10 AND project_id = $11`,
		cur.Name, cur.Email, store.StringOrNil(cur.Image), store.StringOrNil(cur.Country), store.StringOrNil(curPr.tenantID),
		store.StringOrNil(curPr.username), store.StringOrNil(curPr.companyName), store.StringOrNil(curPr.description),
		store.Millis(s.nowMs()), id, projectID)
	if errors.Is(err, store.ErrUniqueViolation) {
		return Detail{}, errs.Conflict("another partner has email %q or this tenantId", cur.Email)
	}
	if err != nil {
		return Detail{}, fmt.Errorf("partners: update: %w", err)
	}
	sums, err := s.linksOf(ctx, tx, projectID, []string{id})
	if err != nil {
		return Detail{}, err
	}
	return detail(cur, curPr, sums[id]), nil
}

// Approve approves a pending enrollment and emits partner.enrolled. Approving
// an approved partner changes nothing and emits nothing.
func (s *Service) Approve(ctx context.Context, projectID, id string) (Detail, error) {
	var out Detail
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		now := store.Millis(s.nowMs())
		res, err := tx.ExecContext(ctx, `UPDATE partners SET status = $1, enrolled_at = $2, updated_at = $2
WHERE id = $3 AND project_id = $4 AND status <> $1`, StatusApproved, now, id, projectID)
		if err != nil {
			return fmt.Errorf("partners: approve: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("partners: approve: %w", err)
		}
		p, pr, err := s.get(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		sums, err := s.linksOf(ctx, tx, projectID, []string{id})
		if err != nil {
			return err
		}
		if n == 1 {
			if err := s.emitEnrolled(ctx, tx, projectID, p, sums[id]); err != nil {
				return err
			}
		}
		out = detail(p, pr, sums[id])
		return nil
	})
	if err != nil {
		return Detail{}, err
	}
	return out, nil
}

// AddLink creates another referral link for a partner (link.created only).
func (s *Service) AddLink(ctx context.Context, projectID, id string, req LinkRequest) (LinkSummary, error) {
	l, err := s.CreateLink(ctx, projectID, id, req)
	if err != nil {
		return LinkSummary{}, err
	}
	return s.summary(l), nil
}

// CreateLink creates a referral link for the partner named by id, or by the
// request's partnerId or tenantId when id is "", and returns the whole link.
func (s *Service) CreateLink(ctx context.Context, projectID, id string, req LinkRequest) (links.Link, error) {
	if err := shortlinks.ValidateURL("url", linkURL(req.URL, req.LinkProps)); err != nil {
		return links.Link{}, err
	}
	var out links.Link
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.named(ctx, tx, projectID, id, req)
		if err != nil {
			return err
		}
		out, err = s.createLink(ctx, tx, projectID, p, req, "key")
		return err
	})
	return out, err
}

// UpsertLink updates the partner's referral link with the request's url (the
// oldest one when several have it) with the request's fields, or creates one
// when the partner has none with that url.
func (s *Service) UpsertLink(ctx context.Context, projectID string, req LinkRequest) (links.Link, error) {
	url := linkURL(req.URL, req.LinkProps)
	if err := shortlinks.ValidateURL("url", url); err != nil {
		return links.Link{}, err
	}
	var (
		p      Partner
		linkID string
	)
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = s.named(ctx, tx, projectID, "", req); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, "SELECT id FROM links WHERE project_id = $1 AND partner_id = $2 AND url = $3 ORDER BY id LIMIT 1",
			projectID, p.ID, url).Scan(&linkID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return links.Link{}, err
	}
	if linkID == "" {
		return s.CreateLink(ctx, projectID, p.ID, req)
	}
	cr := linkCreate(p, req)
	return s.links.Update(ctx, projectID, linkID, cr.AsUpdate())
}

// named finds the partner by id, else by the request's partnerId or tenantId.
func (s *Service) named(ctx context.Context, q store.Querier, projectID, id string, req LinkRequest) (Partner, error) {
	switch {
	case id != "":
	case req.PartnerID != nil && *req.PartnerID != "":
		id = *req.PartnerID
	case req.TenantID != nil && *req.TenantID != "":
		err := q.QueryRowContext(ctx, "SELECT id FROM partners WHERE project_id = $1 AND tenant_id = $2", projectID, *req.TenantID).Scan(&id)
		if errors.Is(err, store.ErrNotFound) {
			return Partner{}, errs.NotFound("no partner with tenantId %q", truncate(*req.TenantID))
		}
		if err != nil {
			return Partner{}, fmt.Errorf("partners: by tenantId: %w", err)
		}
	default:
		return Partner{}, errs.Invalid("give partnerId or tenantId")
	}
	p, _, err := s.get(ctx, q, projectID, id)
	return p, err
}

// Links returns the referral links of the partner named by partnerId or
// tenantId, oldest first.
func (s *Service) Links(ctx context.Context, projectID, partnerID, tenantID string) ([]LinkSummary, error) {
	q := s.st.Read()
	p, err := s.named(ctx, q, projectID, "", LinkRequest{PartnerID: &partnerID, TenantID: &tenantID})
	if err != nil {
		return nil, err
	}
	sums, err := s.linksOf(ctx, q, projectID, []string{p.ID})
	if err != nil {
		return nil, err
	}
	if sums[p.ID] == nil {
		return []LinkSummary{}, nil
	}
	return sums[p.ID], nil
}

// Totals are a partner's counters over all its referral links (Dub's
// partner analytics, groupBy=count; earnings are 0: codeqr pays no
// commissions).
type Totals struct {
	Clicks     int64 `json:"clicks"`
	Leads      int64 `json:"leads"`
	Sales      int64 `json:"sales"`
	SaleAmount int64 `json:"saleAmount"`
	Earnings   int64 `json:"earnings"`
}

// Analytics returns the partner's totals (groupBy "count") or its links with
// their counters (groupBy "top_links", largest sale amount first).
func (s *Service) Analytics(ctx context.Context, projectID, partnerID, tenantID, groupBy string) (any, error) {
	ls, err := s.Links(ctx, projectID, partnerID, tenantID)
	if err != nil {
		return nil, err
	}
	switch groupBy {
	case "", "count":
		var t Totals
		for _, l := range ls {
			t.Clicks += l.Clicks
			t.Leads += l.Leads
			t.Sales += l.Sales
			t.SaleAmount += l.SaleAmount
		}
		return t, nil
	case "top_links":
		type row struct {
			LinkSummary
			Link     string `json:"link"`
			Earnings int64  `json:"earnings"`
		}
		out := make([]row, 0, len(ls))
		for _, l := range ls {
			out = append(out, row{LinkSummary: l, Link: l.ID})
		}
		slices.SortStableFunc(out, func(a, b row) int { return cmp.Compare(b.SaleAmount, a.SaleAmount) })
		return out, nil
	default:
		return nil, errs.BadInput("groupBy must be count or top_links (codeqr answers partner timeseries through GET /api/analytics with linkId)")
	}
}

// Get returns one partner of the project with totals and links.
func (s *Service) Get(ctx context.Context, projectID, id string) (Detail, error) {
	q := s.st.Read()
	p, pr, err := s.get(ctx, q, projectID, id)
	if err != nil {
		return Detail{}, err
	}
	sums, err := s.linksOf(ctx, q, projectID, []string{id})
	if err != nil {
		return Detail{}, err
	}
	return detail(p, pr, sums[id]), nil
}

// List returns the project's partners, newest first, with totals and links.
func (s *Service) List(ctx context.Context, projectID string, o ListOptions) ([]Detail, error) {
	if o.Page < 1 {
		o.Page = 1
	}
	if o.PageSize < 1 || o.PageSize > 100 {
		o.PageSize = 50
	}
	if o.Status != "" && o.Status != StatusPending && o.Status != StatusApproved {
		return nil, errs.BadInput("status must be pending or approved")
	}
	q := "SELECT " + columns + " FROM partners WHERE project_id = $1"
	args := []any{projectID}
	add := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args)))
	}
	if o.Status != "" {
		add("status = $?", o.Status)
	}
	if o.Email != "" {
		add("email = $?", strings.ToLower(o.Email))
	}
	if o.TenantID != "" {
		add("tenant_id = $?", o.TenantID)
	}
	if o.Country != "" {
		add("country = $?", strings.ToUpper(o.Country))
	}
	if o.Search != "" {
		add(`(LOWER(name) LIKE $? ESCAPE '\' OR email LIKE $? ESCAPE '\')`,
			"%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(o.Search))+"%")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d OFFSET %d", o.PageSize, (o.Page-1)*o.PageSize)
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("partners: list: %w", err)
	}
	var (
		ps  []Partner
		prs []profile
	)
	for rows.Next() {
		p, pr, err := scan(rows, projectID)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ps = append(ps, p)
		prs = append(prs, pr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("partners: list: %w", err)
	}
	idList := make([]string, len(ps))
	for i, p := range ps {
		idList[i] = p.ID
	}
	sums, err := s.linksOf(ctx, s.st.Read(), projectID, idList)
	if err != nil {
		return nil, err
	}
	out := make([]Detail, 0, len(ps))
	for i, p := range ps {
		out = append(out, detail(p, prs[i], sums[p.ID]))
	}
	return out, nil
}

func (s *Service) emitEnrolled(ctx context.Context, tx *store.Tx, projectID string, p Partner, sums []LinkSummary) error {
	if sums == nil {
		sums = []LinkSummary{}
	}
	_, err := s.ev.Emit(ctx, tx, events.Event{ProjectID: projectID, Type: events.PartnerEnrolled, Data: Enrolled{Partner: p, Links: sums}})
	return err
}

// createLink makes a referral link. A key the client chose must be free (409
// otherwise); a key derived from the partner's name gets a numbered suffix
// ("jane-doe-2") when taken.
func (s *Service) createLink(ctx context.Context, tx *store.Tx, projectID string, p Partner, req LinkRequest, keyField string) (links.Link, error) {
	lr := linkCreate(p, req)
	if lr.Key != nil && *lr.Key != "" {
		if err := shortlinks.ValidateKey(*lr.Key); err != nil {
			return links.Link{}, errs.Invalid("%s: %v", keyField, err)
		}
		return s.links.CreateInTx(ctx, tx, projectID, lr)
	}
	base := Slugify(p.Name)
	for i := 1; i <= maxKeyTries+1; i++ {
		key := base
		switch {
		case i == maxKeyTries+1:
			key = fmt.Sprintf("%s-%s", base, strings.ToLower(ids.Random(6)))
		case i > 1:
			key = fmt.Sprintf("%s-%d", base, i)
		}
		if shortlinks.ValidateKey(key) != nil {
			continue // e.g. a reserved word
		}
		lr.Key = &key
		l, err := s.links.CreateInTx(ctx, tx, projectID, lr)
		if errs.KindOf(err) == errs.KindConflict {
			continue
		}
		return l, err
	}
	return links.Link{}, errs.Conflict("no free key for %q; pass one explicitly", base)
}

// linkCreate is the link a LinkRequest asks for: its linkProps, with url,
// key, domain and the partner set from the request.
func linkCreate(p Partner, req LinkRequest) links.CreateRequest {
	var lr links.CreateRequest
	if req.LinkProps != nil {
		lr = *req.LinkProps
	}
	lr.URL = linkURL(req.URL, req.LinkProps)
	if req.Domain != nil {
		lr.Domain = req.Domain
	}
	if req.Key != nil {
		lr.Key = req.Key
	}
	id := p.ID
	lr.PartnerID = &id
	return lr
}

// Slugify turns a name into a link key: lower-case ASCII letters and digits
// separated by single dashes, at most 50 characters; "partner" when nothing is left.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(foldAccents(name)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= maxSlug {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > maxSlug {
		out = strings.Trim(out[:maxSlug], "-")
	}
	if out == "" {
		return "partner"
	}
	return out
}

// foldAccents maps common Latin letters with diacritics to their base letter,
// so "José Müller" becomes "jose-muller" rather than "jos-m-ller".
func foldAccents(s string) string {
	const from = "àáâãäåçèéêëìíîïñòóôõöøùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝ"
	const to = "aaaaaaceeeeiiiinoooooouuuuyyAAAAAACEEEEIIIINOOOOOOUUUUY"
	fr, tr := []rune(from), []rune(to)
	m := make(map[rune]rune, len(fr))
	for i, r := range fr {
		m[r] = tr[i]
	}
	return strings.Map(func(r rune) rune {
		if x, ok := m[r]; ok {
			return x
		}
		return r
	}, s)
}

func (s *Service) summary(l links.Link) LinkSummary {
	return LinkSummary{ID: l.ID, Domain: l.Domain, Key: l.Key, ShortLink: l.ShortLink, URL: l.URL,
		Clicks: l.Clicks, Leads: l.Leads, Sales: l.Sales, SaleAmount: l.SaleAmount}
}

func detail(p Partner, pr profile, sums []LinkSummary) Detail {
	d := Detail{Partner: p, Links: sums, PartnerID: p.ID, NetworkStatus: "draft",
		TenantID: pr.tenantID, Username: pr.username, CompanyName: pr.companyName, Description: pr.description}
	if d.Links == nil {
		d.Links = []LinkSummary{}
	}
	for _, l := range d.Links {
		d.Clicks += l.Clicks
		d.Leads += l.Leads
		d.Sales += l.Sales
		d.SaleAmount += l.SaleAmount
	}
	d.TotalClicks, d.TotalLeads, d.TotalSales, d.TotalSaleAmount = d.Clicks, d.Leads, d.Sales, d.SaleAmount
	d.NetRevenue = d.SaleAmount
	return d
}

const columns = "id, name, email, image, country, status, created_at, tenant_id, username, company_name, description"

type scanner interface{ Scan(...any) error }

func scan(row scanner, projectID string) (Partner, profile, error) {
	var (
		p                                   Partner
		image, country                      sql.NullString
		tenant, username, company, descript sql.NullString
		created                             int64
	)
	if err := row.Scan(&p.ID, &p.Name, &p.Email, &image, &country, &p.Status, &created, &tenant, &username, &company, &descript); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Partner{}, profile{}, store.ErrNotFound
		}
		return Partner{}, profile{}, fmt.Errorf("partners: scan: %w", err)
	}
	p.Image, p.Country = store.NullString(image), store.NullString(country)
	p.CreatedAt, p.ProgramID = store.FromMillis(created), ProgramID(projectID)
	pr := profile{tenantID: store.NullString(tenant), username: store.NullString(username),
		companyName: store.NullString(company), description: store.NullString(descript)}
	return p, pr, nil
}

func (s *Service) get(ctx context.Context, q store.Querier, projectID, id string) (Partner, profile, error) {
	p, pr, err := scan(q.QueryRowContext(ctx, "SELECT "+columns+" FROM partners WHERE id = $1 AND project_id = $2", id, projectID), projectID)
	if errors.Is(err, store.ErrNotFound) {
		return Partner{}, profile{}, errs.NotFound("partner %s not found", truncate(id))
	}
	return p, pr, err
}

// linksOf returns the referral links of the given partners, oldest first.
func (s *Service) linksOf(ctx context.Context, q store.Querier, projectID string, partnerIDs []string) (map[string][]LinkSummary, error) {
	out := make(map[string][]LinkSummary, len(partnerIDs))
	if len(partnerIDs) == 0 {
		return out, nil
	}
	args := []any{projectID}
	for _, id := range partnerIDs {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT partner_id, id, domain, key, url, clicks, leads, sales, sale_amount FROM links
WHERE project_id = $1 AND partner_id IN (`+store.Placeholders(2, len(partnerIDs))+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("partners: links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pid string
			l   LinkSummary
		)
		if err := rows.Scan(&pid, &l.ID, &l.Domain, &l.Key, &l.URL, &l.Clicks, &l.Leads, &l.Sales, &l.SaleAmount); err != nil {
			return nil, fmt.Errorf("partners: links: %w", err)
		}
		l.ShortLink = shortlinks.ShortLink(s.cfg, l.Domain, l.Key)
		out[pid] = append(out[pid], l)
	}
	return out, rows.Err()
}

// validateCreate checks and normalises a CreateRequest into a Partner and
// its profile.
func validateCreate(req CreateRequest) (Partner, profile, error) {
	p, err := validatePartner(req)
	if err != nil {
		return Partner{}, profile{}, err
	}
	var pr profile
	for _, f := range []struct {
		name string
		v    *string
		dst  **string
		max  int
	}{{"tenantId", req.TenantID, &pr.tenantID, 255}, {"username", req.Username, &pr.username, 100},
		{"companyName", req.CompanyName, &pr.companyName, MaxName}, {"description", req.Description, &pr.description, 5000}} {
		if f.v == nil || strings.TrimSpace(*f.v) == "" {
			continue
		}
		v := strings.TrimSpace(*f.v)
		if utf8.RuneCountInString(v) > f.max || strings.ContainsRune(v, 0) {
			return Partner{}, profile{}, errs.Invalid("%s must be at most %d characters", f.name, f.max)
		}
		*f.dst = &v
	}
	return p, pr, nil
}

func validatePartner(req CreateRequest) (Partner, error) {
	p := Partner{Name: strings.TrimSpace(req.Name), Email: strings.TrimSpace(req.Email), Status: StatusPending}
	if p.Name == "" {
		// As Dub does: without a name the partner is called by their e-mail.
		p.Name = p.Email
	}
	if p.Name == "" {
		return p, errs.Invalid("name or email is required")
	}
	if utf8.RuneCountInString(p.Name) > MaxName || strings.ContainsFunc(p.Name, isControl) {
		return p, errs.Invalid("name must be at most %d characters, without control characters", MaxName)
	}
	if err := ValidateEmail("email", p.Email); err != nil {
		return p, err
	}
	p.Email = strings.ToLower(p.Email)
	if req.Image != nil && *req.Image != "" {
		if err := shortlinks.ValidateURL("image", *req.Image); err != nil {
			return p, err
		}
		p.Image = req.Image
	}
	if req.Country != nil && *req.Country != "" {
		c := strings.ToUpper(*req.Country)
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			return p, errs.Invalid("country %q must be an ISO 3166-1 alpha-2 code such as US", truncate(*req.Country))
		}
		p.Country = &c
	}
	if req.Status != nil {
		switch *req.Status {
		case StatusPending, StatusApproved:
			p.Status = *req.Status
		default:
			return p, errs.Invalid("status %q must be pending or approved", truncate(*req.Status))
		}
	}
	if url := linkURL(req.URL, req.LinkProps); url != "" {
		if err := shortlinks.ValidateURL("url", url); err != nil {
			return p, err
		}
	}
	return p, nil
}

// ValidateEmail checks a plain address (no display name), at most 254 characters.
func ValidateEmail(field, email string) error {
	if email == "" {
		return errs.Invalid("%s is required", field)
	}
	if len(email) > MaxEmail {
		return errs.Invalid("%s must be at most %d characters", field, MaxEmail)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		return errs.Invalid("%s %q is not a valid e-mail address", field, truncate(email))
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
