package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testkit"
	"github.com/codeqr/codeqr/internal/testserver"
	"github.com/codeqr/codeqr/webhookverify"
)

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Wait(t, 15*time.Second, what, cond)
}

type received struct {
	header http.Header
	body   []byte
}

func call(t *testing.T, method, url, key, body string) (int, []byte) {
	t.Helper()
	return testkit.API(t, nil, method, url, key, body)
}

// TestListenEndToEnd runs `codeqr listen` against a running server and a local
// receiver: a created link reaches the receiver with a body and signatures
// that verify with the session's secret, the CLI prints its line, and the
// webhook is gone after the session ends.
func TestListenEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		srv := testserver.Start(t, st)
		got := make(chan received, 16)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- received{r.Header.Clone(), b}
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(recv.Close)

		var out, errOut syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan int, 1)
		go func() {
			done <- Run(ctx, []string{"listen", "--server", srv.URL, "--key", srv.Key,
				"--forward-to", recv.URL + "/hook", "--events", "link.created,link.deleted"}, &out, &errOut)
		}()
		waitFor(t, "the stream to be ready", func() bool { return strings.Contains(errOut.String(), "codeqr listen: ready") })
		readyAt := time.Now()
		m := regexp.MustCompile(`webhook (wh_\S+), signing secret (whsec_\S+)`).FindStringSubmatch(errOut.String())
		if m == nil {
			t.Fatalf("no webhook id and secret in %q", errOut.String())
		}
		hookID, secret := m[1], m[2]

		// The endpoint belongs to the key's project; ordinary webhooks have no stream.
		if code, _ := call(t, "GET", srv.URL+"/api/webhooks/"+hookID+"/listen", srv.OtherKey, ""); code != http.StatusNotFound {
			t.Fatalf("other project's key: %d", code)
		}
		if code, b := call(t, "POST", srv.URL+"/api/webhooks", srv.Key, `{"name":"x","url":"listen://session","triggers":["link.created"]}`); code != http.StatusUnprocessableEntity {
			t.Fatalf("listen url without the flag: %d %s", code, b)
		}
		if code, b := call(t, "POST", srv.URL+"/api/webhooks", srv.Key, `{"name":"x","url":"https://example.com","listen":true,"triggers":["link.created"]}`); code != http.StatusUnprocessableEntity {
			t.Fatalf("listen with a url: %d %s", code, b)
		}
		code, b := call(t, "POST", srv.URL+"/api/webhooks", srv.Key, `{"name":"plain","url":"https://example.com/hook","triggers":["link.updated"]}`)
		if code != http.StatusCreated {
			t.Fatalf("plain webhook: %d %s", code, b)
		}
		var plain struct{ ID string }
		_ = json.Unmarshal(b, &plain)
		if code, _ := call(t, "GET", srv.URL+"/api/webhooks/"+plain.ID+"/listen", srv.Key, ""); code != http.StatusUnprocessableEntity {
			t.Fatalf("stream of a plain webhook: %d", code)
		}

		// The stream must outlive the server's 1 s read and write timeouts.
		<-time.After(time.Until(readyAt.Add(1500 * time.Millisecond)))

		if code, b := call(t, "POST", srv.URL+"/api/links", srv.Key, `{"url":"https://example.com/listen"}`); code != http.StatusCreated {
			t.Fatalf("create link: %d %s", code, b)
		}
		var r received
		select {
		case r = <-got:
		case <-time.After(15 * time.Second):
			t.Fatalf("receiver got nothing; stderr %q", errOut.String())
		}
		var body struct {
			ID    string `json:"id"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil || body.Event != "link.created" || body.ID == "" {
			t.Fatalf("body %s: %v", r.body, err)
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(r.body, r.header); err != nil {
			t.Fatalf("standard webhooks verify: %v (headers %v)", err, r.header)
		}
		if r.header.Get("webhook-id") != body.ID {
			t.Fatalf("webhook-id %q, event id %q", r.header.Get("webhook-id"), body.ID)
		}
		codeqrOnly := r.header.Clone()
		codeqrOnly.Del("webhook-signature")
		if err := webhookverify.Verify(secret, codeqrOnly, r.body); err != nil {
			t.Fatalf("CodeQR-Signature: %v", err)
		}
		line := regexp.MustCompile(`(?m)^\S+ link\.created ` + regexp.QuoteMeta(body.ID) + ` → 202$`)
		waitFor(t, "the event line", func() bool { return line.MatchString(out.String()) })

		// The server logged the stream write as the delivery's success.
		waitFor(t, "a successful attempt in the log", func() bool {
			_, b := call(t, "GET", srv.URL+"/api/webhooks/"+hookID+"/deliveries?status=success", srv.Key, "")
			return strings.Contains(string(b), body.ID)
		})

		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatal("listen did not stop")
		}
		if !strings.Contains(errOut.String(), "deleted webhook "+hookID) {
			t.Fatalf("stderr %q", errOut.String())
		}
		if code, _ := call(t, "GET", srv.URL+"/api/webhooks/"+hookID, srv.Key, ""); code != http.StatusNotFound {
			t.Fatalf("webhook still there after exit: %d", code)
		}
		if n := srv.Deliverer.ListenHub().Connected(hookID); n != 0 {
			t.Fatalf("%d streams still registered", n)
		}
	})
}

func TestListenFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"listen", "--forward-to", "http://localhost:3000/hook"},
		{"listen", "--key", "k"},
		{"listen", "--key", "k", "--forward-to", "ftp://x"},
		{"listen", "--key", "k", "--forward-to", "http://localhost:3000", "--events", "link.exploded"},
	} {
		var errOut bytes.Buffer
		if code := Run(context.Background(), args, io.Discard, &errOut); code != 1 || errOut.Len() == 0 {
			t.Fatalf("%v: exit %d, %q", args, code, errOut.String())
		}
	}
}
