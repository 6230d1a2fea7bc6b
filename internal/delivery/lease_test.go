package delivery

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func openShared(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, "", store.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// Rows held longer than a lease — queued behind their webhook's one slot
// while a slow receiver answers — keep their leases by renewal, so two nodes
// on one PostgreSQL database still send every delivery exactly once. Without
// renewal a queued row would be left to the next claim (its lease too short
// to start a send) and the other node could take it mid-wait.
func TestRenewedLeasesOutlastSlowSends(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	a, b := openShared(t, url), openShared(t, url)
	// Each request takes 2.7 s of a 3 s timeout; the lease is 6 s. A queued
	// row waits 2.7 s, leaving 3.3 s of its claim's lease: less than the 3.5 s
	// a send needs, so only a renewal lets it be sent.
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(2700 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	})
	project := newProject(t, a)
	newHook(t, a, project, rc.URL)
	cfg := testConfig()
	cfg.DeliveryTimeout = 3 * time.Second
	cfg.WebhookConcurrency = 1
	da := startDeliverer(t, a, cfg, options{})
	db := startDeliverer(t, b, cfg, options{})
	const n = 6
	evs := emit(t, a, da, project, n)
	db.Notify()
	waitFor(t, 60*time.Second, "every delivery", func() bool {
		return count(t, a, "SELECT COUNT(*) FROM deliveries WHERE status = 'success'") == n
	})
	seen := map[string]int{}
	for _, r := range rc.requests() {
		seen[r.header.Get("webhook-id")]++
	}
	for _, ev := range evs {
		if seen[ev] != 1 {
			t.Errorf("event %s delivered %d times", ev, seen[ev])
		}
	}
	if got := count(t, a, "SELECT COUNT(*) FROM delivery_attempts"); got != n {
		t.Errorf("%d attempts, want %d", got, n)
	}
}

// A renewal extends only this node's leases: a row whose lease_owner is
// another node's is not renewed, not sent from here, and not handed back by
// Stop (that would free another node's row).
func TestRenewalTouchesOnlyOwnRows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		release := make(chan struct{})
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusNoContent)
		})
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		cfg := testConfig()
		cfg.WebhookConcurrency = 1
		cfg.DeliveryTimeout = 20 * time.Second // the held send must not time out
		d := startDeliverer(t, st, cfg, options{})
		evs := emit(t, st, d, project, 2)
		// One row sends (held at the receiver), the other waits in the queue.
		waitFor(t, 10*time.Second, "both rows claimed", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE lease_owner = $1", d.owner) == 2
		})
		first := count(t, st, "SELECT MIN(lease_until) FROM deliveries WHERE webhook_id = $1", h.id)
		waitFor(t, 10*time.Second, "a renewal", func() bool {
			return count(t, st, "SELECT MIN(lease_until) FROM deliveries WHERE webhook_id = $1", h.id) > first
		})
		// The queued row is taken over by "another node".
		waitFor(t, 10*time.Second, "the first send at the receiver", func() bool { return rc.count() == 1 })
		queued := evs[0]
		if rc.requests()[0].header.Get("webhook-id") == evs[0] {
			queued = evs[1]
		}
		mustWrite(t, st, "UPDATE deliveries SET lease_owner = 'other-node', lease_until = lease_until + 600000 WHERE event_id = $1", queued)
		before := count(t, st, "SELECT lease_until FROM deliveries WHERE event_id = $1", queued)
		// After the next renewal this node knows it lost the row.
		waitFor(t, 10*time.Second, "the lost row noticed", func() bool {
			d.mu.Lock()
			defer d.mu.Unlock()
			for id, end := range d.leased {
				if end.IsZero() && id > 0 {
					return true
				}
			}
			return false
		})
		close(release)
		waitFor(t, 10*time.Second, "the held send recorded", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'success'") == 1
		})
		stop(t, d)
		if n := rc.count(); n != 1 {
			t.Errorf("%d requests: the row another node owns was sent from here", n)
		}
		if after := count(t, st, "SELECT lease_until FROM deliveries WHERE event_id = $1", queued); after != before {
			t.Errorf("the other node's lease changed from %d to %d", before, after)
		}
		if owner := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE event_id = $1 AND lease_owner = 'other-node' AND status = 'pending'", queued); owner != 1 {
			t.Error("the other node's row was handed back or completed here")
		}
	})
}
