package e2e

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// SIGTERM ends long-lived `codeqr listen` streams instead of waiting for them,
// so the drain (buffered interactions, in-flight deliveries) still happens and
// the process exits 0 promptly.
func TestShutdownEndsListenStreams(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		srv := startServer(t, databaseURL, dataDir)
		c := srv.client(srv.firstKey)
		wh := c.must(http.MethodPost, "/api/webhooks", map[string]any{"name": "listen", "listen": true, "triggers": []string{"link.created"}}, http.StatusCreated)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL()+"/api/webhooks/"+wh.str("id")+"/listen", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+srv.firstKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "event: ready") {
			t.Fatalf("stream did not start: %q %v", line, err)
		}
		began := time.Now()
		if err := srv.signal(syscall.SIGTERM, 10*time.Second); err != nil {
			t.Fatalf("exit after SIGTERM with a stream open: %v", err)
		}
		if took := time.Since(began); took > 5*time.Second {
			t.Fatalf("shutdown took %s with a listen stream open", took)
		}
	})
}
