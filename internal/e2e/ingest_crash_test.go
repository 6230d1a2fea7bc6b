package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// ingestLossFloor is the least the README's crash bound allows: what waits
// in memory is bounded by about one second of what the writer achieves, and
// never below two batches (2 × 1000 interactions).
const ingestLossFloor = 2000

// kill -9 under a redirect load faster than interactions can be written:
// every redirect answered 302 was recorded in memory; after the crash the
// interactions lost (answered but never stored) stay within the bound the
// README states — about one second of what the writer achieved.
func TestCrashLosesAtMostASecondOfInteractions(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		srv := startServer(t, databaseURL, dataDir, "--dedupe-window", "0")
		c := srv.client(srv.createKey("e2e"))
		link := c.must(http.MethodPost, "/api/links", map[string]any{"url": "https://example.com/ingest"}, http.StatusOK)
		short := link.str("shortLink")

		const clients, load = 48, 4 * time.Second
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = clients
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		defer hc.CloseIdleConnections()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var (
			answered atomic.Int64 // 302s received: interactions the server recorded
			stopped  atomic.Bool  // set at the kill: answers after it do not count
			wg       sync.WaitGroup
		)
		for i := range clients {
			wg.Go(func() {
				for ctx.Err() == nil {
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, short, nil)
					if err != nil {
						return
					}
					req.Header.Set("User-Agent", fmt.Sprintf("ingest-load/%d", i))
					resp, err := hc.Do(req)
					if err != nil {
						continue // the kill
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusFound && !stopped.Load() {
						answered.Add(1)
					}
				}
			})
		}
		began := time.Now()
		time.Sleep(load) // the load runs for a fixed time; nothing to wait for
		srv.kill()
		stopped.Store(true)
		elapsed := time.Since(began)
		cancel()
		wg.Wait()

		st := openStore(t, databaseURL, dataDir)
		var stored int64
		if err := st.Read().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM interactions").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		acked := answered.Load()
		lost := max(0, acked-stored)
		ingest := float64(stored) / elapsed.Seconds()
		bound := max(ingestLossFloor, int64(ingest)) // one second of what the writer achieved
		t.Logf("%d redirects answered in %s (%.0f/s), %d interactions stored (%.0f/s), %d lost; bound %d",
			acked, elapsed.Round(time.Millisecond), float64(acked)/elapsed.Seconds(), stored, ingest, lost, bound)
		if acked == 0 {
			t.Fatal("no redirect was answered")
		}
		// The writer's rate is measured while it writes; the average over the
		// run can only be lower, so half a second of slack covers it.
		if lost > bound*3/2 {
			t.Errorf("a crash lost %d interactions, more than the bound of about one second (%d)", lost, bound)
		}
	})
}
