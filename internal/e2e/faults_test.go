package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// linkStream creates links through the API at a steady pace and records what
// the API answered to each create.
type linkStream struct {
	outcomes []createOutcome
	created  atomic.Int64
	wg       sync.WaitGroup
}

// streamLinks starts creating n links, the i-th no earlier than i×interval
// after the start, with workers concurrent requests; clientFor picks the
// client (the node) of the i-th create.
func streamLinks(prefix string, n, workers int, interval time.Duration, clientFor func(i int) *client) *linkStream {
	s := &linkStream{outcomes: make([]createOutcome, n)}
	var next atomic.Int64
	start := time.Now()
	for range workers {
		s.wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				// Pacing, not waiting for a condition: the stream must span the fault.
				time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
				s.outcomes[i] = createLink(clientFor(i), fmt.Sprintf("%s-%04d", prefix, i))
				if s.outcomes[i].linkID != "" {
					s.created.Add(1)
				}
			}
		})
	}
	return s
}

// wait returns once every create has been answered (or failed).
func (s *linkStream) wait() { s.wg.Wait() }

// acknowledged returns the links the API answered 200 for, by key, and logs
// how many creates failed.
func (s *linkStream) acknowledged(t *testing.T) map[string]string {
	t.Helper()
	ack := map[string]string{}
	var failed []string
	for _, o := range s.outcomes {
		if o.linkID != "" {
			ack[o.key] = o.linkID
		} else {
			failed = append(failed, o.key+": "+o.err)
		}
	}
	t.Logf("%d creates acknowledged, %d failed", len(ack), len(failed))
	if len(failed) > 0 {
		t.Logf("failed creates (first 3): %v", failed[:min(3, len(failed))])
	}
	return ack
}

func createLink(c *client, key string) createOutcome {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	status, raw, err := c.do(ctx, http.MethodPost, "/api/links",
		map[string]any{"url": "https://example.com/fault/" + key, "key": key})
	o := createOutcome{key: key}
	switch {
	case err != nil:
		o.err = err.Error()
	case status != http.StatusOK:
		o.err = fmt.Sprintf("status %d: %s", status, raw)
	default:
		var l struct{ ID string }
		if err := json.Unmarshal(raw, &l); err != nil || l.ID == "" {
			o.err = fmt.Sprintf("200 without an id: %s", raw)
		} else {
			o.linkID = l.ID
		}
	}
	return o
}

// checkNoEventLost asserts that every acknowledged link has exactly one
// link.created event, that no link has more than one, and that every
// link.created event in the database (also those of creates whose answer was
// lost in the fault) reaches the receiver with a 2xx within timeout.
func checkNoEventLost(t *testing.T, st *store.Store, ack map[string]string, got func() map[string]int, timeout time.Duration) {
	t.Helper()
	eventsOf := linkCreatedEvents(t, st)
	for key, id := range ack {
		if n := len(eventsOf[id]); n != 1 {
			t.Errorf("link %s (%s) was acknowledged and has %d link.created events, want exactly 1", key, id, n)
		}
	}
	want := map[string]bool{}
	for id, evs := range eventsOf {
		if len(evs) > 1 {
			t.Errorf("link %s has %d link.created events", id, len(evs))
		}
		for _, e := range evs {
			want[e] = true
		}
	}
	if len(want) < len(ack) {
		t.Errorf("%d link.created events for %d acknowledged links", len(want), len(ack))
	}
	missing := func() []string {
		g := got()
		var m []string
		for e := range want {
			if g[e] == 0 {
				m = append(m, e)
			}
		}
		sort.Strings(m)
		return m
	}
	began := time.Now()
	within(t, timeout, func() bool { return len(missing()) == 0 }, func() string {
		m := missing()
		return fmt.Sprintf("%d of %d events never reached the receiver, e.g. %v", len(m), len(want), m[:min(5, len(m))])
	})
	dups := 0
	for _, n := range got() {
		dups += max(n-1, 0)
	}
	t.Logf("all %d events delivered (last one %s after the check began); %d duplicate deliveries (allowed)",
		len(want), time.Since(began).Round(time.Millisecond), dups)
}

// tcpProxy forwards TCP connections to a target, and can cut them: close
// every open connection and turn new ones away until restored. It stands
// between codeqr and PostgreSQL to make the database vanish mid-stream.
type tcpProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]struct{}
	refused int
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed at cleanup
		}
		go p.pipe(c)
	}
}

// track registers c unless the proxy is down, in which case it closes c.
func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		p.refused++
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

func (p *tcpProxy) pipe(c net.Conn) {
	if !p.track(c) {
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		p.untrack(c)
		return
	}
	if !p.track(up) {
		p.untrack(c)
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	p.untrack(c, up)
}

// cut closes every open connection, both ways, and turns new ones away.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore accepts connections again.
func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *tcpProxy) refusedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// viaProxy rewrites a PostgreSQL URL to connect through addr.
func viaProxy(t *testing.T, databaseURL, addr string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// readyStatus is the status of /readyz, 0 when it does not answer.
func readyStatus(s *server) int {
	hc := &http.Client{Timeout: 3 * time.Second}
	resp, err := hc.Get(s.URL() + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

const (
	cutLinks    = 300
	cutDuration = 3 * time.Second
)

// The connection to PostgreSQL is cut for 3 s in the middle of a stream of
// creates and deliveries, then restored: the process survives, becomes ready
// again, every acknowledged link has exactly one event, and every event
// reaches the receiver.
func TestPostgresConnectionCut(t *testing.T) {
	t.Parallel()
	direct := storetest.PostgresURL(t)
	pg, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, pg.Host)
	rcv := newReceiver(t)
	// Slow enough (10 in flight × 300 ms ≈ 33/s, creates come at 50/s) that
	// sends are in flight and rows queued when the database goes away.
	rcv.setDelay(300 * time.Millisecond)
	// Retries must outlast the cut: a delivery that fails to be written during
	// the cut is retried, not given up on.
	srv := startServer(t, viaProxy(t, direct, proxy.addr()), "",
		"--delivery-timeout", "2s", "--retry-schedule", "200ms,500ms,1s,2s,2s,2s")
	c := srv.client(srv.createKey("fault"))
	subscribe(t, c, rcv.URL(), "link.created")

	stream := streamLinks("cut", cutLinks, 6, 20*time.Millisecond, func(int) *client { return c })
	within(t, 30*time.Second, func() bool { return stream.created.Load() >= cutLinks/3 }, func() string {
		return fmt.Sprintf("only %d links created before the cut", stream.created.Load())
	})
	proxy.cut()
	cutAt := time.Now()
	createdAtCut, receivedAtCut := stream.created.Load(), rcv.count()
	within(t, 5*time.Second, func() bool { return readyStatus(srv) == http.StatusServiceUnavailable }, func() string {
		return "/readyz did not report the database gone during the cut"
	})
	time.Sleep(time.Until(cutAt.Add(cutDuration))) // the length of the outage is the point
	proxy.restore()
	t.Logf("cut for %s after %d creates and %d deliveries; %d connections turned away; during the cut %d creates and %d deliveries completed",
		cutDuration, createdAtCut, receivedAtCut, proxy.refusedCount(), stream.created.Load()-createdAtCut, rcv.count()-receivedAtCut)

	within(t, 15*time.Second, func() bool { return readyStatus(srv) == http.StatusOK }, func() string {
		return "/readyz did not become 200 again after the database came back"
	})
	restoredAt := time.Now()
	stream.wait()
	if !srv.running() {
		t.Fatalf("codeqr exited after the cut: %v", srv.exitErr())
	}
	ack := stream.acknowledged(t)
	if receivedAtCut >= int(createdAtCut) {
		t.Errorf("no delivery backlog at the cut (%d created, %d received): the test proves nothing", createdAtCut, receivedAtCut)
	}
	if int64(len(ack)) <= createdAtCut {
		t.Errorf("no create succeeded after the database came back (%d acknowledged, %d at the cut)", len(ack), createdAtCut)
	}
	st := openStore(t, direct, "")
	checkNoEventLost(t, st, ack, rcv.eventIDs, 60*time.Second)
	t.Logf("everything delivered %s after the restore", time.Since(restoredAt).Round(time.Millisecond))
	// The outcomes of sends that finished during the cut are written once the
	// database is back, not left leased to be sent a second time a lease later.
	within(t, 15*time.Second, func() bool {
		return storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'") == 0
	}, func() string {
		return fmt.Sprintf("%d deliveries still pending after every event arrived",
			storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"))
	})
	logServerErrors(t, srv)
	if !srv.running() {
		t.Fatalf("codeqr exited: %v", srv.exitErr())
	}
}

// logServerErrors logs how many error and warning lines the server wrote, by
// message, so a run shows how the server lived through a fault.
func logServerErrors(t *testing.T, s *server) {
	t.Helper()
	counts := map[string]int{}
	var order []string
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		m := logLineRE.FindStringSubmatch(line)
		if m == nil || (m[1] != "ERROR" && m[1] != "WARN") {
			continue
		}
		k := m[1] + " " + m[2]
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	for _, k := range order {
		t.Logf("server log: %d× %s", counts[k], k)
	}
}

var logLineRE = regexp.MustCompile(`level=(\w+) msg="([^"]*)"`)

// downableReceiver is a receiver whose listener can be closed (connections
// are then refused) and reopened on the same port.
type downableReceiver struct {
	*receiver
	t    *testing.T
	addr string

	mu sync.Mutex
	hs *http.Server
}

func newDownableReceiver(t *testing.T) *downableReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &downableReceiver{receiver: &receiver{}, t: t, addr: ln.Addr().String()}
	r.serveOn(ln)
	t.Cleanup(r.down)
	return r
}

func (r *downableReceiver) URL() string { return "http://" + r.addr + "/hook" }

func (r *downableReceiver) serveOn(ln net.Listener) {
	hs := &http.Server{Handler: http.HandlerFunc(r.serve)}
	r.mu.Lock()
	r.hs = hs
	r.mu.Unlock()
	go func() { _ = hs.Serve(ln) }()
}

// down closes the listener and every connection: new connections are refused.
func (r *downableReceiver) down() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hs != nil {
		_ = r.hs.Close()
		r.hs = nil
	}
}

// up listens again on the same port.
func (r *downableReceiver) up() {
	r.t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("receiver: listen again on %s: %v", r.addr, err)
	}
	r.serveOn(ln)
}

// The receiver refuses connections for 2 s in the middle of a stream: the
// attempts made meanwhile fail ("connection refused") and are retried on a
// short schedule, and every event arrives.
func TestReceiverRefusingConnections(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		rcv := newDownableReceiver(t)
		// The schedule (≈ 5.7 s in all) outlasts the outage.
		srv := startServer(t, databaseURL, dataDir, "--retry-schedule", "200ms,500ms,1s,1s,1s,2s")
		c := srv.client(srv.createKey("fault"))
		subscribe(t, c, rcv.URL(), "link.created")

		const n = 200
		stream := streamLinks("refuse", n, 4, 20*time.Millisecond, func(int) *client { return c })
		within(t, 30*time.Second, func() bool { return rcv.count() >= n/4 }, func() string {
			return fmt.Sprintf("only %d deliveries before the outage", rcv.count())
		})
		rcv.down()
		before := rcv.count()
		time.Sleep(2 * time.Second) // the outage is the point
		rcv.up()
		t.Logf("receiver refused connections for 2s after %d deliveries", before)
		stream.wait()
		ack := stream.acknowledged(t)
		if len(ack) != n {
			t.Errorf("%d of %d creates acknowledged; the database was never at fault here", len(ack), n)
		}
		st := openStore(t, databaseURL, dataDir)
		checkNoEventLost(t, st, ack, rcv.eventIDs, 30*time.Second)
		refused := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM delivery_attempts WHERE error = 'connection refused'")
		if refused == 0 {
			t.Errorf("no attempt was refused: the outage did not happen during delivery")
		}
		t.Logf("%d attempts were refused and retried", refused)
	})
}

// Two nodes on one PostgreSQL database share the creates; one is killed with
// SIGKILL mid-stream. The survivor sends everything, including the rows the
// dead node had claimed, once their leases (delivery timeout + 3 s after the
// dead node's last renewal) run out.
func TestTwoNodesOneKilled(t *testing.T) {
	t.Parallel()
	databaseURL := storetest.PostgresURL(t)
	rcv := newReceiver(t)
	// 10 in flight per node × 150 ms ≈ 67/s per node, below the create rate
	// with both nodes: each node holds claimed rows when B dies.
	rcv.setDelay(150 * time.Millisecond)
	a := startServer(t, databaseURL, "", "--delivery-timeout", "2s")
	b := startServer(t, databaseURL, "", "--delivery-timeout", "2s")
	key := a.createKey("fault")
	ca, cb := a.client(key), b.client(key)
	subscribe(t, ca, rcv.URL(), "link.created")

	const n = 300
	var bDead atomic.Bool
	stream := streamLinks("twonode", n, 6, 10*time.Millisecond, func(i int) *client {
		if i%2 == 1 && !bDead.Load() {
			return cb
		}
		return ca
	})
	within(t, 30*time.Second, func() bool { return stream.created.Load() >= n/2 }, func() string {
		return fmt.Sprintf("only %d links created before the kill", stream.created.Load())
	})
	b.kill()
	bDead.Store(true)
	killedAt := time.Now()
	st := openStore(t, databaseURL, "")
	leased := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND lease_until > $1", store.Millis(time.Now()))
	t.Logf("node B killed after %d creates and %d deliveries; %d rows leased (both nodes) at the kill", stream.created.Load(), rcv.count(), leased)
	stream.wait()
	if !a.running() {
		t.Fatalf("node A exited: %v", a.exitErr())
	}
	ack := stream.acknowledged(t)
	checkNoEventLost(t, st, ack, rcv.eventIDs, 60*time.Second)
	t.Logf("everything delivered %s after the kill", time.Since(killedAt).Round(time.Millisecond))
}
