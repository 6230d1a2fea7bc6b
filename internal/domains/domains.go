// Package domains owns the custom short-link domains a project adds beside the
// server's base domain. A domain belongs to one project on the whole server,
// and cannot be removed while links or QR codes still use it.
package domains

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
)

// Domain is the wire shape: {id, slug, createdAt}.
type Domain struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	CreatedAt time.Time `json:"createdAt"`
}

// CreateRequest is the body of POST /api/domains.
type CreateRequest struct {
	Slug string `json:"slug"`
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
// (not at either end), at least two labels, at most 253 characters.
func Validate(host string) error {
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
	d := Domain{ID: ids.New("dom"), Slug: slug, CreatedAt: now}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO domains (id, project_id, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
			d.ID, projectID, d.Slug, store.Millis(now))
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

func isBase(slug, baseDomain string) bool {
	base := Normalize(baseDomain)
	if base == "" {
		return false
	}
	if h, _, err := net.SplitHostPort(base); err == nil {
		base = h
	}
	return slug == base
}

// List returns the project's domains, oldest first; page is 1-based.
func (s *Service) List(ctx context.Context, projectID string, page, pageSize int) ([]Domain, error) {
	if page < 1 {
		page = 1
	}
	if pageSize < 1 || pageSize > 100 {
		pageSize = 50
	}
	rows, err := s.st.Read().QueryContext(ctx,
		fmt.Sprintf("SELECT id, slug, created_at FROM domains WHERE project_id = $1 ORDER BY id LIMIT %d OFFSET %d", pageSize, (page-1)*pageSize),
		projectID)
	if err != nil {
		return nil, fmt.Errorf("domains: list: %w", err)
	}
	defer rows.Close()
	out := []Domain{}
	for rows.Next() {
		var (
			d       Domain
			created int64
		)
		if err := rows.Scan(&d.ID, &d.Slug, &created); err != nil {
			return nil, fmt.Errorf("domains: scan: %w", err)
		}
		d.CreatedAt = store.FromMillis(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Delete removes a domain of the project, unless a link or QR code still has
// a key on it (409): deleting it would silently break those short links.
func (s *Service) Delete(ctx context.Context, projectID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		var slug string
		err := tx.QueryRowContext(ctx, "SELECT slug FROM domains WHERE id = $1 AND project_id = $2", id, projectID).Scan(&slug)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errs.NotFound("domain %s not found", truncate(id))
			}
			return fmt.Errorf("domains: delete: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM short_keys WHERE domain = $1 OR LOWER(domain) = $1", slug).Scan(&n); err != nil {
			return fmt.Errorf("domains: count keys: %w", err)
		}
		if n > 0 {
			return errs.Conflict("domain %s still has %d links or QR codes; delete or move them first", slug, n)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM domains WHERE id = $1 AND project_id = $2", id, projectID); err != nil {
			return fmt.Errorf("domains: delete: %w", err)
		}
		return nil
	})
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
