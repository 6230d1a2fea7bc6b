package pages

import (
	"context"
	"errors"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/store"
)

// GetIn returns one page of the project as q sees it, e.g. inside another
// package's transaction that has just bumped its counters (conversions puts
// the page, with leads after the lead, into lead.created).
func (s *Service) GetIn(ctx context.Context, q store.Querier, projectID, id string) (Page, error) {
	p, err := s.scanOne(q.QueryRowContext(ctx, "SELECT "+columns+" FROM pages WHERE id = $1 AND project_id = $2", id, projectID))
	if errors.Is(err, store.ErrNotFound) {
		return Page{}, errs.NotFound("page %s not found", truncate(id))
	}
	return p, err
}
