// Package pages owns hosted pages: small public pages at /p/<slug> made of
// ordered content blocks, an optional lead-capture form and a colour theme.
// Every change is written with its page.* event in one transaction.
package pages

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/codeqr/codeqr/internal/cache"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
)

// Service reads and writes pages.
type Service struct {
	st  *store.Store
	ev  *events.Writer
	cfg config.Config
	now func() time.Time
	inv cache.Invalidator
}

// NewService returns a Service. Pages carry no tags; tg is accepted so that
// every resource service is wired the same way. Every committed change is
// told to inv (the process's cache.Bus, which keeps the hosted-page cache
// correct; nil for none), by id, so a changed slug drops the old one too.
func NewService(st *store.Store, ev *events.Writer, tg *tags.Service, cfg config.Config, inv cache.Invalidator) *Service {
	_ = tg
	if inv == nil {
		inv = cache.Nop{}
	}
	return &Service{st: st, ev: ev, cfg: cfg, now: time.Now, inv: inv}
}

// CreateRequest is the body of POST /api/pages. Slug may be left out: one is
// derived from the title. Published defaults to false (a draft).
type CreateRequest struct {
	Slug        *string `json:"slug"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	Blocks      []Block `json:"blocks"`
	Form        *Form   `json:"form"`
	Theme       *Theme  `json:"theme"`
	Published   bool    `json:"published"`
}

// UpdateRequest is the body of PATCH /api/pages/{id}. An absent field is left
// as it is. null clears description and form, resets theme to the defaults and
// blocks to none; null is refused for slug, title and published.
type UpdateRequest struct {
	Slug        Optional[string]  `json:"slug"`
	Title       Optional[string]  `json:"title"`
	Description Optional[string]  `json:"description"`
	Blocks      Optional[[]Block] `json:"blocks"`
	Form        Optional[*Form]   `json:"form"`
	Theme       Optional[*Theme]  `json:"theme"`
	Published   Optional[bool]    `json:"published"`
}

// ListOptions filter and page List.
type ListOptions struct {
	// Published, when set, keeps only pages with that state.
	Published *bool
	// Page is 1-based; PageSize defaults to 50.
	Page, PageSize int
}

// content is the validated, storable part of a page.
type content struct {
	slug        string
	title       string
	description *string
	blocks      []Block
	form        *Form
	theme       Theme
	published   bool
}

func validateContent(c *content) error {
	if !ValidSlug(c.slug) {
		return errs.Invalid("slug %q: use 1 to 64 of a-z, 0-9 and -, starting with a letter or digit", truncate(c.slug))
	}
	c.title = strings.TrimSpace(c.title)
	if err := checkText("title", c.title, MaxTitle, false); err != nil {
		return err
	}
	if c.description != nil && *c.description == "" {
		c.description = nil
	}
	if c.description != nil {
		if err := checkOptionalText("description", *c.description, MaxDescription, true); err != nil {
			return err
		}
	}
	if c.blocks == nil {
		c.blocks = []Block{}
	}
	if err := validateBlocks(c.blocks); err != nil {
		return err
	}
	return normalizeForm(c.form)
}

// Create makes a page and emits page.created.
func (s *Service) Create(ctx context.Context, projectID string, req CreateRequest) (Page, error) {
	c := content{title: req.Title, description: req.Description, blocks: req.Blocks, form: req.Form, published: req.Published}
	derived := req.Slug == nil || *req.Slug == ""
	if derived {
		c.slug = DeriveSlug(req.Title)
	} else {
		c.slug = *req.Slug
	}
	theme, err := normalizeTheme(req.Theme)
	if err != nil {
		return Page{}, err
	}
	c.theme = theme
	if err := validateContent(&c); err != nil {
		return Page{}, err
	}
	// A derived slug that happens to be taken gets a new random suffix.
	for attempt := 0; ; attempt++ {
		p, err := s.insert(ctx, projectID, c)
		if err == nil || errs.KindOf(err) != errs.KindConflict || !derived || attempt >= 5 {
			return p, err
		}
		c.slug = DeriveSlug(req.Title)
	}
}

func (s *Service) insert(ctx context.Context, projectID string, c content) (Page, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	p := s.pageOf(ids.New("page"), projectID, c, now, now)
	blocks, form, theme, err := encode(p)
	if err != nil {
		return Page{}, err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pages (id, project_id, slug, title, description, blocks, form, theme, published, views, leads, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0, $10, $10)`,
			p.ID, projectID, p.Slug, p.Title, store.StringOrNil(p.Description), blocks, form, theme, p.Published, store.Millis(now)); err != nil {
			return s.slugConflict(err, p.Slug)
		}
		return s.emit(ctx, tx, events.PageCreated, p)
	})
	if err != nil {
		return Page{}, err
	}
	return p, nil
}

// Get returns a page of the project.
func (s *Service) Get(ctx context.Context, projectID, id string) (Page, error) {
	return s.GetIn(ctx, s.st.Read(), projectID, id)
}

// GetBySlug returns the page with this slug, in any project, published or
// not (for the public renderer, which decides what to show).
func (s *Service) GetBySlug(ctx context.Context, slug string) (Page, error) {
	p, err := s.scanOne(s.st.Read().QueryRowContext(ctx, "SELECT "+columns+" FROM pages WHERE slug = $1", slug))
	if errors.Is(err, store.ErrNotFound) {
		return Page{}, errs.NotFound("page %q not found", truncate(slug))
	}
	return p, err
}

// List returns the project's pages, newest first.
func (s *Service) List(ctx context.Context, projectID string, opt ListOptions) ([]Page, error) {
	if opt.Page < 1 {
		opt.Page = 1
	}
	if opt.PageSize < 1 || opt.PageSize > 100 {
		opt.PageSize = 50
	}
	q := "SELECT " + columns + " FROM pages WHERE project_id = $1"
	args := []any{projectID}
	if opt.Published != nil {
		q += " AND published = $2"
		args = append(args, *opt.Published)
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d OFFSET %d", opt.PageSize, (opt.Page-1)*opt.PageSize)
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pages: list: %w", err)
	}
	defer rows.Close()
	out := []Page{}
	for rows.Next() {
		p, err := s.scanOne(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Update applies a PATCH and emits page.updated, unless nothing changed.
func (s *Service) Update(ctx context.Context, projectID, id string, req UpdateRequest) (Page, error) {
	var out Page
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		old, err := s.scanOne(tx.QueryRowContext(ctx, "SELECT "+columns+" FROM pages WHERE id = $1 AND project_id = $2", id, projectID))
		if errors.Is(err, store.ErrNotFound) {
			return errs.NotFound("page %s not found", truncate(id))
		}
		if err != nil {
			return err
		}
		c, err := apply(old, req)
		if err != nil {
			return err
		}
		next := s.pageOf(old.ID, projectID, c, old.CreatedAt, old.UpdatedAt)
		next.Views, next.Leads = old.Views, old.Leads
		same, err := sameJSON(old, next)
		if err != nil || same {
			out = old
			return err
		}
		next.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
		blocks, form, theme, err := encode(next)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pages SET slug = $1, title = $2, description = $3, blocks = $4, form = $5, theme = $6, published = $7, updated_at = $8
WHERE id = $9 AND project_id = $10`,
			next.Slug, next.Title, store.StringOrNil(next.Description), blocks, form, theme, next.Published, store.Millis(next.UpdatedAt), id, projectID); err != nil {
			return s.slugConflict(err, next.Slug)
		}
		out = next
		return s.emit(ctx, tx, events.PageUpdated, next)
	})
	if err != nil {
		return Page{}, err
	}
	return out, nil
}

// apply merges a PATCH into the current page and validates the result.
func apply(old Page, req UpdateRequest) (content, error) {
	c := content{slug: old.Slug, title: old.Title, description: old.Description, blocks: old.Blocks,
		form: old.Form, theme: old.Theme, published: old.Published}
	if req.Slug.Set {
		if req.Slug.Null {
			return c, errs.Invalid("slug cannot be null")
		}
		c.slug = req.Slug.Value
	}
	if req.Title.Set {
		if req.Title.Null {
			return c, errs.Invalid("title cannot be null")
		}
		c.title = req.Title.Value
	}
	if req.Published.Set {
		if req.Published.Null {
			return c, errs.Invalid("published cannot be null")
		}
		c.published = req.Published.Value
	}
	if req.Description.Set {
		c.description = nil
		if !req.Description.Null {
			c.description = &req.Description.Value
		}
	}
	if req.Blocks.Set {
		c.blocks = req.Blocks.Value
	}
	if req.Form.Set {
		c.form = req.Form.Value
	}
	if req.Theme.Set {
		t, err := normalizeTheme(req.Theme.Value)
		if err != nil {
			return c, err
		}
		c.theme = t
	}
	return c, validateContent(&c)
}

// Delete removes a page and emits page.deleted with the page as it was.
func (s *Service) Delete(ctx context.Context, projectID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.scanOne(tx.QueryRowContext(ctx, "SELECT "+columns+" FROM pages WHERE id = $1 AND project_id = $2", id, projectID))
		if errors.Is(err, store.ErrNotFound) {
			return errs.NotFound("page %s not found", truncate(id))
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM pages WHERE id = $1 AND project_id = $2", id, projectID); err != nil {
			return fmt.Errorf("pages: delete: %w", err)
		}
		if err := events.ForgetResource(ctx, tx, id); err != nil {
			return err
		}
		return s.emit(ctx, tx, events.PageDeleted, p)
	})
}

func (s *Service) emit(ctx context.Context, tx *store.Tx, t events.Type, p Page) error {
	_, err := s.ev.Emit(ctx, tx, events.Event{ProjectID: p.ProjectID, Type: t, Data: map[string]Page{"page": p}})
	if err == nil {
		// Every change emits, so this is also where the caches of this node
		// learn of it.
		tx.AfterCommit(func() { s.inv.Invalidate(p.ID, "", p.Slug) })
	}
	return err
}

func (s *Service) slugConflict(err error, slug string) error {
	if errors.Is(err, store.ErrUniqueViolation) {
		return errs.Conflict("slug %q is already taken", slug)
	}
	return fmt.Errorf("pages: write: %w", err)
}

func (s *Service) pageOf(id, projectID string, c content, created, updated time.Time) Page {
	return Page{
		ID: id, Slug: c.slug, URL: s.URL(c.slug), Title: c.title, Description: c.description,
		Blocks: c.blocks, Form: c.form, Theme: c.theme, Published: c.published,
		ProjectID: projectID, CreatedAt: created, UpdatedAt: updated,
	}
}

// URL is the public address of a page slug.
func (s *Service) URL(slug string) string { return s.cfg.BaseURL + "/p/" + slug }

const columns = "id, project_id, slug, title, description, blocks, form, theme, published, views, leads, created_at, updated_at"

func (s *Service) scanOne(row interface{ Scan(...any) error }) (Page, error) {
	var (
		p                Page
		desc, form       sql.NullString
		blocks, theme    string
		created, updated int64
	)
	err := row.Scan(&p.ID, &p.ProjectID, &p.Slug, &p.Title, &desc, &blocks, &form, &theme, &p.Published, &p.Views, &p.Leads, &created, &updated)
	if err != nil {
		return Page{}, fmt.Errorf("pages: scan: %w", err)
	}
	p.Description = store.NullString(desc)
	if err := json.Unmarshal([]byte(blocks), &p.Blocks); err != nil {
		return Page{}, fmt.Errorf("pages: stored blocks of %s: %w", p.ID, err)
	}
	if p.Blocks == nil {
		p.Blocks = []Block{}
	}
	if form.Valid {
		if err := json.Unmarshal([]byte(form.String), &p.Form); err != nil {
			return Page{}, fmt.Errorf("pages: stored form of %s: %w", p.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(theme), &p.Theme); err != nil {
		return Page{}, fmt.Errorf("pages: stored theme of %s: %w", p.ID, err)
	}
	p.URL = s.URL(p.Slug)
	p.CreatedAt, p.UpdatedAt = store.FromMillis(created), store.FromMillis(updated)
	return p, nil
}

// encode renders the JSON columns of p.
func encode(p Page) (blocks string, form any, theme string, err error) {
	b, err := json.Marshal(p.Blocks)
	if err != nil {
		return "", nil, "", fmt.Errorf("pages: encode blocks: %w", err)
	}
	if p.Form != nil {
		f, err := json.Marshal(p.Form)
		if err != nil {
			return "", nil, "", fmt.Errorf("pages: encode form: %w", err)
		}
		form = string(f)
	}
	t, err := json.Marshal(p.Theme)
	if err != nil {
		return "", nil, "", fmt.Errorf("pages: encode theme: %w", err)
	}
	return string(b), form, string(t), nil
}

func sameJSON(a, b Page) (bool, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ja, jb), nil
}

// DeriveSlug makes a slug from a title: its lower-case letters and digits,
// dashes between words, at most 40 characters, then "-" and 6 random
// characters so that two pages with one title do not clash.
func DeriveSlug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() >= 40 {
				break
			}
			continue
		}
		dash = true
	}
	base := strings.TrimRight(b.String(), "-")
	if base == "" {
		base = "page"
	}
	return base + "-" + strings.ToLower(ids.Random(6))
}

// GetIn is Get through q (a transaction of the caller).
func (s *Service) GetIn(ctx context.Context, q store.Querier, projectID, id string) (Page, error) {
	p, err := s.scanOne(q.QueryRowContext(ctx, "SELECT "+columns+" FROM pages WHERE id = $1 AND project_id = $2", id, projectID))
	if errors.Is(err, store.ErrNotFound) {
		return Page{}, errs.NotFound("page %s not found", truncate(id))
	}
	return p, err
}
