package interactions

import (
	"context"
	"time"

	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/store"
)

// LinkLoader loads the link object of link.clicked events.
func LinkLoader(s *links.Service) Loader {
	return func(ctx context.Context, q store.Querier, projectID, id string) (Snapshot, error) {
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

// QRCodeLoader loads the qrcode object of qrcode.scanned events.
func QRCodeLoader(s *qrcodes.Service) Loader {
	return func(ctx context.Context, q store.Querier, projectID, id string) (Snapshot, error) {
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
