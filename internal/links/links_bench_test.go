package links_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
)

// BenchmarkCreate measures Service.Create with its event and one webhook
// delivery row written in the same transaction: the database half of
// POST /api/links (target: ≥ 1,500 requests/s on SQLite end to end).
func BenchmarkCreate(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			st := storetest.New(b, dialect)
			ctx := context.Background()
			p, _, _, err := projects.NewService(st, nil).EnsureWithKey(ctx, "bench", "b", nil)
			if err != nil {
				b.Fatal(err)
			}
			err = st.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO webhooks (id, project_id, name, url, secret, created_at, updated_at) VALUES ('wh', $1, 'w', 'https://x', 's', 0, 0)", p.ID); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "INSERT INTO webhook_triggers (webhook_id, event_type) VALUES ('wh', 'link.created')")
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			svc := links.NewService(st, events.NewWriter(nil, nil), tags.NewService(st, nil), testCfg, nil)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if _, err := svc.Create(ctx, p.ID, links.CreateRequest{URL: fmt.Sprintf("https://example.com/%d", i)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "links/s")
		})
	}
}
