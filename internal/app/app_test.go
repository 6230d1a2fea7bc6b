package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func testConfig() config.Config {
	return config.Config{BaseURL: "http://go.test", FlushInterval: time.Hour}.WithDefaults()
}

// fakeWorker logs its starts and stops into a shared journal.
type fakeWorker struct {
	name     string
	journal  *journal
	startErr error
	block    bool // Stop waits for ctx
}

type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, s)
}

func (j *journal) all() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.entries)
}

func (w *fakeWorker) Start(context.Context) error {
	if w.startErr != nil {
		return w.startErr
	}
	w.journal.add("start " + w.name)
	return nil
}

func (w *fakeWorker) Stop(ctx context.Context) error {
	if w.block {
		<-ctx.Done()
		w.journal.add("gave up " + w.name)
		return ctx.Err()
	}
	w.journal.add("stop " + w.name)
	return nil
}

func newBare(t *testing.T) *App {
	t.Helper()
	a, err := New(Options{Config: testConfig(), Store: storetest.New(t, "sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Workers start in order and stop in reverse order; a stop that overruns
// the deadline fails, but the workers before it are still stopped.
func TestWorkersStopInReverseOrderUnderOneDeadline(t *testing.T) {
	t.Parallel()
	j := &journal{}
	a := newBare(t)
	a.workers = []namedWorker{
		{"a", &fakeWorker{name: "a", journal: j}},
		{"b", &fakeWorker{name: "b", journal: j, block: true}},
		{"c", &fakeWorker{name: "c", journal: j}},
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := a.Stop(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stop b") {
		t.Errorf("Stop = %v, want b's deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %v, beyond its deadline", d)
	}
	want := []string{"start a", "start b", "start c", "stop c", "gave up b", "stop a"}
	if got := j.all(); !slices.Equal(got, want) {
		t.Errorf("journal %q, want %q", got, want)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := a.Start(context.Background()); err == nil {
		t.Error("Start after Stop succeeded")
	}
	select {
	case <-a.draining:
	default:
		t.Error("Stop did not begin the drain of long-lived streams")
	}
}

// A worker that fails to start makes Start stop those already started and
// return its error.
func TestStartFailureStopsWhatStarted(t *testing.T) {
	t.Parallel()
	j := &journal{}
	a := newBare(t)
	boom := errors.New("boom")
	a.workers = []namedWorker{
		{"a", &fakeWorker{name: "a", journal: j}},
		{"b", &fakeWorker{name: "b", journal: j}},
		{"c", &fakeWorker{name: "c", journal: j, startErr: boom}},
		{"d", &fakeWorker{name: "d", journal: j}},
	}
	if err := a.Start(context.Background()); !errors.Is(err, boom) || !strings.Contains(err.Error(), "start c") {
		t.Fatalf("Start = %v, want c's error", err)
	}
	want := []string{"start a", "start b", "stop b", "stop a"}
	if got := j.all(); !slices.Equal(got, want) {
		t.Errorf("journal %q, want %q", got, want)
	}
}

// The real workers: Stop writes every buffered interaction (the pipeline
// flushes only every hour here) before it returns.
func TestStopDrainsBufferedInteractions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, err := New(Options{Config: testConfig(), Store: st})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		defer srv.Close()
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		p, _, _, err := a.Projects.EnsureWithKey(ctx, "p1", "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		key := "drain"
		l, err := a.Links.Create(ctx, p.ID, links.CreateRequest{URL: "https://example.com/", Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/drain", nil)
		req.Host = "go.test"
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET /drain: %d", resp.StatusCode)
		}
		if n := a.Interactions.Pending(); n != 1 {
			t.Fatalf("%d interactions buffered, want 1", n)
		}
		srv.Close() // the HTTP server first, as serve does
		stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := a.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM interactions WHERE link_id = $1", l.ID); n != 1 {
			t.Errorf("%d interactions written by Stop, want 1", n)
		}
	})
}

// The dashboard plugs in through Options.Dashboard: it is given the finished
// App and serves everything under /app/, next to the API and short links.
func TestDashboardMountsUnderApp(t *testing.T) {
	t.Parallel()
	var seen *App
	a, err := New(Options{Config: testConfig(), Store: storetest.New(t, "sqlite"), Dashboard: func(a *App) http.Handler {
		seen = a
		if a.Links == nil || a.Pages == nil || a.Analytics == nil || a.Webhooks == nil || a.Projects == nil {
			t.Error("the dashboard was given an App without its services")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "dashboard "+r.URL.Path)
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	if seen != a {
		t.Fatal("Dashboard was not called with the App New returned")
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/app/", "/app/links/x"} {
		if status, body := get(path); status != http.StatusOK || body != "dashboard "+path {
			t.Errorf("GET %s: %d %q, want the dashboard", path, status, body)
		}
	}
	if status, body := get("/healthz"); status != http.StatusOK || !strings.Contains(body, "ok") {
		t.Errorf("GET /healthz: %d %q", status, body)
	}
	if status, body := get("/nothing"); status != http.StatusNotFound || strings.Contains(body, "dashboard") {
		t.Errorf("GET /nothing: %d %q, want the public 404", status, body)
	}
}
