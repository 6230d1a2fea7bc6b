package delivery

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// BenchmarkDeliveries measures how fast one node drains a backlog: b.N events
// of a project are written first, each fanned out to 10 local receivers, then
// a Deliverer starts and the clock runs until every delivery is recorded as a
// success in the database. Reported as deliveries/s (10 per event).
//
//	CODEQR_TEST_POSTGRES=required go test -run '^$' -bench Deliveries -benchtime 2000x ./internal/webhooks
func BenchmarkDeliveries(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			st := storetest.New(b, dialect)
			project := newProject(b, st)
			var received atomic.Int64
			const receivers = 10
			for i := 0; i < receivers; i++ {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					received.Add(1)
					w.WriteHeader(http.StatusNoContent)
				}))
				b.Cleanup(srv.Close)
				newHook(b, st, project, srv.URL)
			}
			writer := events.NewWriter(nil, nil)
			ctx := context.Background()
			for done := 0; done < b.N; {
				n := min(200, b.N-done)
				if err := st.InTx(ctx, func(tx *store.Tx) error {
					for i := 0; i < n; i++ {
						if _, err := writer.Emit(ctx, tx, events.Event{ProjectID: project, Type: events.LinkCreated,
							Data: map[string]any{"id": "link_bench", "url": "https://example.com/some/long/path?utm_source=bench"}}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				done += n
			}
			// A server's tables have statistics; a freshly filled test table has
			// none, and PostgreSQL then sorts the whole backlog for every claim
			// instead of walking the deliveries_due index.
			mustWrite(b, st, "ANALYZE deliveries")
			cfg := testConfig()
			cfg.DeliveryTimeout = 10 * time.Second
			var logger *slog.Logger
			if path := os.Getenv("CODEQR_BENCH_LOG"); path != "" {
				f, err := os.Create(path + "." + dialect)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				logger = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			d := newDeliverer(st, cfg, Options{Logger: logger}, options{})
			want := int64(receivers * b.N)
			b.ResetTimer()
			start := time.Now()
			if err := d.Start(ctx); err != nil {
				b.Fatal(err)
			}
			for received.Load() < want || storetest.Count(b, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'") > 0 {
				time.Sleep(5 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			stop(b, d)
			if got := storetest.Count(b, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE status = 'success'"); int64(got) != want {
				b.Fatalf("%d successes, want %d", got, want)
			}
			b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
		})
	}
}
