package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// Limits of a listen session.
const (
	listenMaxEvent     = 8 << 20 // one SSE line (a delivery's JSON) at most
	listenForwards     = 16      // local POSTs in flight at once
	listenForwardLimit = 30 * time.Second
	listenCleanupLimit = 10 * time.Second
	listenMaxBackoff   = 10 * time.Second
)

// listenSession is one `codeqr listen` run: the webhook it made on the
// server and where its deliveries go.
type listenSession struct {
	server    *url.URL
	key       string
	forwardTo string
	api       *http.Client // requests to the server (no overall timeout: the stream is long)
	local     *http.Client // POSTs to the developer's receiver
	stdout    io.Writer
	stderr    io.Writer
	outMu     sync.Mutex
	webhookID string
}

// runListen is `codeqr listen`: like `stripe listen`, it subscribes to the
// project's events for the duration of the session, receives them over an
// outbound Server-Sent Events connection (so the developer's machine needs no
// public URL), forwards each — body and signature headers unchanged — to
// --forward-to, prints one line per event, and deletes its webhook on exit
// (SIGINT or SIGTERM). See docs/listen.md.
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://localhost:8080", "URL of the codeqr server")
	key := fs.String("key", "", "API key of the project (needs webhooks.read and webhooks.write)")
	forwardTo := fs.String("forward-to", "", "local URL each event is POSTed to, e.g. http://localhost:3000/hook")
	eventList := fs.String("events", "", "comma-separated event types (default: every project-level type)")
	name := fs.String("name", "", "name of the session's webhook (default: codeqr listen on <host>)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	triggers, err := listenTriggers(*eventList)
	if err != nil {
		return err
	}
	s, err := newListenSession(*server, *key, *forwardTo, stdout, stderr)
	if err != nil {
		return err
	}
	if *name == "" {
		host, _ := os.Hostname()
		*name = strings.TrimSpace("codeqr listen on " + host)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	secret, err := s.create(ctx, *name, triggers)
	if err != nil {
		return err
	}
	defer s.cleanup()
	fmt.Fprintf(stderr, "codeqr listen: webhook %s, signing secret %s\n", s.webhookID, secret)
	fmt.Fprintf(stderr, "codeqr listen: forwarding %s to %s (Ctrl-C to stop)\n", joinTypes(triggers), s.forwardTo)
	return s.stream(ctx)
}

func newListenSession(server, key, forwardTo string, stdout, stderr io.Writer) (*listenSession, error) {
	if strings.TrimSpace(key) == "" {
		return nil, errors.New("listen: --key is required (or CODEQR_KEY)")
	}
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("listen: --server must be an http(s) URL, not %q", server)
	}
	f, err := url.Parse(forwardTo)
	if forwardTo == "" || err != nil || (f.Scheme != "http" && f.Scheme != "https") || f.Host == "" {
		return nil, fmt.Errorf("listen: --forward-to must be an http(s) URL such as http://localhost:3000/hook, not %q", forwardTo)
	}
	return &listenSession{
		server: u, key: strings.TrimSpace(key), forwardTo: forwardTo, stdout: stdout, stderr: stderr,
		api: &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 30 * time.Second}},
		local: &http.Client{
			Timeout: listenForwardLimit,
			// A real delivery follows no redirect; neither does its rehearsal.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// listenTriggers parses --events; empty means every project-level type (the
// interaction types need a selection of links, QR codes or pages).
func listenTriggers(list string) ([]events.Type, error) {
	var out []events.Type
	if strings.TrimSpace(list) == "" {
		for _, t := range events.AllTypes() {
			if t.Scope() == events.ScopeProject {
				out = append(out, t)
			}
		}
		return out, nil
	}
	for _, p := range strings.Split(list, ",") {
		t := events.Type(strings.TrimSpace(p))
		if !t.Valid() {
			return nil, fmt.Errorf("listen: --events: unknown event type %q", t)
		}
		out = append(out, t)
	}
	return out, nil
}

func joinTypes(ts []events.Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

// call makes one JSON request to the server and decodes a 2xx answer into out.
func (s *listenSession) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.server.String()+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.api.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// create makes the session's webhook and returns its signing secret.
func (s *listenSession) create(ctx context.Context, name string, triggers []events.Type) (string, error) {
	var wh webhooks.WithSecret
	err := s.call(ctx, http.MethodPost, "/api/webhooks", webhooks.CreateRequest{Name: name, Triggers: triggers, Listen: true}, &wh)
	if err != nil {
		return "", fmt.Errorf("listen: create webhook: %w", err)
	}
	s.webhookID = wh.ID
	return wh.Secret, nil
}

// cleanup deletes the session's webhook, also after the session's context
// ended (that is the normal way out).
func (s *listenSession) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), listenCleanupLimit)
	defer cancel()
	if err := s.call(ctx, http.MethodDelete, "/api/webhooks/"+url.PathEscape(s.webhookID), nil, nil); err != nil {
		fmt.Fprintf(s.stderr, "codeqr listen: could not delete webhook %s (delete it yourself): %v\n", s.webhookID, err)
		return
	}
	fmt.Fprintf(s.stderr, "codeqr listen: deleted webhook %s\n", s.webhookID)
}

// errStreamFatal marks a stream failure that reconnecting cannot fix.
type errStreamFatal struct{ err error }

func (e errStreamFatal) Error() string { return e.err.Error() }

// stream reads the listen stream until ctx ends, reconnecting with backoff
// after network failures, and forwards every delivery.
func (s *listenSession) stream(ctx context.Context) error {
	var forwards sync.WaitGroup
	defer forwards.Wait()
	slots := make(chan struct{}, listenForwards)
	backoff := 500 * time.Millisecond
	for {
		connected, err := s.readStream(ctx, func(m delivery.ListenMessage) {
			slots <- struct{}{}
			forwards.Add(1)
			go func() {
				defer func() { <-slots; forwards.Done() }()
				s.forward(ctx, m)
			}()
		})
		if ctx.Err() != nil {
			return nil
		}
		var fatal errStreamFatal
		if errors.As(err, &fatal) {
			return fmt.Errorf("listen: %w", fatal.err)
		}
		if connected {
			backoff = 500 * time.Millisecond
		}
		fmt.Fprintf(s.stderr, "codeqr listen: stream lost (%v); reconnecting in %s\n", err, backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// readStream reads one connection of the stream. It reports whether the
// stream got as far as its "ready" event.
func (s *listenSession) readStream(ctx context.Context, deliver func(delivery.ListenMessage)) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.server.String()+"/api/webhooks/"+url.PathEscape(s.webhookID)+"/listen", nil)
	if err != nil {
		return false, errStreamFatal{err}
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := s.api.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		err := fmt.Errorf("stream: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
		if resp.StatusCode/100 == 4 {
			return false, errStreamFatal{err} // gone, or the key cannot read it
		}
		return false, err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), listenMaxEvent)
	var event, data string
	ready := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			switch event {
			case "ready":
				ready = true
				fmt.Fprintf(s.stderr, "codeqr listen: ready\n")
			case "delivery":
				var m delivery.ListenMessage
				if err := json.Unmarshal([]byte(data), &m); err != nil {
					fmt.Fprintf(s.stderr, "codeqr listen: unreadable delivery: %v\n", err)
				} else {
					deliver(m)
				}
			}
			event, data = "", ""
		case strings.HasPrefix(line, ":"): // comment (heartbeat)
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data != "" {
				data += "\n"
			}
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
	if err := sc.Err(); err != nil {
		return ready, err
	}
	return ready, io.ErrUnexpectedEOF
}

// forward POSTs one delivery to the local receiver with its original headers
// and body, and prints the line of the event.
func (s *listenSession) forward(ctx context.Context, m delivery.ListenMessage) {
	outcome := func() string {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.forwardTo, strings.NewReader(m.Body))
		if err != nil {
			return "error: " + err.Error()
		}
		for k, v := range m.Headers {
			req.Header[k] = []string{v} // keys kept as sent (webhook-* are lower-case)
		}
		resp, err := s.local.Do(req)
		if err != nil {
			return "error: " + err.Error()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return fmt.Sprint(resp.StatusCode)
	}()
	test := ""
	if m.Test {
		test = " (test)"
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	fmt.Fprintf(s.stdout, "%s %s %s → %s%s\n", time.Now().Format(time.RFC3339), m.Type, m.EventID, outcome, test)
}
