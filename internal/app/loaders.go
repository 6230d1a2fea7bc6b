package app

import (
	"context"
	"time"

	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/store"
)

// The interactions pipeline loads the resource of each click, scan and view
// event inside its flush transaction; these loaders give it the domain
// services' objects with the counters as of each event, so that the pipeline
// itself knows no domain package.

func linkLoader(s *links.Service) interactions.Loader {
	return func(ctx context.Context, q store.Querier, projectID, id string) (interactions.Snapshot, error) {
		l, err := s.GetIn(ctx, q, projectID, id)
		if err != nil {
			return nil, err
		}
		return func(count int64, last *time.Time) any {
			l := l
			l.Clicks, l.LastClicked = count, last
			return l
		}, nil
	}
}

func qrCodeLoader(s *qrcodes.Service) interactions.Loader {
	return func(ctx context.Context, q store.Querier, projectID, id string) (interactions.Snapshot, error) {
		c, err := s.GetIn(ctx, q, projectID, id)
		if err != nil {
			return nil, err
		}
		return func(count int64, last *time.Time) any {
			c := c
			c.Scans, c.LastScanned = count, last
			return c
		}, nil
	}
}

// pageLoader: pages have no last-view time.
func pageLoader(s *pages.Service) interactions.Loader {
	return func(ctx context.Context, q store.Querier, projectID, id string) (interactions.Snapshot, error) {
		p, err := s.GetIn(ctx, q, projectID, id)
		if err != nil {
			return nil, err
		}
		return func(count int64, _ *time.Time) any {
			p := p
			p.Views = count
			return p
		}, nil
	}
}
