// Package projects owns projects and their API keys.
//
// A key is "codeqr_" + 32 random base62 characters. Only its SHA-256 is stored:
// keys are long random secrets, so a fast hash is enough and lets every request
// be authenticated with one indexed lookup.
package projects

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
)

// Scopes an API key can carry.
const (
	ScopeLinksRead        = "links.read"
	ScopeLinksWrite       = "links.write"
	ScopeQRCodesRead      = "qrcodes.read"
	ScopeQRCodesWrite     = "qrcodes.write"
	ScopePagesRead        = "pages.read"
	ScopePagesWrite       = "pages.write"
	ScopeAnalyticsRead    = "analytics.read"
	ScopeWebhooksRead     = "webhooks.read"
	ScopeWebhooksWrite    = "webhooks.write"
	ScopeConversionsWrite = "conversions.write"
	ScopePartnersRead     = "partners.read"
	ScopePartnersWrite    = "partners.write"
)

// AllScopes is every scope, the default for a new key.
func AllScopes() []string {
	return []string{
		ScopeLinksRead, ScopeLinksWrite, ScopeQRCodesRead, ScopeQRCodesWrite,
		ScopePagesRead, ScopePagesWrite, ScopeAnalyticsRead, ScopeWebhooksRead,
		ScopeWebhooksWrite, ScopeConversionsWrite, ScopePartnersRead, ScopePartnersWrite,
	}
}

// Project is a tenant: every resource belongs to exactly one.
type Project struct {
	ID         string    `json:"id"`
	Slug       string    `json:"slug"`
	Name       string    `json:"name"`
	OwnerEmail *string   `json:"ownerEmail"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Key is an authenticated API key: which project, and what it may do.
type Key struct {
	ID        string
	ProjectID string
	Name      string
	Scopes    []string
}

// Has reports whether the key carries scope.
func (k Key) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,47}$`)

// ValidSlug reports whether s can be a project slug.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// ErrInvalidScope names a scope that does not exist.
var ErrInvalidScope = errors.New("unknown scope")

// Service reads and writes projects and keys.
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

const projectColumns = "id, slug, name, owner_email, created_at, updated_at"

func scanProject(row interface{ Scan(...any) error }) (Project, error) {
	var (
		p            Project
		email        sql.NullString
		created, upd int64
	)
	if err := row.Scan(&p.ID, &p.Slug, &p.Name, &email, &created, &upd); err != nil {
		return Project{}, err
	}
	p.OwnerEmail = store.NullString(email)
	p.CreatedAt, p.UpdatedAt = store.FromMillis(created), store.FromMillis(upd)
	return p, nil
}

// Get returns a project by id.
func (s *Service) Get(ctx context.Context, id string) (Project, error) {
	return scanProject(s.st.Read().QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE id = $1", id))
}

// GetBySlug returns a project by slug.
func (s *Service) GetBySlug(ctx context.Context, slug string) (Project, error) {
	return scanProject(s.st.Read().QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE slug = $1", slug))
}

// Count returns how many projects exist.
func (s *Service) Count(ctx context.Context) (int, error) {
	var n int
	err := s.st.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM projects").Scan(&n)
	return n, err
}

// EnsureWithKey returns the project with this slug, creating it if needed, and
// creates a new key for it. It returns the key in clear text (the only time it
// exists in clear) and whether the project was created.
func (s *Service) EnsureWithKey(ctx context.Context, slug, keyName string, scopes []string) (p Project, key string, created bool, err error) {
	if !ValidSlug(slug) {
		return Project{}, "", false, fmt.Errorf("project slug %q: use 1-48 of a-z, 0-9 and -", slug)
	}
	if len(scopes) == 0 {
		scopes = AllScopes()
	}
	for _, sc := range scopes {
		if !slices.Contains(AllScopes(), sc) {
			return Project{}, "", false, fmt.Errorf("%w %q (known: %s)", ErrInvalidScope, sc, strings.Join(AllScopes(), ", "))
		}
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		p, err = scanProject(tx.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE slug = $1", slug))
		created = false
		if errors.Is(err, store.ErrNotFound) {
			p = Project{ID: ids.New("proj"), Slug: slug, Name: slug, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
			if _, err := tx.ExecContext(ctx, "INSERT INTO projects ("+projectColumns+") VALUES ($1, $2, $3, NULL, $4, $4)",
				p.ID, p.Slug, p.Name, store.Millis(now)); err != nil {
				return fmt.Errorf("create project: %w", err)
			}
			created = true
		} else if err != nil {
			return fmt.Errorf("find project: %w", err)
		}
		key = "codeqr_" + ids.Random(32)
		if keyName == "" {
			keyName = "default"
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (id, project_id, name, hash, start, scopes, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			ids.New("key"), p.ID, keyName, HashKey(key), key[:11], strings.Join(scopes, " "), store.Millis(now))
		if err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		return nil
	})
	return p, key, created, err
}

// HashKey is the stored form of an API key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the key behind a clear-text API key, or store.ErrNotFound.
func (s *Service) Authenticate(ctx context.Context, key string) (Key, error) {
	if !strings.HasPrefix(key, "codeqr_") || len(key) > 100 {
		return Key{}, store.ErrNotFound
	}
	var (
		k      Key
		scopes string
	)
	err := s.st.Read().QueryRowContext(ctx, "SELECT id, project_id, name, scopes FROM api_keys WHERE hash = $1", HashKey(key)).
		Scan(&k.ID, &k.ProjectID, &k.Name, &scopes)
	if err != nil {
		return Key{}, fmt.Errorf("authenticate: %w", err)
	}
	k.Scopes = strings.Fields(scopes)
	return k, nil
}

// Update is a PATCH of the project: nil fields are left alone.
type Update struct {
	Name       *string `json:"name"`
	Slug       *string `json:"slug"`
	OwnerEmail *string `json:"ownerEmail"`
}

// Modify applies u to the project and returns it.
func (s *Service) Modify(ctx context.Context, id string, u Update) (Project, error) {
	var p Project
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = scanProject(tx.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE id = $1", id))
		if err != nil {
			return err
		}
		if u.Name != nil {
			p.Name = *u.Name
		}
		if u.Slug != nil {
			p.Slug = *u.Slug
		}
		if u.OwnerEmail != nil {
			p.OwnerEmail = u.OwnerEmail
			if *u.OwnerEmail == "" {
				p.OwnerEmail = nil
			}
		}
		p.UpdatedAt = s.now().UTC()
		_, err = tx.ExecContext(ctx, "UPDATE projects SET name = $1, slug = $2, owner_email = $3, updated_at = $4 WHERE id = $5",
			p.Name, p.Slug, store.StringOrNil(p.OwnerEmail), store.Millis(p.UpdatedAt), id)
		return err
	})
	if errors.Is(err, store.ErrUniqueViolation) {
		return p, errs.Conflict("slug %q is taken", p.Slug)
	}
	return p, err
}
