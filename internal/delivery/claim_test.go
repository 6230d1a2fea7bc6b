package delivery

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// backlog fills st with perHook pending, due deliveries for each of hooks
// webhooks (one event each), the first leased of each webhook leased as if
// in flight on a node, and returns the webhook ids.
func backlog(t *testing.T, st *store.Store, hooks, perHook, leased int) []string {
	t.Helper()
	project := newProject(t, st)
	var ws []string
	for range hooks {
		ws = append(ws, newHook(t, st, project, "http://127.0.0.1:1/").id)
	}
	mustWrite(t, st, `INSERT INTO events (id, project_id, type, payload, created_at)
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $2)
SELECT 'evt_bl_' || n, $1, 'link.created', '{}', n FROM g`, project, perHook)
	far := store.Millis(time.Now().Add(time.Hour))
	for _, w := range ws {
		mustWrite(t, st, `INSERT INTO deliveries (event_id, webhook_id, project_id, status, next_attempt_at, lease_until, created_at, updated_at)
SELECT id, $1, $2, 'pending', created_at, CASE WHEN created_at <= CAST($3 AS BIGINT) THEN CAST($4 AS BIGINT) ELSE 0 END, 0, 0 FROM events WHERE project_id = $2`,
			w, project, leased, far)
	}
	mustWrite(t, st, "ANALYZE")
	return ws
}

// The cost of a claim must follow the rows it takes, never the backlog: with
// thousands of due rows per webhook, finding the webhooks with due work and
// leasing a few rows of each must use deliveries_pending_webhook and touch
// only the rows in flight and the rows taken. (The claim used to scan every
// due row of the webhooks at their hold limit to return nothing.)
func TestClaimDoesNotScanTheBacklog(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		const hooks, perHook, leased, take = 4, 5000, 20, 5
		ws := backlog(t, st, hooks, perHook, leased)
		var want []hookClaim
		for _, w := range ws {
			want = append(want, hookClaim{webhookID: w, n: take})
		}
		now := store.Millis(time.Now())
		claim, claimArgs := claimRowsSQL(st.Dialect(), 60_000, now, "test-node", want)
		due := dueWebhookSQL(st.Dialect())
		if st.Dialect().SkipLocked() == "" {
			for _, q := range []struct {
				sql  string
				args []any
			}{{due, []any{now}}, {claim, claimArgs}} {
				sqlitePlanUsesIndex(t, st, q.sql, q.args)
			}
		} else {
			// Rows the scans may touch: the skip scan's probes, the leased
			// rows in front of each webhook's first free one, the rows taken.
			bound := hooks*(leased+take+2) + 10
			if n := postgresRowsTouched(t, st, due, []any{now}); n > bound {
				t.Errorf("finding due webhooks touched %d rows (bound %d) of a backlog of %d", n, bound, hooks*perHook)
			}
			if n := postgresRowsTouched(t, st, claim, claimArgs); n > bound {
				t.Errorf("claiming %d rows touched %d rows (bound %d) of a backlog of %d", hooks*take, n, bound, hooks*perHook)
			}
		}
		got, _, err := dueWebhooks(context.Background(), st, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != hooks {
			t.Errorf("due webhooks = %v, want all %d", got, hooks)
		}
	})
}

// A claim when every webhook with due work is at its hold limit on this node
// leases nothing and writes nothing; once one webhook has room it takes that
// webhook's rows only.
func TestClaimSkipsCappedWebhooks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ws := backlog(t, st, 3, 200, 0)
		d := newDeliverer(st, testConfig(), Options{}, options{})
		t.Cleanup(func() { stop(t, d) })
		limit := d.holdLimit()
		d.mu.Lock()
		for _, w := range ws {
			d.perHook[w] = limit
			d.held += limit
		}
		d.mu.Unlock()
		c, err := d.claim(context.Background())
		if err != nil || c.more || c.n != 0 || !c.capped {
			t.Fatalf("claim = %+v, %v; want nothing, capped", c, err)
		}
		if n := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE lease_until > 0"); n != 0 {
			t.Fatalf("%d rows leased while every webhook was at its limit", n)
		}
		// Room, but less than a refill: still nothing.
		d.mu.Lock()
		d.perHook[ws[1]] = limit - d.refill() + 1
		d.mu.Unlock()
		if _, err := d.claim(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE lease_until > 0"); n != 0 {
			t.Fatalf("%d rows leased for a webhook with less room than a refill", n)
		}
		d.mu.Lock()
		d.perHook[ws[1]] = limit - d.refill()
		d.mu.Unlock()
		if _, err := d.claim(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE lease_until > 0 AND webhook_id = $1", ws[1]); n != d.refill() {
			t.Errorf("leased %d rows of the webhook with room %d", n, d.refill())
		}
		if n := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE lease_until > 0 AND webhook_id <> $1", ws[1]); n != 0 {
			t.Errorf("leased %d rows of webhooks at their limit", n)
		}
		// Let the sends of the claimed rows (to a closed port) finish.
		waitFor(t, 10*time.Second, "claimed sends", func() bool {
			d.mu.Lock()
			defer d.mu.Unlock()
			return d.perHook[ws[1]] <= limit-d.refill()
		})
	})
}

func TestShare(t *testing.T) {
	t.Parallel()
	want := []hookClaim{{webhookID: "a", n: 20}, {webhookID: "b", n: 2}, {webhookID: "c", n: 20}}
	got, bounded := share(want, 100, 10)
	if bounded || len(got) != 3 || got[0].n != 20 || got[1].n != 2 {
		t.Errorf("share with room = %v, %v", got, bounded)
	}
	got, bounded = share(want, 12, 10)
	sum := 0
	for _, h := range got {
		sum += h.n
	}
	if !bounded || sum != 12 || got[1].n != 2 || got[0].n < 4 || got[2].n < 4 {
		t.Errorf("share of 12 = %v, %v", got, bounded)
	}
	got, bounded = share(want, 100, 2)
	if !bounded || len(got) != 2 {
		t.Errorf("share of 2 webhooks = %v, %v", got, bounded)
	}
}

// sqlitePlanUsesIndex fails t unless every access to deliveries in q's plan
// goes through deliveries_pending_webhook or the primary key.
func sqlitePlanUsesIndex(t *testing.T, st *store.Store, q string, args []any) {
	t.Helper()
	rows, err := st.Read().QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	used := false
	for _, line := range plan {
		f := strings.Fields(line)
		if len(f) < 2 || (f[1] != "deliveries" && f[1] != "d") {
			continue
		}
		switch {
		case strings.Contains(line, "deliveries_pending_webhook"):
			used = true
		case f[0] == "SEARCH" && strings.Contains(line, "PRIMARY KEY"):
		default:
			t.Errorf("plan reads deliveries without the index: %q\n%s", line, strings.Join(plan, "\n"))
		}
	}
	if !used {
		t.Errorf("plan does not use deliveries_pending_webhook:\n%s", strings.Join(plan, "\n"))
	}
}

// postgresRowsTouched runs q under EXPLAIN ANALYZE in a transaction it rolls
// back and returns the rows its scans of deliveries produced or filtered
// out. It fails t on a sequential scan of deliveries.
func postgresRowsTouched(t *testing.T, st *store.Store, q string, args []any) int {
	t.Helper()
	var out string
	errRollback := errorString("rollback")
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		if err := tx.QueryRowContext(context.Background(), "EXPLAIN (ANALYZE, FORMAT JSON) "+q, args...).Scan(&out); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatal(err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		t.Fatal(err)
	}
	touched := 0
	var walk func(n planNode)
	walk = func(n planNode) {
		if n.Relation == "deliveries" {
			if strings.Contains(n.Type, "Seq Scan") {
				t.Errorf("sequential scan of deliveries in the plan of\n%s\n%s", q, out)
			}
			touched += int(n.Rows*n.Loops) + int(n.Removed)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	for _, p := range plans {
		walk(p.Plan)
	}
	return touched
}

type planNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Removed  float64    `json:"Rows Removed by Filter"`
	Plans    []planNode `json:"Plans"`
}

type errorString string

func (e errorString) Error() string { return string(e) }

// Claims start each webhook's scan at its floor, past the rows it already
// claimed; a row that comes due behind the floor (here an event committed
// long after its timestamp; likewise a row whose lease ran out on a dead
// node) is still delivered, by the claims after the floors are dropped.
func TestClaimFindsRowsBehindTheFloor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		rc := newReceiver(t, nil)
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		d := startDeliverer(t, st, testConfig(), options{})
		emit(t, st, d, project, 30)
		waitFor(t, 10*time.Second, "the first 30 deliveries", func() bool { return rc.count() == 30 })
		old := store.Millis(time.Now().Add(-time.Minute))
		d.mu.Lock()
		floor := d.floors[h.id]
		d.mu.Unlock()
		if floor <= old {
			t.Fatalf("floor %d is not past the late row's due time %d; the test proves nothing", floor, old)
		}
		w := events.NewWriter(nil, nil)
		err := st.InTx(context.Background(), func(tx *store.Tx) error {
			id, err := w.Emit(context.Background(), tx, events.Event{ProjectID: project, Type: events.LinkCreated,
				Data: map[string]any{"id": "link_late"}})
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(context.Background(), "UPDATE deliveries SET next_attempt_at = $1 WHERE event_id = $2", old, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Notify()
		waitFor(t, 10*time.Second, "the delivery behind the floor", func() bool { return rc.count() == 31 })
	})
}
