// Package qrcodes owns QR codes: static codes that encode their content
// (a URL, a Wi-Fi network, a vCard …) and dynamic codes that encode their own
// short link, claimed in the key space shared with links, so they can be
// re-pointed and their scans counted. It also renders symbols (render.go).
//
// Every change and its qrcode.* event are written in one transaction; a change
// that changes nothing writes nothing and sends nothing.
//
// Behaviour worth knowing:
//   - A logo covers up to 20 % of the symbol's width, so a code with a logo is
//     stored and drawn with level Q at least (L and M are raised to Q; removing
//     the logo later keeps the level).
//   - A logo that cannot be fetched (guarded by netguard, 5 s, at most 1 MiB,
//     PNG/JPEG/GIF) is left out of the image and a warning is logged: the code
//     still scans.
//   - What a symbol encodes (Payload) is at most 2,000 bytes, the limit of the
//     public renderer, so every code's `image` URL works without a key.
//   - PATCH: an absent field keeps its value; null resets it to its default
//     (colours, size, level, margin, static, archived) or to null. Changing the
//     type drops the url or content that no longer applies; making a code static
//     releases its short key; making it dynamic claims one (random unless key is given).
//   - Bulk create and bulk update are all or nothing (one transaction; the
//     error names the failing item as "item N"). Bulk delete skips ids that name
//     no code of the project and reports deletedCount.
package qrcodes

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/cache"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/netguard"
	"github.com/codeqr/codeqr/internal/shortlinks"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
)

// QRCode is the QR code object of the API and of qrcode.* events
// (docs/webhooks.md); field names are wire names.
type QRCode struct {
	ID          string          `json:"id"`
	Type        Type            `json:"type"`
	Static      bool            `json:"static"`
	URL         *string         `json:"url"`
	Content     json.RawMessage `json:"content"`
	Domain      *string         `json:"domain"`
	Key         *string         `json:"key"`
	ShortLink   *string         `json:"shortLink"`
	Image       string          `json:"image"`
	FgColor     string          `json:"fgColor"`
	BgColor     string          `json:"bgColor"`
	Size        int             `json:"size"`
	Level       string          `json:"level"`
	Margin      int             `json:"margin"`
	Logo        *string         `json:"logo"`
	Title       *string         `json:"title"`
	Description *string         `json:"description"`
	ExternalID  *string         `json:"externalId"`
	Archived    bool            `json:"archived"`
	Tags        []tags.Tag      `json:"tags"`
	Comments    *string         `json:"comments"`
	Scans       int64           `json:"scans"`
	LastScanned *time.Time      `json:"lastScanned"`
	Leads       int64           `json:"leads"`
	Sales       int64           `json:"sales"`
	SaleAmount  int64           `json:"saleAmount"`
	ProjectID   string          `json:"projectId"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
}

// Design is how q is drawn.
func (q QRCode) Design() Design {
	return Design{FgColor: q.FgColor, BgColor: q.BgColor, Size: q.Size, Level: q.Level, Margin: q.Margin, Logo: q.Logo}
}

// Input is the body of create, update (PATCH), upsert and the data of a bulk
// update. Absent fields keep their value (or take the default on create);
// null resets a field to its default, or to null where it has none.
type Input struct {
	Type        Optional[Type]            `json:"type"`
	Static      Optional[bool]            `json:"static"`
	URL         Optional[string]          `json:"url"`
	Content     Optional[json.RawMessage] `json:"content"`
	Domain      Optional[string]          `json:"domain"`
	Key         Optional[string]          `json:"key"`
	FgColor     Optional[string]          `json:"fgColor"`
	BgColor     Optional[string]          `json:"bgColor"`
	Size        Optional[int]             `json:"size"`
	Level       Optional[string]          `json:"level"`
	Margin      Optional[int]             `json:"margin"`
	Logo        Optional[string]          `json:"logo"`
	Title       Optional[string]          `json:"title"`
	Description Optional[string]          `json:"description"`
	ExternalID  Optional[string]          `json:"externalId"`
	Archived    Optional[bool]            `json:"archived"`
	TagIDs      Optional[[]string]        `json:"tagIds"`
	TagNames    Optional[[]string]        `json:"tagNames"`
	Comments    Optional[string]          `json:"comments"`
}

// BulkUpdateRequest is the body of PATCH /api/qrcodes/bulk.
type BulkUpdateRequest struct {
	QRCodeIDs []string `json:"qrcodeIds"`
	Data      Input    `json:"data"`
}

// ListFilter narrows List. Zero values mean "any".
type ListFilter struct {
	Type     Type
	TagID    string
	Archived *bool
	Search   string
	Page     int // 1-based
	PageSize int
}

// InfoQuery names one code: by id, by external id, or by domain and key.
type InfoQuery struct {
	QRCodeID   string
	ExternalID string
	Domain     string
	Key        string
}

// MaxBulk is the most items one bulk request may carry.
const MaxBulk = 100

// Service reads and writes QR codes.
type Service struct {
	st         *store.Store
	ev         *events.Writer
	tg         *tags.Service
	cfg        config.Config
	now        func() time.Time
	logger     *slog.Logger
	logoClient *http.Client
	logoGuard  netguard.Options
	inv        cache.Invalidator
}

// NewService returns a Service. Logos are fetched through netguard with the
// same reachability rules as webhook destinations. Every committed change is
// told to inv (the process's cache.Bus; nil for none), the move of a key
// included: caches also forget by id. logger gets render warnings (nil:
// slog.Default()).
func NewService(st *store.Store, ev *events.Writer, tg *tags.Service, cfg config.Config, inv cache.Invalidator, logger *slog.Logger) *Service {
	if inv == nil {
		inv = cache.Nop{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	logoGuard := netguard.Options{AllowHTTP: cfg.WebhooksAllowHTTP, AllowPrivate: cfg.WebhooksAllowPrivate}
	return &Service{
		st: st, ev: ev, tg: tg, cfg: cfg,
		now:        time.Now,
		logger:     logger,
		inv:        inv,
		logoGuard:  logoGuard,
		logoClient: netguard.Client(logoGuard, 5*time.Second),
	}
}

// draft is the full editable state of a code while a request is applied.
type draft struct {
	Type        Type
	Static      bool
	URL         *string
	Content     json.RawMessage
	Domain      *string
	Key         *string
	Design      Design
	Title       *string
	Description *string
	ExternalID  *string
	Archived    bool
	Comments    *string
}

func newDraft() draft { return draft{Type: TypeURL, Design: DefaultDesign()} }

func draftOf(q QRCode) draft {
	return draft{Type: q.Type, Static: q.Static, URL: q.URL, Content: q.Content, Domain: q.Domain, Key: q.Key,
		Design: q.Design(), Title: q.Title, Description: q.Description, ExternalID: q.ExternalID,
		Archived: q.Archived, Comments: q.Comments}
}

func optString(o Optional[string], dst **string) {
	if !o.Set {
		return
	}
	if o.Null {
		*dst = nil
		return
	}
	v := o.Value
	*dst = &v
}

func optValue[T any](o Optional[T], dst *T, def T) {
	if !o.Set {
		return
	}
	if o.Null {
		*dst = def
		return
	}
	*dst = o.Value
}

// apply overlays in on d and checks every field on its own. Fields that stop
// making sense after a type or static change (a url on a text code, a key on a
// static code) are dropped unless the request names them explicitly.
func (d *draft) apply(in Input) error {
	if in.Type.Set && in.Type.Null {
		return errs.Invalid("type must not be null")
	}
	def := DefaultDesign()
	optValue(in.Type, &d.Type, TypeURL)
	optValue(in.Static, &d.Static, false)
	optString(in.URL, &d.URL)
	if in.Content.Set {
		d.Content = in.Content.Value
		if in.Content.Null {
			d.Content = nil
		}
	}
	optString(in.Domain, &d.Domain)
	optString(in.Key, &d.Key)
	optValue(in.FgColor, &d.Design.FgColor, def.FgColor)
	optValue(in.BgColor, &d.Design.BgColor, def.BgColor)
	optValue(in.Size, &d.Design.Size, def.Size)
	optValue(in.Level, &d.Design.Level, def.Level)
	optValue(in.Margin, &d.Design.Margin, def.Margin)
	optString(in.Logo, &d.Design.Logo)
	optString(in.Title, &d.Title)
	optString(in.Description, &d.Description)
	optString(in.ExternalID, &d.ExternalID)
	optValue(in.Archived, &d.Archived, false)
	optString(in.Comments, &d.Comments)

	if !d.Type.Valid() {
		return errs.Invalid("type must be one of url, text, email, phone, sms, wifi, vcard, whatsapp, geo")
	}
	if d.Type == TypeURL {
		if d.Content != nil && !in.Content.Has() {
			d.Content = nil
		}
		if d.Content != nil {
			return errs.Invalid("content is not used by url codes; set url")
		}
		if d.URL == nil {
			return errs.Invalid("url is required for url codes")
		}
		if err := shortlinks.ValidateURL("url", *d.URL); err != nil {
			return err
		}
	} else {
		if d.URL != nil && !in.URL.Has() {
			d.URL = nil
		}
		if d.URL != nil {
			return errs.Invalid("url is only for url codes; %s codes take content", d.Type)
		}
		c, err := normalizeContent(d.Type, d.Content)
		if err != nil {
			return err
		}
		d.Content = c
	}
	if d.Static {
		if (d.Domain != nil && in.Domain.Has()) || (d.Key != nil && in.Key.Has()) {
			return errs.Invalid("static codes have no short link: domain and key must be null")
		}
		d.Domain, d.Key = nil, nil
	} else if d.Key != nil {
		if err := shortlinks.ValidateKey(*d.Key); err != nil {
			return err
		}
	}
	if d.Design.Logo != nil && *d.Design.Logo == "" {
		d.Design.Logo = nil
	}
	var err error
	if d.Design, err = d.Design.Normalize(); err != nil {
		return err
	}
	if d.ExternalID != nil && *d.ExternalID == "" {
		d.ExternalID = nil
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"title", d.Title, 190}, {"description", d.Description, 1000}, {"externalId", d.ExternalID, 255}, {"comments", d.Comments, 2000}} {
		if f.v != nil {
			if err := checkLen(f.name, *f.v, 0, f.max); err != nil {
				return err
			}
		}
	}
	return checkTagLists(in)
}

func checkTagLists(in Input) error {
	if len(in.TagIDs.Value)+len(in.TagNames.Value) > 50 {
		return errs.Invalid("a QR code may carry at most 50 tags")
	}
	return nil
}

// toQRCode completes a draft into the wire object.
func (s *Service) toQRCode(d draft, id, projectID string, tg []tags.Tag, created, updated time.Time) QRCode {
	if tg == nil {
		tg = []tags.Tag{}
	}
	q := QRCode{
		ID: id, Type: d.Type, Static: d.Static, URL: d.URL, Content: d.Content, Domain: d.Domain, Key: d.Key,
		FgColor: d.Design.FgColor, BgColor: d.Design.BgColor, Size: d.Design.Size, Level: d.Design.Level,
		Margin: d.Design.Margin, Logo: d.Design.Logo, Title: d.Title, Description: d.Description,
		ExternalID: d.ExternalID, Archived: d.Archived, Tags: tg, Comments: d.Comments,
		ProjectID: projectID, CreatedAt: created, UpdatedAt: updated,
	}
	s.derive(&q)
	return q
}

// derive fills the fields computed from others: shortLink and image.
func (s *Service) derive(q *QRCode) {
	q.ShortLink = nil
	if !q.Static && q.Domain != nil && q.Key != nil {
		sl := shortlinks.ShortLink(s.cfg, *q.Domain, *q.Key)
		q.ShortLink = &sl
	}
	q.Image = ImageURL(s.cfg.BaseURL, Payload(*q), q.Design())
}

// checkRenderable makes sure the symbol fits: the payload within what a QR
// code holds at its level, and the modules within the pixel size.
func checkRenderable(q QRCode) error {
	m, err := Matrix(Payload(q), q.Level)
	if err != nil {
		return err
	}
	_, err = computeLayout(len(m), q.Design())
	return err
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

const columns = `id, project_id, type, static, url, content, domain, key, fg_color, bg_color, size, level, margin, logo,
title, description, external_id, archived, comments, scans, last_scanned, leads, sales, sale_amount, created_at, updated_at`

func (s *Service) scan(row interface{ Scan(...any) error }) (QRCode, error) {
	var (
		q                                                          QRCode
		url, content, domain, key, logo, title, desc, ext, comment sql.NullString
		lastScanned                                                sql.NullInt64
		created, updated                                           int64
	)
	err := row.Scan(&q.ID, &q.ProjectID, &q.Type, &q.Static, &url, &content, &domain, &key, &q.FgColor, &q.BgColor,
		&q.Size, &q.Level, &q.Margin, &logo, &title, &desc, &ext, &q.Archived, &comment, &q.Scans, &lastScanned,
		&q.Leads, &q.Sales, &q.SaleAmount, &created, &updated)
	if err != nil {
		return q, fmt.Errorf("qrcodes: scan: %w", err)
	}
	q.URL, q.Domain, q.Key, q.Logo = store.NullString(url), store.NullString(domain), store.NullString(key), store.NullString(logo)
	q.Title, q.Description, q.ExternalID, q.Comments = store.NullString(title), store.NullString(desc), store.NullString(ext), store.NullString(comment)
	if content.Valid {
		q.Content = json.RawMessage(content.String)
	}
	q.LastScanned = store.NullMillis(lastScanned)
	q.CreatedAt, q.UpdatedAt = store.FromMillis(created), store.FromMillis(updated)
	q.Tags = []tags.Tag{}
	s.derive(&q)
	return q, nil
}

func (s *Service) loadTags(ctx context.Context, db store.Querier, qs []QRCode) error {
	idList := make([]string, len(qs))
	for i, q := range qs {
		idList[i] = q.ID
	}
	m, err := tags.ForResources(ctx, db, "qrcode_tags", idList)
	if err != nil {
		return err
	}
	for i := range qs {
		if t := m[qs[i].ID]; t != nil {
			qs[i].Tags = t
		}
	}
	return nil
}

func (s *Service) load(ctx context.Context, db store.Querier, projectID, id string) (QRCode, error) {
	q, err := s.scan(db.QueryRowContext(ctx, "SELECT "+columns+" FROM qrcodes WHERE id = $1 AND project_id = $2", id, projectID))
	if errors.Is(err, store.ErrNotFound) {
		return q, errs.NotFound("QR code %s not found", truncate(id))
	}
	if err != nil {
		return q, err
	}
	one := []QRCode{q}
	if err := s.loadTags(ctx, db, one); err != nil {
		return q, err
	}
	return one[0], nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Get returns one code of the project.
func (s *Service) Get(ctx context.Context, projectID, id string) (QRCode, error) {
	return s.load(ctx, s.st.Read(), projectID, id)
}

// GetIn returns one code of the project as q sees it (e.g. inside another
// package's transaction).
func (s *Service) GetIn(ctx context.Context, q store.Querier, projectID, id string) (QRCode, error) {
	return s.load(ctx, q, projectID, id)
}

// Info finds a code by id, by external id, or by domain and key.
func (s *Service) Info(ctx context.Context, projectID string, q InfoQuery) (QRCode, error) {
	db := s.st.Read()
	switch {
	case q.QRCodeID != "":
		return s.load(ctx, db, projectID, q.QRCodeID)
	case q.ExternalID != "":
		return s.loadBy(ctx, db, projectID, "external_id = $2", q.ExternalID)
	case q.Key != "":
		domain := q.Domain
		if domain == "" {
			domain = s.cfg.BaseDomain()
		}
		return s.loadBy(ctx, db, projectID, "static = FALSE AND LOWER(domain) = LOWER($2) AND key = $3", domain, q.Key)
	}
	return QRCode{}, errs.BadInput("give qrcodeId, externalId, or domain and key")
}

func (s *Service) loadBy(ctx context.Context, db store.Querier, projectID, where string, args ...any) (QRCode, error) {
	var id string
	err := db.QueryRowContext(ctx, "SELECT id FROM qrcodes WHERE project_id = $1 AND "+where, append([]any{projectID}, args...)...).Scan(&id)
	if errors.Is(err, store.ErrNotFound) {
		return QRCode{}, errs.NotFound("QR code not found")
	}
	if err != nil {
		return QRCode{}, fmt.Errorf("qrcodes: find: %w", err)
	}
	return s.load(ctx, db, projectID, id)
}

// List returns the project's codes, newest first.
func (s *Service) List(ctx context.Context, projectID string, f ListFilter) ([]QRCode, error) {
	where := []string{"project_id = $1"}
	args := []any{projectID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Type != "" {
		if !f.Type.Valid() {
			return nil, errs.BadInput("type must be one of url, text, email, phone, sms, wifi, vcard, whatsapp, geo")
		}
		where = append(where, "type = "+arg(string(f.Type)))
	}
	if f.TagID != "" {
		where = append(where, "EXISTS (SELECT 1 FROM qrcode_tags qt WHERE qt.qrcode_id = qrcodes.id AND qt.tag_id = "+arg(f.TagID)+")")
	}
	if f.Archived != nil {
		where = append(where, "archived = "+arg(*f.Archived))
	}
	if f.Search != "" {
		p := arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Search)) + "%")
		var ors []string
		for _, c := range []string{"title", "description", "url", "key", "external_id"} {
			ors = append(ors, "LOWER(COALESCE("+c+", '')) LIKE "+p+` ESCAPE '\'`)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if f.PageSize <= 0 {
		f.PageSize = 50
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	query := "SELECT " + columns + " FROM qrcodes WHERE " + strings.Join(where, " AND ") +
		" ORDER BY id DESC LIMIT " + arg(f.PageSize) + " OFFSET " + arg((f.Page-1)*f.PageSize)
	rows, err := s.st.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("qrcodes: list: %w", err)
	}
	out := []QRCode{}
	for rows.Next() {
		q, err := s.scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("qrcodes: list: %w", err)
	}
	return out, s.loadTags(ctx, s.st.Read(), out)
}

// Create makes a code and emits qrcode.created.
func (s *Service) Create(ctx context.Context, projectID string, in Input) (QRCode, error) {
	var q QRCode
	err := s.st.InTx(ctx, func(tx *store.Tx) (err error) {
		q, err = s.createTx(ctx, tx, projectID, in)
		return err
	})
	return q, err
}

func (s *Service) resolveTags(ctx context.Context, tx *store.Tx, projectID string, in Input) ([]tags.Tag, error) {
	t, err := s.tg.Resolve(ctx, tx, projectID, in.TagIDs.Value, in.TagNames.Value)
	if t == nil {
		t = []tags.Tag{}
	}
	return t, err
}

func (s *Service) createTx(ctx context.Context, tx *store.Tx, projectID string, in Input) (QRCode, error) {
	d := newDraft()
	if err := d.apply(in); err != nil {
		return QRCode{}, err
	}
	id := ids.New("qr")
	if err := s.claim(ctx, tx, projectID, id, &d, nil); err != nil {
		return QRCode{}, err
	}
	tg, err := s.resolveTags(ctx, tx, projectID, in)
	if err != nil {
		return QRCode{}, err
	}
	now := s.clock()
	q := s.toQRCode(d, id, projectID, tg, now, now)
	if err := checkRenderable(q); err != nil {
		return QRCode{}, err
	}
	if err := s.insert(ctx, tx, q); err != nil {
		return QRCode{}, err
	}
	if err := s.writeTags(ctx, tx, q.ID, q.Tags, false); err != nil {
		return QRCode{}, err
	}
	return q, s.emit(ctx, tx, events.QRCodeCreated, q)
}

// claim takes the short key of a dynamic draft, moving or releasing the key
// old held. A dynamic draft without a key gets a random one.
func (s *Service) claim(ctx context.Context, tx *store.Tx, projectID, id string, d *draft, old *QRCode) error {
	oldHas := old != nil && !old.Static && old.Domain != nil && old.Key != nil
	if d.Static {
		if oldHas {
			return shortlinks.Release(ctx, tx, *old.Domain, *old.Key)
		}
		return nil
	}
	if d.Domain == nil {
		bd := s.cfg.BaseDomain()
		d.Domain = &bd
	}
	dom := strings.ToLower(*d.Domain)
	d.Domain = &dom
	if err := shortlinks.CheckDomain(ctx, tx, s.cfg, projectID, dom); err != nil {
		return err
	}
	if oldHas && d.Key != nil && *old.Domain == dom && *old.Key == *d.Key {
		return nil // unchanged
	}
	if oldHas {
		if err := shortlinks.Release(ctx, tx, *old.Domain, *old.Key); err != nil {
			return err
		}
	}
	if d.Key == nil {
		k, err := shortlinks.ClaimRandom(ctx, tx, s.st.Dialect(), dom, projectID, shortlinks.KindQRCode, id)
		if err != nil {
			return err
		}
		d.Key = &k
		return nil
	}
	return shortlinks.Claim(ctx, tx, s.st.Dialect(), dom, *d.Key, projectID, shortlinks.KindQRCode, id)
}

func (s *Service) insert(ctx context.Context, tx *store.Tx, q QRCode) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO qrcodes ("+columns+`) VALUES
($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`,
		q.ID, q.ProjectID, string(q.Type), q.Static, store.StringOrNil(q.URL), contentArg(q.Content),
		store.StringOrNil(q.Domain), store.StringOrNil(q.Key), q.FgColor, q.BgColor, q.Size, q.Level, q.Margin,
		store.StringOrNil(q.Logo), store.StringOrNil(q.Title), store.StringOrNil(q.Description),
		store.StringOrNil(q.ExternalID), q.Archived, store.StringOrNil(q.Comments), q.Scans,
		store.MillisOrNil(q.LastScanned), q.Leads, q.Sales, q.SaleAmount, store.Millis(q.CreatedAt), store.Millis(q.UpdatedAt))
	return s.writeErr(err, q)
}

func (s *Service) writeErr(err error, q QRCode) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrUniqueViolation) && q.ExternalID != nil {
		return errs.Conflict("externalId %q is already used by another QR code", truncate(*q.ExternalID))
	}
	return fmt.Errorf("qrcodes: write %s: %w", q.ID, err)
}

func contentArg(c json.RawMessage) any {
	if c == nil {
		return nil
	}
	return string(c)
}

func (s *Service) writeTags(ctx context.Context, tx *store.Tx, id string, tg []tags.Tag, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, "DELETE FROM qrcode_tags WHERE qrcode_id = $1", id); err != nil {
			return fmt.Errorf("qrcodes: clear tags: %w", err)
		}
	}
	for _, t := range tg {
		if _, err := tx.ExecContext(ctx, "INSERT INTO qrcode_tags (qrcode_id, tag_id) VALUES ($1, $2)", id, t.ID); err != nil {
			return fmt.Errorf("qrcodes: tag: %w", err)
		}
	}
	return nil
}

func (s *Service) emit(ctx context.Context, tx *store.Tx, t events.Type, q QRCode) error {
	_, err := s.ev.Emit(ctx, tx, events.Event{ProjectID: q.ProjectID, Type: t, Data: map[string]any{"qrcode": q}})
	var domain, key string
	if q.Domain != nil && q.Key != nil {
		domain, key = *q.Domain, *q.Key
	}
	inv := s.inv
	tx.AfterCommit(func() { inv.Invalidate(q.ID, domain, key) })
	return err
}

// Update applies a PATCH and emits qrcode.updated unless nothing changed.
func (s *Service) Update(ctx context.Context, projectID, id string, in Input) (QRCode, error) {
	var q QRCode
	err := s.st.InTx(ctx, func(tx *store.Tx) (err error) {
		q, err = s.updateTx(ctx, tx, projectID, id, in)
		return err
	})
	return q, err
}

func (s *Service) updateTx(ctx context.Context, tx *store.Tx, projectID, id string, in Input) (QRCode, error) {
	old, err := s.load(ctx, tx, projectID, id)
	if err != nil {
		return QRCode{}, err
	}
	d := draftOf(old)
	if err := d.apply(in); err != nil {
		return QRCode{}, err
	}
	if err := s.claim(ctx, tx, projectID, id, &d, &old); err != nil {
		return QRCode{}, err
	}
	tg := old.Tags
	if in.TagIDs.Set || in.TagNames.Set {
		if tg, err = s.resolveTags(ctx, tx, projectID, in); err != nil {
			return QRCode{}, err
		}
	}
	q := s.toQRCode(d, id, projectID, tg, old.CreatedAt, old.UpdatedAt)
	q.Scans, q.LastScanned, q.Leads, q.Sales, q.SaleAmount = old.Scans, old.LastScanned, old.Leads, old.Sales, old.SaleAmount
	if same(old, q) {
		return old, nil
	}
	q.UpdatedAt = s.clock()
	if err := checkRenderable(q); err != nil {
		return QRCode{}, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE qrcodes SET type = $1, static = $2, url = $3, content = $4, domain = $5, key = $6,
fg_color = $7, bg_color = $8, size = $9, level = $10, margin = $11, logo = $12, title = $13, description = $14,
external_id = $15, archived = $16, comments = $17, updated_at = $18 WHERE id = $19 AND project_id = $20`,
		string(q.Type), q.Static, store.StringOrNil(q.URL), contentArg(q.Content), store.StringOrNil(q.Domain),
		store.StringOrNil(q.Key), q.FgColor, q.BgColor, q.Size, q.Level, q.Margin, store.StringOrNil(q.Logo),
		store.StringOrNil(q.Title), store.StringOrNil(q.Description), store.StringOrNil(q.ExternalID), q.Archived,
		store.StringOrNil(q.Comments), store.Millis(q.UpdatedAt), id, projectID)
	if err := s.writeErr(err, q); err != nil {
		return QRCode{}, err
	}
	if !sameTags(old.Tags, q.Tags) {
		if err := s.writeTags(ctx, tx, id, q.Tags, true); err != nil {
			return QRCode{}, err
		}
	}
	return q, s.emit(ctx, tx, events.QRCodeUpdated, q)
}

// same reports whether two versions of a code are equal in everything but updatedAt.
func same(a, b QRCode) bool {
	b.UpdatedAt = a.UpdatedAt
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func sameTags(a, b []tags.Tag) bool {
	return slices.EqualFunc(a, b, func(x, y tags.Tag) bool { return x.ID == y.ID })
}

// Delete removes a code, frees its short key and emits qrcode.deleted with
// the code as it was.
func (s *Service) Delete(ctx context.Context, projectID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		old, err := s.load(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		return s.deleteTx(ctx, tx, old)
	})
}

func (s *Service) deleteTx(ctx context.Context, tx *store.Tx, old QRCode) error {
	if !old.Static && old.Domain != nil && old.Key != nil {
		if err := shortlinks.Release(ctx, tx, *old.Domain, *old.Key); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM qrcode_tags WHERE qrcode_id = $1", old.ID); err != nil {
		return fmt.Errorf("qrcodes: delete tags: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM qrcodes WHERE id = $1 AND project_id = $2", old.ID, old.ProjectID); err != nil {
		return fmt.Errorf("qrcodes: delete: %w", err)
	}
	if err := events.ForgetResource(ctx, tx, old.ID); err != nil {
		return err
	}
	return s.emit(ctx, tx, events.QRCodeDeleted, old)
}

// Upsert updates the code with the same externalId (or, without one, the same
// domain and key) or creates one. created tells which (201 or 200).
func (s *Service) Upsert(ctx context.Context, projectID string, in Input) (q QRCode, created bool, err error) {
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		id, err := s.match(ctx, tx, projectID, in)
		if err != nil {
			return err
		}
		if id == "" {
			created = true
			q, err = s.createTx(ctx, tx, projectID, in)
			return err
		}
		created = false
		q, err = s.updateTx(ctx, tx, projectID, id, in)
		return err
	})
	return q, created, err
}

func (s *Service) match(ctx context.Context, tx *store.Tx, projectID string, in Input) (string, error) {
	var id string
	var err error
	switch {
	case in.ExternalID.Has() && in.ExternalID.Value != "":
		err = tx.QueryRowContext(ctx, "SELECT id FROM qrcodes WHERE project_id = $1 AND external_id = $2", projectID, in.ExternalID.Value).Scan(&id)
	case in.Key.Has():
		domain := s.cfg.BaseDomain()
		if in.Domain.Has() {
			domain = in.Domain.Value
		}
		err = tx.QueryRowContext(ctx, "SELECT resource_id FROM short_keys WHERE domain = $1 AND key = $2 AND project_id = $3 AND kind = $4",
			strings.ToLower(domain), in.Key.Value, projectID, shortlinks.KindQRCode).Scan(&id)
	default:
		return "", nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("qrcodes: upsert match: %w", err)
	}
	return id, nil
}

// atIndex names the bulk item an error belongs to, keeping its kind.
func atIndex(i int, err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return &errs.Error{Kind: e.Kind, Message: fmt.Sprintf("item %d: %s", i, e.Message)}
	}
	return fmt.Errorf("item %d: %w", i, err)
}

func checkBulkSize(n int) error {
	if n == 0 {
		return errs.Invalid("give at least one item")
	}
	if n > MaxBulk {
		return errs.Invalid("at most %d items per request (got %d)", MaxBulk, n)
	}
	return nil
}

// BulkCreate creates up to MaxBulk codes in one transaction: all or none.
func (s *Service) BulkCreate(ctx context.Context, projectID string, in []Input) ([]QRCode, error) {
	if err := checkBulkSize(len(in)); err != nil {
		return nil, err
	}
	var out []QRCode
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		out = make([]QRCode, 0, len(in))
		for i, item := range in {
			q, err := s.createTx(ctx, tx, projectID, item)
			if err != nil {
				return atIndex(i, err)
			}
			out = append(out, q)
		}
		return nil
	})
	return out, err
}

// BulkUpdate applies one change to up to MaxBulk codes in one transaction:
// all or none. key and externalId, unique per code, cannot be bulk-set.
func (s *Service) BulkUpdate(ctx context.Context, projectID string, req BulkUpdateRequest) ([]QRCode, error) {
	if err := checkBulkSize(len(req.QRCodeIDs)); err != nil {
		return nil, err
	}
	if req.Data.Key.Set || req.Data.ExternalID.Set {
		return nil, errs.Invalid("key and externalId cannot be set in a bulk update")
	}
	var out []QRCode
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		out = make([]QRCode, 0, len(req.QRCodeIDs))
		seen := map[string]bool{}
		for i, id := range req.QRCodeIDs {
			if seen[id] {
				return errs.Invalid("item %d: %s is listed twice", i, truncate(id))
			}
			seen[id] = true
			q, err := s.updateTx(ctx, tx, projectID, id, req.Data)
			if err != nil {
				return atIndex(i, err)
			}
			out = append(out, q)
		}
		return nil
	})
	return out, err
}

// BulkDelete deletes up to MaxBulk codes in one transaction and returns how
// many were deleted; ids that name no code of the project are skipped.
func (s *Service) BulkDelete(ctx context.Context, projectID string, qrcodeIDs []string) (int, error) {
	if err := checkBulkSize(len(qrcodeIDs)); err != nil {
		return 0, err
	}
	var n int
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		seen := map[string]bool{}
		for _, id := range qrcodeIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			old, err := s.load(ctx, tx, projectID, id)
			if errs.KindOf(err) == errs.KindNotFound {
				continue
			}
			if err != nil {
				return err
			}
			if err := s.deleteTx(ctx, tx, old); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Image renders the code's symbol.
func (s *Service) Image(ctx context.Context, projectID, id string, f Format) ([]byte, error) {
	q, err := s.Get(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	return s.Render(ctx, Payload(q), q.Design(), f)
}
