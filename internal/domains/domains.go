// Package domains owns the custom short-link domains a project adds beside the
// server's base domain. A domain belongs to one project on the whole server,
// and cannot be removed while links or QR codes still use it.
package domains

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/patch"
	"github.com/codeqr/codeqr/internal/shortlinks"
	"github.com/codeqr/codeqr/internal/store"
)

// Domain is the wire shape, Dub's Domain object. codeqr needs no DNS
// verification (a domain answers as soon as it points at the server), so
// verified is always true; primary is false (the server's base domain is the
// primary one); registeredDomain, assetLinks and appleAppSiteAssociation are
// always null (codeqr neither registers domains nor serves those files).
type Domain struct {
	ID                      string    `json:"id"`
	Slug                    string    `json:"slug"`
	Verified                bool      `json:"verified"`
	Primary                 bool      `json:"primary"`
	Archived                bool      `json:"archived"`
	Placeholder             *string   `json:"placeholder"`
	ExpiredURL              *string   `json:"expiredUrl"`
	NotFoundURL             *string   `json:"notFoundUrl"`
	Logo                    *string   `json:"logo"`
	AssetLinks              *string   `json:"assetLinks"`
	AppleAppSiteAssociation *string   `json:"appleAppSiteAssociation"`
	RegisteredDomain        *struct{} `json:"registeredDomain"`
	CreatedAt               time.Time `json:"createdAt"`
	UpdatedAt               time.Time `json:"updatedAt"`
}

// CreateRequest is the body of POST /api/domains. assetLinks and
// appleAppSiteAssociation are accepted only as null: codeqr does not serve
// them.
type CreateRequest struct {
	Slug                    string  `json:"slug"`
	ExpiredURL              *string `json:"expiredUrl"`
	NotFoundURL             *string `json:"notFoundUrl"`
	Archived                *bool   `json:"archived"`
	Placeholder             *string `json:"placeholder"`
	Logo                    *string `json:"logo"`
	AssetLinks              *string `json:"assetLinks"`
	AppleAppSiteAssociation *string `json:"appleAppSiteAssociation"`
}

// UpdateRequest is the body of PATCH /api/domains/{slug}: absent leaves a
// field alone, null clears it. slug renames the domain (only while no link
// or QR code uses it).
type UpdateRequest struct {
	Slug                    patch.Field[string] `json:"slug"`
	ExpiredURL              patch.Field[string] `json:"expiredUrl"`
	NotFoundURL             patch.Field[string] `json:"notFoundUrl"`
	Archived                patch.Field[bool]   `json:"archived"`
	Placeholder             patch.Field[string] `json:"placeholder"`
	Logo                    patch.Field[string] `json:"logo"`
	AssetLinks              patch.Field[string] `json:"assetLinks"`
	AppleAppSiteAssociation patch.Field[string] `json:"appleAppSiteAssociation"`
}

// ListOptions filter List. Archived nil or false lists active domains only
// (Dub's default), true the archived ones; Search is a substring of the slug.
type ListOptions struct {
	Archived *bool
	Search   string
	Page     int
	PageSize int
}

// Service reads and writes domains.
type Service struct {
	st  *store.Store
	now func() time.Time
}

// NewService returns a Service; now is the clock (nil for time.Now).
func NewService(st *store.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, now: now}
}

// Normalize lower-cases a hostname and drops surrounding spaces and one
// trailing dot, so "Go.Example.COM." and "go.example.com" are one domain.
func Normalize(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

// Validate checks a normalized hostname: labels of 1 to 63 of a-z, 0-9 and -
// (not at either end), at least two labels, at most 253 characters, and an
// optional :port (1 to 65535), as a Host header carries it when the server
// is reached on a port of its own (http://127.0.0.1:8080).
func Validate(host string) error {
	if h, port, ok := strings.Cut(host, ":"); ok {
		if !validPort(port) {
			return errs.Invalid("slug %q: a port must be a number from 1 to 65535", truncate(host))
		}
		host = h
	}
	if host == "" {
		return errs.Invalid("slug must be a domain name such as go.example.com")
	}
	if len(host) > 253 {
		return errs.Invalid("slug must be at most 253 characters")
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return errs.Invalid("slug %q must have at least one dot, e.g. go.example.com", truncate(host))
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return errs.Invalid("slug %q: each label must be 1 to 63 of a-z, 0-9 and -, not starting or ending with -", truncate(host))
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return errs.Invalid("slug %q: use only a-z, 0-9, - and dots", truncate(host))
			}
		}
	}
	return nil
}

// Create adds a domain to the project. baseDomain is the server's own domain
// (config.BaseDomain(), port allowed), which no project can add.
func (s *Service) Create(ctx context.Context, projectID, baseDomain string, req CreateRequest) (Domain, error) {
	slug := Normalize(req.Slug)
	if err := Validate(slug); err != nil {
		return Domain{}, err
	}
	if isBase(slug, baseDomain) {
		return Domain{}, errs.Invalid("%s is the server's own domain; it is always available and cannot be added", slug)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	d := Domain{ID: ids.New("dom"), Slug: slug, Verified: true, CreatedAt: now, UpdatedAt: now}
	u := UpdateRequest{
		ExpiredURL: opt(req.ExpiredURL), NotFoundURL: opt(req.NotFoundURL), Archived: opt(req.Archived),
		Placeholder: opt(req.Placeholder), Logo: opt(req.Logo),
		AssetLinks: opt(req.AssetLinks), AppleAppSiteAssociation: opt(req.AppleAppSiteAssociation),
	}
	if err := apply(&d, u); err != nil {
		return Domain{}, err
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO domains ("+columns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
			d.ID, projectID, d.Slug, d.Archived, store.StringOrNil(d.Placeholder), store.StringOrNil(d.ExpiredURL),
			store.StringOrNil(d.NotFoundURL), store.StringOrNil(d.Logo), store.Millis(now), store.Millis(now))
		return err
	})
	if errors.Is(err, store.ErrUniqueViolation) {
		return Domain{}, errs.Conflict("domain %s is already in use", slug)
	}
	if err != nil {
		return Domain{}, fmt.Errorf("domains: create: %w", err)
	}
	return d, nil
}

const columns = "id, project_id, slug, archived, placeholder, expired_url, not_found_url, logo, created_at, updated_at"

func opt[T any](p *T) patch.Field[T] {
	if p == nil {
		return patch.Field[T]{}
	}
	return patch.Some(*p)
}

// apply writes the set fields of u (slug aside) into d, validating each.
func apply(d *Domain, u UpdateRequest) error {
	for _, f := range []struct {
		name string
		o    patch.Field[string]
	}{{"assetLinks", u.AssetLinks}, {"appleAppSiteAssociation", u.AppleAppSiteAssociation}} {
		if f.o.Set && !f.o.Null {
			return errs.Invalid("%s is not offered: codeqr does not serve deep-link association files", f.name)
		}
	}
	if u.Archived.Set {
		if u.Archived.Null {
			return errs.Invalid("archived must be true or false, not null")
		}
		d.Archived = u.Archived.Value
	}
	for _, f := range []struct {
		dst   **string
		o     patch.Field[string]
		name  string
		isURL bool
	}{
		{&d.ExpiredURL, u.ExpiredURL, "expiredUrl", true}, {&d.NotFoundURL, u.NotFoundURL, "notFoundUrl", true},
		{&d.Logo, u.Logo, "logo", true}, {&d.Placeholder, u.Placeholder, "placeholder", false},
	} {
		if !f.o.Set {
			continue
		}
		if f.o.Null || f.o.Value == "" {
			*f.dst = nil
			continue
		}
		v := f.o.Value
		if f.isURL {
			if err := shortlinks.ValidateURL(f.name, v); err != nil {
				return err
			}
		} else if len(v) > 2048 || strings.ContainsRune(v, 0) {
			return errs.Invalid("%s must be at most 2048 characters", f.name)
		}
		*f.dst = &v
	}
	return nil
}

func scan(row interface{ Scan(...any) error }) (Domain, error) {
	var (
		d                              Domain
		project                        string
		placeholder, exp, notFound, lg sql.NullString
		created, updated               int64
	)
	if err := row.Scan(&d.ID, &project, &d.Slug, &d.Archived, &placeholder, &exp, &notFound, &lg, &created, &updated); err != nil {
		return Domain{}, err
	}
	d.Verified = true
	d.Placeholder, d.ExpiredURL, d.NotFoundURL, d.Logo = store.NullString(placeholder), store.NullString(exp), store.NullString(notFound), store.NullString(lg)
	d.CreatedAt, d.UpdatedAt = store.FromMillis(created), store.FromMillis(updated)
	return d, nil
}

// List returns the project's domains, oldest first; page is 1-based.
func (s *Service) List(ctx context.Context, projectID string, o ListOptions) ([]Domain, error) {
	if o.Page < 1 {
		o.Page = 1
	}
	if o.PageSize < 1 || o.PageSize > 100 {
		o.PageSize = 50
	}
	archived := o.Archived != nil && *o.Archived
	args := []any{projectID, archived}
	where := "project_id = $1 AND archived = $2"
	if o.Search != "" {
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(o.Search))+"%")
		where += ` AND slug LIKE $3 ESCAPE '\'`
	}
	rows, err := s.st.Read().QueryContext(ctx,
		fmt.Sprintf("SELECT %s FROM domains WHERE %s ORDER BY id LIMIT %d OFFSET %d", columns, where, o.PageSize, (o.Page-1)*o.PageSize),
		args...)
	if err != nil {
		return nil, fmt.Errorf("domains: list: %w", err)
	}
	defer rows.Close()
	out := []Domain{}
	for rows.Next() {
		d, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("domains: scan: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// find reads one domain of the project by its slug or its id.
func find(ctx context.Context, q store.Querier, projectID, idOrSlug string) (Domain, error) {
	d, err := scan(q.QueryRowContext(ctx, "SELECT "+columns+" FROM domains WHERE (id = $1 OR slug = $2) AND project_id = $3",
		idOrSlug, Normalize(idOrSlug), projectID))
	if errors.Is(err, store.ErrNotFound) {
		return Domain{}, errs.NotFound("domain %s not found", truncate(idOrSlug))
	}
	if err != nil {
		return Domain{}, fmt.Errorf("domains: read: %w", err)
	}
	return d, nil
}

// inUse is how many links and QR codes have a key on slug.
func inUse(ctx context.Context, q store.Querier, slug string) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM short_keys WHERE domain = $1 OR LOWER(domain) = $1", slug).Scan(&n); err != nil {
		return 0, fmt.Errorf("domains: count keys: %w", err)
	}
	return n, nil
}

// Update changes a domain of the project, named by slug or id. A new slug is
// refused while links or QR codes still use the old one (409), like Delete.
func (s *Service) Update(ctx context.Context, projectID, baseDomain, idOrSlug string, u UpdateRequest) (Domain, error) {
	var d Domain
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if d, err = find(ctx, tx, projectID, idOrSlug); err != nil {
			return err
		}
		if err := apply(&d, u); err != nil {
			return err
		}
		if u.Slug.Set {
			slug := Normalize(u.Slug.Value)
			if u.Slug.Null {
				return errs.Invalid("slug must not be null")
			}
			if err := Validate(slug); err != nil {
				return err
			}
			if isBase(slug, baseDomain) {
				return errs.Invalid("%s is the server's own domain; it is always available and cannot be added", slug)
			}
			if slug != d.Slug {
				n, err := inUse(ctx, tx, d.Slug)
				if err != nil {
					return err
				}
				if n > 0 {
					return errs.Conflict("domain %s still has %d links or QR codes; it cannot be renamed", d.Slug, n)
				}
				d.Slug = slug
			}
		}
		d.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
		_, err = tx.ExecContext(ctx, `UPDATE domains SET slug = $1, archived = $2, placeholder = $3, expired_url = $4, not_found_url = $5,
logo = $6, updated_at = $7 WHERE id = $8 AND project_id = $9`,
			d.Slug, d.Archived, store.StringOrNil(d.Placeholder), store.StringOrNil(d.ExpiredURL), store.StringOrNil(d.NotFoundURL),
			store.StringOrNil(d.Logo), store.Millis(d.UpdatedAt), d.ID, projectID)
		if errors.Is(err, store.ErrUniqueViolation) {
			return errs.Conflict("domain %s is already in use", d.Slug)
		}
		return err
	})
	return d, err
}

// Delete removes a domain of the project, named by slug or id, unless a link
// or QR code still has a key on it (409): deleting it would silently break
// those short links. It returns the domain as it was.
func (s *Service) Delete(ctx context.Context, projectID, idOrSlug string) (Domain, error) {
	var d Domain
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if d, err = find(ctx, tx, projectID, idOrSlug); err != nil {
			return err
		}
		n, err := inUse(ctx, tx, d.Slug)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.Conflict("domain %s still has %d links or QR codes; delete or move them first", d.Slug, n)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM domains WHERE id = $1 AND project_id = $2", d.ID, projectID); err != nil {
			return fmt.Errorf("domains: delete: %w", err)
		}
		return nil
	})
	return d, err
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// isBase reports whether slug names the server's own host, with or without
// a port.
func isBase(slug, baseDomain string) bool {
	base := Normalize(baseDomain)
	if base == "" {
		return false
	}
	if h, _, err := net.SplitHostPort(base); err == nil {
		base = h
	}
	if h, _, err := net.SplitHostPort(slug); err == nil {
		slug = h
	}
	return slug == base
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n >= 1 && n <= 65535
}
