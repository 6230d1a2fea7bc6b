// Package tags owns the project's tags, which links and QR codes carry.
package tags

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
)

// Tag is the wire shape inside links and QR codes: {id, name, color}.
type Tag struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color"`
}

// Colors a tag may have; the first is the default.
var Colors = []string{"blue", "red", "yellow", "green", "purple", "brown", "gray", "pink"}

// Service reads and writes tags.
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

// CreateRequest is the body of POST /api/tags.
type CreateRequest struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

// UpdateRequest is the body of PATCH /api/tags/{id}.
type UpdateRequest struct {
	Name  *string `json:"name"`
	Color *string `json:"color"`
}

func validate(name, color string) error {
	if strings.TrimSpace(name) == "" || len(name) > 50 {
		return errs.Invalid("tag name must be 1 to 50 characters")
	}
	if !slices.Contains(Colors, color) {
		return errs.Invalid("tag color must be one of %s", strings.Join(Colors, ", "))
	}
	return nil
}

// Create makes a tag.
func (s *Service) Create(ctx context.Context, projectID string, req CreateRequest) (Tag, error) {
	if req.Color == "" {
		req.Color = Colors[0]
	}
	if err := validate(req.Name, req.Color); err != nil {
		return Tag{}, err
	}
	t := Tag{ID: ids.New("tag"), Name: strings.TrimSpace(req.Name), Color: req.Color}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		return insert(ctx, tx, projectID, t, s.now())
	})
	if errors.Is(err, store.ErrUniqueViolation) {
		return Tag{}, errs.Conflict("a tag named %q already exists", t.Name)
	}
	return t, err
}

func insert(ctx context.Context, q store.Querier, projectID string, t Tag, now time.Time) error {
	_, err := q.ExecContext(ctx, "INSERT INTO tags (id, project_id, name, color, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
		t.ID, projectID, t.Name, t.Color, store.Millis(now))
	return err
}

// List returns the project's tags by name.
func (s *Service) List(ctx context.Context, projectID string) ([]Tag, error) {
	rows, err := s.st.Read().QueryContext(ctx, "SELECT id, name, color FROM tags WHERE project_id = $1 ORDER BY name", projectID)
	if err != nil {
		return nil, fmt.Errorf("tags: list: %w", err)
	}
	defer rows.Close()
	out := []Tag{}
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.ID, &t.Name, &t.Color); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Update changes a tag's name or color.
func (s *Service) Update(ctx context.Context, projectID, id string, req UpdateRequest) (Tag, error) {
	var t Tag
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT id, name, color FROM tags WHERE id = $1 AND project_id = $2", id, projectID).Scan(&t.ID, &t.Name, &t.Color)
		if errors.Is(err, store.ErrNotFound) {
			return errs.NotFound("tag %s not found", id)
		}
		if err != nil {
			return err
		}
		if req.Name != nil {
			t.Name = strings.TrimSpace(*req.Name)
		}
		if req.Color != nil {
			t.Color = *req.Color
		}
		if err := validate(t.Name, t.Color); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE tags SET name = $1, color = $2, updated_at = $3 WHERE id = $4", t.Name, t.Color, store.Millis(s.now()), id)
		return err
	})
	if errors.Is(err, store.ErrUniqueViolation) {
		return Tag{}, errs.Conflict("a tag named %q already exists", t.Name)
	}
	return t, err
}

// Delete removes a tag from the project and from everything that carried it.
func (s *Service) Delete(ctx context.Context, projectID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM tags WHERE id = $1 AND project_id = $2", id, projectID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("tag %s not found", id)
		}
		return nil
	})
}

// Resolve turns tag ids and tag names into tags of the project, inside tx.
// Unknown ids are a validation error; unknown names are created (as Dub does),
// so a client can tag in one call.
func (s *Service) Resolve(ctx context.Context, tx *store.Tx, projectID string, tagIDs, tagNames []string) ([]Tag, error) {
	var out []Tag
	seen := map[string]bool{}
	for _, id := range tagIDs {
		var t Tag
		err := tx.QueryRowContext(ctx, "SELECT id, name, color FROM tags WHERE id = $1 AND project_id = $2", id, projectID).Scan(&t.ID, &t.Name, &t.Color)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errs.Invalid("tag %q does not exist in this project", id)
		}
		if err != nil {
			return nil, fmt.Errorf("tags: resolve: %w", err)
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	for _, name := range tagNames {
		name = strings.TrimSpace(name)
		if err := validate(name, Colors[0]); err != nil {
			return nil, err
		}
		var t Tag
		err := tx.QueryRowContext(ctx, "SELECT id, name, color FROM tags WHERE name = $1 AND project_id = $2", name, projectID).Scan(&t.ID, &t.Name, &t.Color)
		if errors.Is(err, store.ErrNotFound) {
			t = Tag{ID: ids.New("tag"), Name: name, Color: Colors[0]}
			err = insert(ctx, tx, projectID, t, s.now())
		}
		if err != nil {
			return nil, fmt.Errorf("tags: resolve %q: %w", name, err)
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ForResources loads the tags of many links or QR codes at once. joinTable is
// "link_tags" (column link_id) or "qrcode_tags" (column qrcode_id).
func ForResources(ctx context.Context, q store.Querier, joinTable string, resourceIDs []string) (map[string][]Tag, error) {
	out := make(map[string][]Tag, len(resourceIDs))
	if len(resourceIDs) == 0 {
		return out, nil
	}
	var col string
	switch joinTable {
	case "link_tags":
		col = "link_id"
	case "qrcode_tags":
		col = "qrcode_id"
	default:
		return nil, fmt.Errorf("tags: unknown join table %q", joinTable)
	}
	args := make([]any, len(resourceIDs))
	for i, id := range resourceIDs {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, "SELECT j."+col+", t.id, t.name, t.color FROM "+joinTable+" j JOIN tags t ON t.id = j.tag_id WHERE j."+col+" IN ("+store.Placeholders(1, len(args))+") ORDER BY t.name", args...)
	if err != nil {
		return nil, fmt.Errorf("tags: load: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rid string
		var t Tag
		if err := rows.Scan(&rid, &t.ID, &t.Name, &t.Color); err != nil {
			return nil, err
		}
		out[rid] = append(out[rid], t)
	}
	return out, rows.Err()
}
