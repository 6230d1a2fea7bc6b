package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

const (
	crashLinks   = 500
	crashWorkers = 8
	// The server is killed once the API acknowledged killAfterCreates links or
	// the receiver saw killAfterDeliveries deliveries, whichever comes first:
	// creates are then still arriving and deliveries queued or in flight.
	killAfterCreates    = crashLinks / 2
	killAfterDeliveries = 100
)

// createOutcome is what the API said to one create request.
type createOutcome struct {
	key    string
	linkID string // set when the API answered 200
	err    string // transport error or unexpected status
}

// kill -9 in the middle of a stream of link creations and slow deliveries, then
// restart on the same data: every link the API acknowledged exists with exactly
// one link.created event, and every event reaches the receiver at least once.
func TestCrashLosesNoEvent(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		rcv := newReceiver(t)
		rcv.setDelay(30 * time.Millisecond)
		// A short delivery timeout keeps the lease of the killed node's in-flight
		// deliveries short, so they are retried soon after the restart.
		srv := startServer(t, databaseURL, dataDir, "--delivery-timeout", "2s")
		c := srv.client(srv.createKey("e2e"))
		subscribe(t, c, rcv.URL(), "link.created")

		outcomes := make([]createOutcome, crashLinks)
		var (
			next    atomic.Int64
			gate    sync.RWMutex // held for writing while the server is down
			created atomic.Int64
		)
		worker := func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= crashLinks {
					return
				}
				key := fmt.Sprintf("crash-%03d", i)
				gate.RLock()
				status, raw, err := c.do(context.Background(), http.MethodPost, "/api/links",
					map[string]any{"url": "https://example.com/crash/" + key, "key": key})
				gate.RUnlock()
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
						created.Add(1)
					}
				}
				outcomes[i] = o
			}
		}
		var wg sync.WaitGroup
		for range crashWorkers {
			wg.Go(worker)
		}

		within(t, 30*time.Second, func() bool {
			return created.Load() >= killAfterCreates || rcv.count() >= killAfterDeliveries
		}, func() string {
			return fmt.Sprintf("kill point not reached: %d links created, %d deliveries received", created.Load(), rcv.count())
		})
		srv.kill()
		seenAtKill, createdAtKill := rcv.count(), created.Load()
		gate.Lock() // in-flight creates have failed; hold new ones until the restart
		srv.restart()
		gate.Unlock()
		t.Logf("killed after %d links created and %d deliveries received", createdAtKill, seenAtKill)
		if createdAtKill <= int64(seenAtKill) {
			t.Logf("warning: no delivery backlog at the kill (%d created, %d received)", createdAtKill, seenAtKill)
		}
		wg.Wait()

		// What exists now, by key.
		links := map[string]string{} // key → id
		for _, l := range c.listAll("/api/links") {
			links[l.str("key")] = l.str("id")
		}
		var failed []string
		for _, o := range outcomes {
			if o.linkID != "" {
				if links[o.key] != o.linkID {
					t.Errorf("link %s (%s) was acknowledged with 200 but is not listed (listed id %q)", o.key, o.linkID, links[o.key])
				}
				continue
			}
			failed = append(failed, o.key+": "+o.err)
		}
		if len(links) > crashLinks {
			t.Errorf("%d links listed, more than the %d requested", len(links), crashLinks)
		}
		t.Logf("%d creates acknowledged, %d failed around the kill, %d links exist", created.Load(), len(failed), len(links))
		if len(failed) > 0 {
			t.Logf("failed creates (first 5):\n%s", strings.Join(failed[:min(5, len(failed))], "\n"))
		}

		// Exactly one link.created event per existing link.
		st := openStore(t, databaseURL, dataDir)
		eventsOf := linkCreatedEvents(t, st)
		for key, id := range links {
			if n := len(eventsOf[id]); n != 1 {
				t.Errorf("link %s (%s) has %d link.created events, want exactly 1", key, id, n)
			}
		}
		for id, evs := range eventsOf {
			if !containsValue(links, id) {
				t.Errorf("link.created events %v for link %s, which does not exist", evs, id)
			}
		}

		// Every event reaches the receiver at least once.
		want := map[string]bool{}
		for _, evs := range eventsOf {
			for _, e := range evs {
				want[e] = true
			}
		}
		missing := func() []string {
			got := rcv.eventIDs()
			var m []string
			for e := range want {
				if got[e] == 0 {
					m = append(m, e)
				}
			}
			sort.Strings(m)
			return m
		}
		within(t, 90*time.Second, func() bool { return len(missing()) == 0 }, func() string {
			m := missing()
			return fmt.Sprintf("%d of %d events never reached the receiver, e.g. %v", len(m), len(want), m[:min(5, len(m))])
		})
		dups := 0
		for _, n := range rcv.eventIDs() {
			if n > 1 {
				dups += n - 1
			}
		}
		t.Logf("all %d events delivered; %d duplicate deliveries (allowed)", len(want), dups)
	})
}

// linkCreatedEvents maps link id → ids of its link.created events.
func linkCreatedEvents(t *testing.T, st *store.Store) map[string][]string {
	t.Helper()
	rows, err := st.Read().QueryContext(context.Background(), "SELECT id, payload FROM events WHERE type = 'link.created'")
	if err != nil {
		t.Fatalf("query events: %v", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, payload string
		if err := rows.Scan(&id, &payload); err != nil {
			t.Fatal(err)
		}
		var env struct {
			ID   string `json:"id"`
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(payload), &env); err != nil || env.Data.ID == "" {
			t.Errorf("event %s: payload without data.id: %s", id, payload)
			continue
		}
		if env.ID != id {
			t.Errorf("event %s: payload id %q differs", id, env.ID)
		}
		out[env.Data.ID] = append(out[env.Data.ID], id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func containsValue(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}
