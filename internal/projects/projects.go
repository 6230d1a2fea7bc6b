// Package projects owns projects and their API keys.
//
// A key is "codeqr_" + 32 random base62 characters. Only its SHA-256 is stored:
// keys are long random secrets, so a fast hash is enough and lets every request
// be authenticated with one indexed lookup.
package projects

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/patch"
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
	ScopeProjectsRead     = "projects.read"
	ScopeProjectsWrite    = "projects.write"
	ScopeKeysRead         = "keys.read"
	ScopeKeysWrite        = "keys.write"
)

// AllScopes is every scope, the default for a new key.
func AllScopes() []string {
	return []string{
		ScopeLinksRead, ScopeLinksWrite, ScopeQRCodesRead, ScopeQRCodesWrite,
		ScopePagesRead, ScopePagesWrite, ScopeAnalyticsRead, ScopeWebhooksRead,
		ScopeWebhooksWrite, ScopeConversionsWrite, ScopePartnersRead, ScopePartnersWrite,
		ScopeProjectsRead, ScopeProjectsWrite, ScopeKeysRead, ScopeKeysWrite,
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

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,47}$`)

// ValidSlug reports whether s can be a project slug.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Service reads and writes projects and keys.
type Service struct {
	st  *store.Store
	now func() time.Time
	// touching holds the keys whose last use is being written now, so that a
	// burst of requests with one key after a quiet minute writes it once.
	mu       sync.Mutex
	touching map[string]bool
}

// NewService returns a Service; now is the clock (nil for time.Now).
func NewService(st *store.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, now: now, touching: map[string]bool{}}
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
	return s.EnsureWithNewKey(ctx, slug, NewKey{Name: keyName, Scopes: scopes})
}

// EnsureWithNewKey is EnsureWithKey for a key with all its settings (expiry).
func (s *Service) EnsureWithNewKey(ctx context.Context, slug string, nk NewKey) (p Project, key string, created bool, err error) {
	scopes, keyName := nk.Scopes, nk.Name
	if !ValidSlug(slug) {
		return Project{}, "", false, fmt.Errorf("project slug %q: use 1-48 of a-z, 0-9 and -", slug)
	}
	if len(scopes) == 0 {
		scopes = AllScopes()
	}
	if err := checkScopes(scopes); err != nil {
		return Project{}, "", false, err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		p, err = scanProject(tx.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE slug = $1", slug))
		created = false
		if errors.Is(err, store.ErrNotFound) {
			p = Project{ID: ids.New("proj"), Slug: slug, Name: slug, CreatedAt: toMillis(now), UpdatedAt: toMillis(now)}
			if _, err := tx.ExecContext(ctx, "INSERT INTO projects ("+projectColumns+") VALUES ($1, $2, $3, NULL, $4, $4)",
				p.ID, p.Slug, p.Name, store.Millis(now)); err != nil {
				return fmt.Errorf("create project: %w", err)
			}
			created = true
		} else if err != nil {
			return fmt.Errorf("find project: %w", err)
		}
		if keyName == "" {
			keyName = "default"
		}
		_, key, err = insertKey(ctx, tx, p.ID, NewKey{Name: keyName, Scopes: scopes, ExpiresAt: nk.ExpiresAt}, now)
		return err
	})
	return p, key, created, err
}

// toMillis drops what the database does not keep, so that an answer built in
// memory reads the same as the row read back later.
func toMillis(t time.Time) time.Time { return store.FromMillis(store.Millis(t)) }

// Update is a PATCH of the project: an absent field is left alone; null
// clears ownerEmail (name and slug cannot be cleared).
type Update struct {
	Name       patch.Field[string] `json:"name"`
	Slug       patch.Field[string] `json:"slug"`
	OwnerEmail patch.Field[string] `json:"ownerEmail"`
}

// Modify applies u to the project and returns it.
func (s *Service) Modify(ctx context.Context, id string, u Update) (Project, error) {
	if u.Name.Set && u.Name.Null {
		return Project{}, errs.Invalid("name cannot be null")
	}
	if u.Slug.Set && u.Slug.Null {
		return Project{}, errs.Invalid("slug cannot be null")
	}
	var p Project
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = scanProject(tx.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE id = $1", id))
		if err != nil {
			return err
		}
		if u.Name.Has() {
			p.Name = u.Name.Value
		}
		if u.Slug.Has() {
			p.Slug = u.Slug.Value
		}
		if u.OwnerEmail.Set {
			p.OwnerEmail = nil
			if v := u.OwnerEmail.Value; u.OwnerEmail.Has() && v != "" {
				p.OwnerEmail = &v
			}
		}
		p.UpdatedAt = toMillis(s.now())
		_, err = tx.ExecContext(ctx, "UPDATE projects SET name = $1, slug = $2, owner_email = $3, updated_at = $4 WHERE id = $5",
			p.Name, p.Slug, store.StringOrNil(p.OwnerEmail), store.Millis(p.UpdatedAt), id)
		return err
	})
	if errors.Is(err, store.ErrUniqueViolation) {
		return p, errs.Conflict("slug %q is taken", p.Slug)
	}
	return p, err
}

// CreateIn makes a new project in tx (e.g. with the membership of the user who
// creates it). A taken slug is a Conflict.
func (s *Service) CreateIn(ctx context.Context, tx *store.Tx, slug, name string) (Project, error) {
	if name == "" {
		name = slug
	}
	if err := (Update{Slug: patch.Some(slug), Name: patch.Some(name)}).Validate(); err != nil {
		return Project{}, err
	}
	now := s.now()
	p := Project{ID: ids.New("proj"), Slug: slug, Name: name, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	if _, err := tx.ExecContext(ctx, "INSERT INTO projects ("+projectColumns+") VALUES ($1, $2, $3, NULL, $4, $4)",
		p.ID, p.Slug, p.Name, store.Millis(now)); err != nil {
		if errors.Is(err, store.ErrUniqueViolation) {
			return Project{}, errs.Conflict("slug %q is taken", slug)
		}
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	return p, nil
}

// Validate checks the fields an update sets.
func (u Update) Validate() error {
	if u.Name.Set && u.Name.Null {
		return errs.Invalid("name cannot be null")
	}
	if u.Slug.Set && u.Slug.Null {
		return errs.Invalid("slug cannot be null")
	}
	if u.Slug.Has() && !ValidSlug(u.Slug.Value) {
		return errs.Invalid("slug must be 1-48 characters of a-z, 0-9 and -")
	}
	if u.Name.Has() && (u.Name.Value == "" || len(u.Name.Value) > 100) {
		return errs.Invalid("name must be 1 to 100 characters")
	}
	if u.OwnerEmail.Has() && u.OwnerEmail.Value != "" && !ValidEmail(u.OwnerEmail.Value) {
		return errs.Invalid("ownerEmail is not an e-mail address")
	}
	return nil
}

// Change validates u and applies it (Modify): what PATCH
// /api/projects/current and the dashboard both do.
func (s *Service) Change(ctx context.Context, id string, u Update) (Project, error) {
	if err := u.Validate(); err != nil {
		return Project{}, err
	}
	return s.Modify(ctx, id, u)
}

// ValidEmail is a light check of an e-mail address: one @ with text on both
// sides, no spaces or control characters, at most 254 bytes.
func ValidEmail(s string) bool {
	at := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			at = i
		}
		if s[i] <= ' ' {
			return false
		}
	}
	return at > 0 && at < len(s)-3 && len(s) <= 254
}
