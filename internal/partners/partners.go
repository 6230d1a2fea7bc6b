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
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
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
type Detail struct {
	Partner
	Clicks     int64         `json:"clicks"`
	Leads      int64         `json:"leads"`
	Sales      int64         `json:"sales"`
	SaleAmount int64         `json:"saleAmount"`
	Links      []LinkSummary `json:"links"`
}

// Enrolled is the data of partner.enrolled.
type Enrolled struct {
	Partner Partner       `json:"partner"`
	Links   []LinkSummary `json:"links"`
}

// CreateRequest is the body of POST /api/partners. URL is the destination of
// the default referral link; LinkKey its key (default: from the name).
type CreateRequest struct {
	Name    string  `json:"name"`
	Email   string  `json:"email"`
	Image   *string `json:"image"`
	Country *string `json:"country"`
	Status  *string `json:"status"`
	LinkKey *string `json:"linkKey"`
	URL     string  `json:"url"`
}

// LinkRequest is the body of POST /api/partners/{id}/links.
type LinkRequest struct {
	URL    string  `json:"url"`
	Key    *string `json:"key"`
	Domain *string `json:"domain"`
}

// ListOptions page List.
type ListOptions struct {
	Page, PageSize int
	Status         string // "" for all
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
// created approved, emits partner.enrolled — all in one transaction.
func (s *Service) Create(ctx context.Context, projectID string, req CreateRequest) (Detail, error) {
	p, err := validateCreate(req)
	if err != nil {
		return Detail{}, err
	}
	var out Detail
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		now := s.nowMs()
		p.ID, p.ProgramID, p.CreatedAt = ids.New("pn"), ProgramID(projectID), now
		var enrolledAt any
		if p.Status == StatusApproved {
			enrolledAt = store.Millis(now)
		}
		var taken int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM partners WHERE project_id = $1 AND email = $2", projectID, p.Email).Scan(&taken)
		if err == nil {
			return errs.Conflict("a partner with email %q is already enrolled in this program", p.Email)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("partners: check email: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO partners (id, project_id, name, email, image, country, status, enrolled_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			p.ID, projectID, p.Name, p.Email, store.StringOrNil(p.Image), store.StringOrNil(p.Country), p.Status, enrolledAt, store.Millis(now)); err != nil {
			if errors.Is(err, store.ErrUniqueViolation) {
				return errs.Conflict("a partner with email %q is already enrolled in this program", p.Email)
			}
			return fmt.Errorf("partners: insert: %w", err)
		}
		l, err := s.createLink(ctx, tx, projectID, p, LinkRequest{URL: req.URL, Key: req.LinkKey}, "linkKey")
		if err != nil {
			return err
		}
		sums := []LinkSummary{s.summary(l)}
		if p.Status == StatusApproved {
			if err := s.emitEnrolled(ctx, tx, projectID, p, sums); err != nil {
				return err
			}
		}
		out = detail(p, sums)
		return nil
	})
	if err != nil {
		return Detail{}, err
	}
	return out, nil
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
		p, err := s.get(ctx, tx, projectID, id)
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
		out = detail(p, sums[id])
		return nil
	})
	if err != nil {
		return Detail{}, err
	}
	return out, nil
}

// AddLink creates another referral link for a partner (link.created only).
func (s *Service) AddLink(ctx context.Context, projectID, id string, req LinkRequest) (LinkSummary, error) {
	if err := shortlinks.ValidateURL("url", req.URL); err != nil {
		return LinkSummary{}, err
	}
	var out LinkSummary
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.get(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		l, err := s.createLink(ctx, tx, projectID, p, req, "key")
		if err != nil {
			return err
		}
		out = s.summary(l)
		return nil
	})
	if err != nil {
		return LinkSummary{}, err
	}
	return out, nil
}

// Get returns one partner of the project with totals and links.
func (s *Service) Get(ctx context.Context, projectID, id string) (Detail, error) {
	q := s.st.Read()
	p, err := s.get(ctx, q, projectID, id)
	if err != nil {
		return Detail{}, err
	}
	sums, err := s.linksOf(ctx, q, projectID, []string{id})
	if err != nil {
		return Detail{}, err
	}
	return detail(p, sums[id]), nil
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
	if o.Status != "" {
		q += " AND status = $2"
		args = append(args, o.Status)
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d OFFSET %d", o.PageSize, (o.Page-1)*o.PageSize)
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("partners: list: %w", err)
	}
	var ps []Partner
	for rows.Next() {
		p, err := scan(rows, projectID)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ps = append(ps, p)
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
	for _, p := range ps {
		out = append(out, detail(p, sums[p.ID]))
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
	lr := links.CreateRequest{URL: req.URL, Domain: req.Domain, PartnerID: &p.ID}
	if req.Key != nil && *req.Key != "" {
		if err := shortlinks.ValidateKey(*req.Key); err != nil {
			return links.Link{}, errs.Invalid("%s: %v", keyField, err)
		}
		lr.Key = req.Key
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

func detail(p Partner, sums []LinkSummary) Detail {
	d := Detail{Partner: p, Links: sums}
	if d.Links == nil {
		d.Links = []LinkSummary{}
	}
	for _, l := range d.Links {
		d.Clicks += l.Clicks
		d.Leads += l.Leads
		d.Sales += l.Sales
		d.SaleAmount += l.SaleAmount
	}
	return d
}

const columns = "id, name, email, image, country, status, created_at"

type scanner interface{ Scan(...any) error }

func scan(row scanner, projectID string) (Partner, error) {
	var (
		p              Partner
		image, country sql.NullString
		created        int64
	)
	if err := row.Scan(&p.ID, &p.Name, &p.Email, &image, &country, &p.Status, &created); err != nil {
		return Partner{}, fmt.Errorf("partners: scan: %w", err)
	}
	p.Image, p.Country = store.NullString(image), store.NullString(country)
	p.CreatedAt, p.ProgramID = store.FromMillis(created), ProgramID(projectID)
	return p, nil
}

func (s *Service) get(ctx context.Context, q store.Querier, projectID, id string) (Partner, error) {
	p, err := scan(q.QueryRowContext(ctx, "SELECT "+columns+" FROM partners WHERE id = $1 AND project_id = $2", id, projectID), projectID)
	if errors.Is(err, store.ErrNotFound) {
		return Partner{}, errs.NotFound("partner %s not found", truncate(id))
	}
	return p, err
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

// validateCreate checks and normalises a CreateRequest into a Partner.
func validateCreate(req CreateRequest) (Partner, error) {
	p := Partner{Name: strings.TrimSpace(req.Name), Email: strings.TrimSpace(req.Email), Status: StatusPending}
	if p.Name == "" {
		return p, errs.Invalid("name is required")
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
	if err := shortlinks.ValidateURL("url", req.URL); err != nil {
		return p, err
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
