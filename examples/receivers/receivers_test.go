// Package receivers_test runs the Node and Python receiver examples against
// real signed deliveries from a running codeqr server. The interpreters are
// required: a machine without node or python3 fails these tests, loudly.
package receivers_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testserver"
)

func TestNodeReceiver(t *testing.T) {
	t.Parallel()
	runExample(t, "node", "node/server.js")
}

func TestPythonReceiver(t *testing.T) {
	t.Parallel()
	runExample(t, "python3", "python/server.py")
}

// lines collects a child's output for polling.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s + "\n")
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runExample starts the example with the webhook's secret, points the webhook
// at it, creates a link, and checks that the real delivery was verified and
// answered 204, that the same request replayed verifies too, and that a
// tampered body or a wrong secret is refused with 401.
func runExample(t *testing.T, interpreter, script string) {
	bin, err := exec.LookPath(interpreter)
	if err != nil {
		t.Fatalf("%s is required to test examples/receivers/%s: %v", interpreter, script, err)
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		srv := testserver.Start(t, st)
		hookID, secret := srv.CreateWebhook(t, "https://example.com/placeholder")

		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, script)
		cmd.Env = append(cmd.Environ(), "CODEQR_WEBHOOK_SECRET="+secret, "PORT=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out := &lines{}
		copied := make(chan struct{})
		go func() {
			defer close(copied)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				out.add(sc.Text())
			}
		}()
		t.Cleanup(func() {
			cancel()
			<-copied
			_ = cmd.Wait()
		})
		port := regexp.MustCompile(`listening on (\d+)`)
		waitFor(t, interpreter+" to listen", func() bool { return port.MatchString(out.String()) })
		base := "http://127.0.0.1:" + port.FindStringSubmatch(out.String())[1]
		srv.SetURL(t, hookID, base+"/hook")

		eventID, status, sent := srv.CreateLink(t, hookID)
		if status != http.StatusNoContent {
			t.Fatalf("real delivery answered %d; stderr %s", status, stderr.String())
		}
		waitFor(t, "the verified line", func() bool { return strings.Contains(out.String(), "verified link.created "+eventID) })

		body := srv.Payload(t, eventID)
		post := func(h http.Header, b []byte) int {
			req, err := http.NewRequest(http.MethodPost, base+"/hook", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := post(sent.Clone(), body); code != http.StatusNoContent {
			t.Fatalf("the same delivery replayed at once: %d", code)
		}
		if code := post(sent.Clone(), bytes.Replace(body, []byte("link.created"), []byte("link.deleted"), 1)); code != http.StatusUnauthorized {
			t.Fatalf("tampered body: %d", code)
		}
		// Correctly signed, but with another webhook's secret.
		_, otherSecret := srv.CreateWebhook(t, "https://example.com/other")
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(otherSecret, "whsec_"))
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(sent.Get("webhook-id") + "." + sent.Get("webhook-timestamp") + "."))
		mac.Write(body)
		forged := sent.Clone()
		forged.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		if code := post(forged, body); code != http.StatusUnauthorized {
			t.Fatalf("signed with the wrong secret: %d", code)
		}
	})
}
