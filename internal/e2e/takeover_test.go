package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// holdingReceiver counts every request as it arrives and, while held, keeps
// it waiting (until released or the sender goes away); once released it
// answers 200 at once.
type holdingReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	held    chan struct{} // closed: release
	arrived map[string]int
	ok      map[string]int
	gone    int // requests whose sender went away while held
}

func newHoldingReceiver(t *testing.T) *holdingReceiver {
	r := &holdingReceiver{held: make(chan struct{}), arrived: map[string]int{}, ok: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &env)
		r.mu.Lock()
		r.arrived[env.ID]++
		held := r.held
		r.mu.Unlock()
		select {
		case <-held:
		case <-req.Context().Done():
			r.mu.Lock()
			r.gone++
			r.mu.Unlock()
			return // the sender died: not a delivery
		}
		r.mu.Lock()
		r.ok[env.ID]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *holdingReceiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.held)
}

func (r *holdingReceiver) counts() (arrived, ok map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, o := map[string]int{}, map[string]int{}
	for k, v := range r.arrived {
		a[k] = v
	}
	for k, v := range r.ok {
		o[k] = v
	}
	return a, o
}

// A node killed with SIGKILL while sending holds its deliveries' leases only
// until they run out: at most one delivery timeout plus 3 s after its last
// renewal (it renews every second while it lives). The surviving node sends
// them within delivery timeout + 5 s of the kill — it was 2 × timeout + 30 s —
// and, because a live node renews what it holds and starts a send only with
// a timeout's worth of lease left, no delivery is ever sent by two live nodes.
func TestKilledNodeDeliveriesTakenOverQuickly(t *testing.T) {
	t.Parallel()
	const timeout = 10 * time.Second
	databaseURL := storetest.PostgresURL(t)
	rcv := newHoldingReceiver(t)
	b := startServer(t, databaseURL, "", "--delivery-timeout", timeout.String())
	key := b.createKey("takeover")
	subscribe(t, b.client(key), rcv.srv.URL+"/hook", "link.created")
	const n = 10
	for i := range n {
		b.client(key).must(http.MethodPost, "/api/links", map[string]any{"url": "https://example.com/", "key": fmt.Sprintf("take%d", i)}, http.StatusOK)
	}
	// B is sending all of them, held at the receiver.
	within(t, 20*time.Second, func() bool { a, _ := rcv.counts(); return len(a) == n }, func() string {
		a, _ := rcv.counts()
		return fmt.Sprintf("only %d of %d deliveries reached the receiver", len(a), n)
	})
	a := startServer(t, databaseURL, "", "--delivery-timeout", timeout.String())
	st := openStore(t, databaseURL, "")
	leased := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND lease_until > $1", store.Millis(time.Now()))
	if leased != n {
		t.Fatalf("%d deliveries leased before the kill, want %d (all B's)", leased, n)
	}
	b.kill()
	killedAt := time.Now()
	// The dead node's requests are dropped, not answered; only then are
	// new requests answered at once.
	within(t, 5*time.Second, func() bool { rcv.mu.Lock(); defer rcv.mu.Unlock(); return rcv.gone == n }, func() string {
		return "the killed node's requests are still open at the receiver"
	})
	rcv.release()
	within(t, timeout+5*time.Second, func() bool {
		return storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE status = 'success'") == n
	}, func() string {
		return fmt.Sprintf("%d of %d delivered %s after the kill; bound: delivery timeout + 5 s",
			storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE status = 'success'"), n, time.Since(killedAt).Round(time.Millisecond))
	})
	t.Logf("the dead node's %d deliveries were sent by the survivor %s after the kill (delivery timeout %s)",
		n, time.Since(killedAt).Round(time.Millisecond), timeout)
	if !a.running() {
		t.Fatalf("node A exited: %v", a.exitErr())
	}
	arrived, ok := rcv.counts()
	for ev, c := range ok {
		if c != 1 {
			t.Errorf("event %s delivered %d times", ev, c)
		}
		// The killed node's request, and the survivor's: never a third.
		if arrived[ev] > 2 {
			t.Errorf("event %s arrived %d times", ev, arrived[ev])
		}
	}
	if got := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM delivery_attempts"); got != n {
		t.Errorf("%d attempts recorded, want %d (one per delivery, by the survivor)", got, n)
	}
}
