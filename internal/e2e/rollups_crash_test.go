package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// kill -9 of a real server while visitors click its links (with referers,
// UTM-tagged destinations, QR marks and bots), then a restart on the same
// data and more traffic: the analytics rollups equal a recount of the raw
// rows — a batch wrote both or neither.
func TestCrashKeepsRollupsExact(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		srv := startServer(t, databaseURL, dataDir, "--trusted-proxies", "127.0.0.1/32", "--flush-interval", "20ms")
		c := srv.client(srv.createKey("e2e"))
		projectID := c.must(http.MethodGet, "/api/projects/current", nil, http.StatusOK).str("id")
		var shortLinks []string
		for i := range 6 {
			dest := fmt.Sprintf("https://example.com/p%d", i)
			if i%2 == 0 {
				dest += fmt.Sprintf("?utm_source=s%d&utm_campaign=c%d", i%3, i)
			}
			l := c.must(http.MethodPost, "/api/links", map[string]any{"url": dest}, http.StatusOK)
			shortLinks = append(shortLinks, l.str("shortLink"))
		}
		uas := []string{iPhoneSafariUA, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
			"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
		referers := []string{"", "https://www.google.com/search", "https://t.co/x"}
		var (
			sent atomic.Int64 // visits the server answered with a redirect
			seq  atomic.Int64
			stop atomic.Bool
			wg   sync.WaitGroup
			hc   = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		)
		traffic := func(w int) {
			for i := 0; !stop.Load(); i++ {
				n := int(seq.Add(1))
				u := shortLinks[n%len(shortLinks)]
				if n%5 == 0 {
					u += "?qr=1"
				}
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("8.8.%d.%d", w, i%250))
				req.Header.Set("User-Agent", uas[n%len(uas)])
				if r := referers[n%len(referers)]; r != "" {
					req.Header.Set("Referer", r)
				}
				if resp, err := hc.Do(req); err == nil {
					if resp.StatusCode == http.StatusFound {
						sent.Add(1)
					}
					resp.Body.Close()
				}
			}
		}
		for w := range 6 {
			wg.Go(func() { traffic(w) })
		}
		within(t, 60*time.Second, func() bool { return sent.Load() >= 1500 }, func() string {
			return fmt.Sprintf("only %d visits sent", sent.Load())
		})
		srv.kill()
		srv.restart()
		mark := sent.Load()
		within(t, 60*time.Second, func() bool { return sent.Load() >= mark+300 }, func() string {
			return fmt.Sprintf("only %d visits after the restart", sent.Load()-mark)
		})
		stop.Store(true)
		wg.Wait()
		if err := srv.stop(); err != nil { // SIGTERM writes what is buffered
			t.Fatalf("SIGTERM: %v", err)
		}

		st := openStore(t, databaseURL, dataDir)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		raw := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM interactions WHERE project_id = $1", projectID)
		if raw < 300 { // at least what came after the restart (SIGTERM writes its buffer); the kill loses the last buffered batch
			t.Fatalf("only %d interactions stored", raw)
		}
		got, err := rollups.Load(ctx, st.Read(), projectID)
		if err != nil {
			t.Fatal(err)
		}
		want, err := rollups.Recount(ctx, st.Read(), projectID)
		if err != nil {
			t.Fatal(err)
		}
		if d := rollups.Diff(want, got, 10); len(d) > 0 {
			t.Fatalf("after kill -9 the rollups differ from a recount of %d raw rows:\n%v", raw, d)
		}
		t.Logf("%d visits sent, %d interactions stored, %d rollup rows equal a recount", sent.Load(), raw, len(got))
	})
}
