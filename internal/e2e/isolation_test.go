package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

const (
	isolationEvents   = 500
	isolationInterval = 10 * time.Millisecond // 500 events over 5 s
)

// latencies returns, per event id, the time from the event's createdAt to its
// first 2xx delivery at the receiver.
func latencies(t *testing.T, r *receiver) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	for _, d := range r.all() {
		if d.Status/100 != 2 {
			continue
		}
		var env struct {
			ID        string `json:"id"`
			CreatedAt string `json:"createdAt"`
		}
		if err := json.Unmarshal(d.Body, &env); err != nil {
			t.Fatalf("delivery body: %v", err)
		}
		at, err := time.Parse(time.RFC3339Nano, env.CreatedAt)
		if err != nil {
			t.Fatalf("createdAt %q: %v", env.CreatedAt, err)
		}
		if _, seen := out[env.ID]; !seen {
			out[env.ID] = d.At.Sub(at)
		}
	}
	return out
}

// percentiles returns the p50 and p99 of the latencies of the given events.
func percentiles(lat map[string]time.Duration, ids map[string]bool) (p50, p99 time.Duration) {
	var v []time.Duration
	for id := range ids {
		if d, ok := lat[id]; ok {
			v = append(v, d)
		}
	}
	if len(v) == 0 {
		return 0, 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	at := func(q float64) time.Duration { return v[min(len(v)-1, int(q*float64(len(v))))] }
	return at(0.50), at(0.99)
}

// One webhook's receiver hangs past the delivery timeout on every request;
// another is healthy. Under 500 events in 5 s the healthy one receives every
// event while the other is still hanging. The test also measures the healthy
// webhook's event-to-delivery latency alone (a first phase, before the
// hanging webhook exists) and beside the hanging one, and logs p50/p99 of
// both: the figure for BENCHMARKS.md (it asserts nothing about them, the
// machine's load decides them).
func TestHangingWebhookDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		healthy, hanging := newReceiver(t), newReceiver(t)
		hanging.setDelay(10 * time.Second) // far past --delivery-timeout 1s
		srv := startServer(t, databaseURL, dataDir, "--delivery-timeout", "1s", "--retry-schedule", "1s,1s,1s,1s,1s")
		c := srv.client(srv.createKey("isolation"))
		healthyID, _ := subscribe(t, c, healthy.URL(), "link.created")
		st := openStore(t, databaseURL, dataDir)

		// Phase 1: the healthy webhook alone.
		alone := runIsolationPhase(t, st, c, healthy, "alone")

		// Phase 2: the same load with a hanging neighbour.
		hangingID, _ := subscribe(t, c, hanging.URL(), "link.created")
		beside := runIsolationPhase(t, st, c, healthy, "beside")
		if n := hanging.count(); n != 0 {
			t.Errorf("the hanging receiver completed %d requests; it should never have answered", n)
		}
		timeouts := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM delivery_attempts WHERE webhook_id = $1 AND error LIKE 'timeout%'", hangingID)
		pending := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1 AND status = 'pending'", hangingID)
		if timeouts == 0 || pending == 0 {
			t.Errorf("hanging webhook: %d timed-out attempts, %d deliveries pending; want both > 0 (it must still be hanging)", timeouts, pending)
		}
		// The receiver has them all; their outcomes are written a moment later.
		succeeded := func() int {
			return storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1 AND status = 'success'", healthyID)
		}
		within(t, 10*time.Second, func() bool { return succeeded() == 2*isolationEvents }, func() string {
			return fmt.Sprintf("healthy webhook: %d successful deliveries, want %d", succeeded(), 2*isolationEvents)
		})
		t.Logf("healthy webhook event→delivery latency, %d events at %d/s (%s):  alone p50 %s p99 %s;  beside a hanging webhook p50 %s p99 %s (%d timed-out attempts, %d still pending on the hanging one)",
			isolationEvents, int(time.Second/isolationInterval), storeName(databaseURL),
			alone.p50, alone.p99, beside.p50, beside.p99, timeouts, pending)
	})
}

type phaseResult struct{ p50, p99 time.Duration }

// runIsolationPhase creates isolationEvents links at a steady rate and waits
// until healthy has received every one of their events.
func runIsolationPhase(t *testing.T, st *store.Store, c *client, healthy *receiver, name string) phaseResult {
	t.Helper()
	stream := streamLinks("iso-"+name, isolationEvents, 8, isolationInterval, func(int) *client { return c })
	stream.wait()
	ack := stream.acknowledged(t)
	if len(ack) != isolationEvents {
		t.Fatalf("%s: %d of %d creates acknowledged", name, len(ack), isolationEvents)
	}
	// This phase's events: those of the links created in it.
	ids := map[string]bool{}
	for _, id := range ack {
		ids[id] = true
	}
	want := map[string]bool{}
	for link, evs := range linkCreatedEvents(t, st) {
		if ids[link] {
			for _, e := range evs {
				want[e] = true
			}
		}
	}
	if len(want) != isolationEvents {
		t.Fatalf("%s: %d link.created events for %d links", name, len(want), isolationEvents)
	}
	var lat map[string]time.Duration
	within(t, 30*time.Second, func() bool {
		lat = latencies(t, healthy)
		for e := range want {
			if _, ok := lat[e]; !ok {
				return false
			}
		}
		return true
	}, func() string {
		return fmt.Sprintf("%s: the healthy receiver has %d of %d events", name, len(lat), len(want))
	})
	p50, p99 := percentiles(lat, want)
	return phaseResult{p50, p99}
}

func storeName(databaseURL string) string {
	if databaseURL == "" {
		return "SQLite"
	}
	return "PostgreSQL"
}
