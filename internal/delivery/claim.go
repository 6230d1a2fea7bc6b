package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/store"
)

// maxClaimHooks bounds how many webhooks one claim statement covers (SQLite
// allows 500 terms in a compound SELECT); webhooks beyond it are served by
// the next claim, which starts after the last one served.
const maxClaimHooks = 200

// A claim works per webhook, and its cost follows the rows it takes, never
// the backlog. It used to be one scan of the due rows in due order that left
// out the webhooks at their hold limit: when every webhook with due work was
// at its limit — exactly when the node is behind — that scan walked the whole
// backlog to return nothing, and the database spent its time on claims that
// delivered nothing. Now a claim is two steps:
//
//  1. A read finds the webhooks with due, unleased work (dueWebhooks): a skip
//     scan over deliveries_pending_webhook, one index probe per webhook with
//     pending rows.
//  2. Only when one of them has room on this node does a write transaction
//     lease, for each, at most its room of its first due rows (claimRowsSQL),
//     each an index range scan that stops after those rows.
//
// A webhook takes part only once it has room for at least refill rows (or
// holds none), so a busy webhook is topped up by a handful of rows at a time
// rather than by one transaction per finished send.

// claimed is what one claim did: n rows leased; more when the batch size, not
// the webhooks' room or their due work, bounded it (so there is probably more
// to claim at once); capped when there was due work but none of it had room
// on this node (every webhook with work at its hold limit).
type claimed struct {
	n            int
	more, capped bool
}

// claim leases due rows of the webhooks with room and starts sending them.
func (d *Deliverer) claim(ctx context.Context) (claimed, error) {
	d.mu.Lock()
	free := min(d.cfg.DeliveryWorkers-d.held, maxBatch)
	limit, refill := d.holdLimit(), d.refill()
	held := make(map[string]int, len(d.perHook))
	for w, n := range d.perHook {
		held[w] = n
	}
	cursor := d.claimCursor
	if time.Since(d.floorsAt) >= floorsEvery {
		d.floors, d.floorsAt = map[string]int64{}, time.Now()
	}
	floors := make(map[string]int64, len(d.floors))
	for w, f := range d.floors {
		floors[w] = f
	}
	var due []string
	if len(d.busy) > 0 && time.Since(d.dueAt) < dueEvery {
		due = make([]string, 0, len(d.busy))
		for w := range d.busy {
			due = append(due, w)
		}
		slices.Sort(due)
	}
	d.mu.Unlock()
	if free <= 0 {
		return claimed{}, nil
	}
	// leaseEnd bounds completion retries on this node; the lease itself is
	// judged by the database's clock (NowMillis in the claim).
	now := d.opts.now()
	leaseEnd := now.Add(d.lease())
	leaseMs, nowMs := d.lease().Milliseconds(), store.Millis(now)
	if due == nil {
		dueAt := time.Now()
		var limits map[string]float64
		var err error
		if due, limits, err = dueWebhooks(ctx, d.st, nowMs); err != nil {
			return claimed{}, fmt.Errorf("claim deliveries: find due webhooks: %w", err)
		}
		d.limits.set(limits)
		d.mu.Lock()
		d.dueAt = dueAt
		d.busy = make(map[string]bool, len(due))
		for _, w := range due {
			d.busy[w] = true
		}
		d.mu.Unlock()
	}
	// Serve the webhooks in turn, starting after the one served last, so that
	// when the batch or maxClaimHooks cannot cover them all, none waits for long.
	if i, _ := slices.BinarySearch(due, cursor); i > 0 && i < len(due) {
		due = append(due[i:], due[:i]...)
	}
	var want []hookClaim
	roomTotal := 0
	for _, w := range due {
		room := limit - held[w]
		if room < refill && held[w] > 0 {
			continue // busy and topped up; its queue keeps its slots busy
		}
		// Rate limits (ratelimit.go): a limited webhook takes at most its
		// whole tokens, so its backlog never crowds others out either.
		if n := d.limits.allow(now, w, room); n > 0 {
			want = append(want, hookClaim{webhookID: w, n: n, from: floors[w]})
			roomTotal += n
		}
	}
	if len(want) == 0 {
		return claimed{capped: len(due) > 0}, nil // nothing due has room: no write at all
	}
	want, bounded := share(want, free, maxClaimHooks)
	asked := 0
	for _, h := range want {
		asked += h.n
	}
	type row struct {
		id        int64
		eventID   string
		webhookID string
		attempts  int
		next      int64
	}
	var rows []row
	began := time.Now()
	// The lease as this node counts it starts before the claim does, so it
	// never outlasts the one the database holds.
	claimBegan := began
	q, args := claimRowsSQL(d.st.Dialect(), leaseMs, nowMs, d.owner, want)
	err := d.st.InTx(ctx, func(tx *store.Tx) error {
		rows = rows[:0]
		r, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var c row
			if err := r.Scan(&c.id, &c.eventID, &c.webhookID, &c.attempts, &c.next); err != nil {
				return err
			}
			rows = append(rows, c)
		}
		return r.Err()
	})
	if err != nil {
		return claimed{}, fmt.Errorf("claim deliveries: %w", err)
	}
	got := make(map[string]int, len(want))
	last := make(map[string]int64, len(want))
	for _, c := range rows {
		got[c.webhookID]++
		last[c.webhookID] = max(last[c.webhookID], c.next)
	}
	d.mu.Lock()
	d.claimCursor = want[len(want)-1].webhookID
	for w, next := range last {
		if f := next - floorSlack.Milliseconds(); f > d.floors[w] {
			d.floors[w] = f
		}
	}
	// A webhook that gave fewer rows than asked has no more due work now.
	for _, h := range want {
		if got[h.webhookID] < h.n {
			delete(d.busy, h.webhookID)
		}
	}
	d.mu.Unlock()
	if len(rows) == 0 {
		return claimed{capped: true}, nil // other nodes took them
	}
	d.logger.Debug("webhooks: claimed", "count", len(rows), "free", free, "webhooks", len(want), "took", time.Since(began))
	// Reserve the slots before anything else can fail, so the counts stay true.
	ids := make([]any, len(rows))
	d.mu.Lock()
	for i, c := range rows {
		ids[i] = c.id
		d.limits.take(now, c.webhookID)
		d.leased[c.id] = claimBegan.Add(d.lease())
		d.perHook[c.webhookID]++
		d.held++
	}
	d.mu.Unlock()

	// The rows are ours now: read and send them even if ctx is ending (Stop
	// waits for the sends, or cuts them short and hands the rows back),
	// rather than leave them leased for nothing.
	readCtx, cancel := context.WithTimeout(d.sendCtx, 30*time.Second)
	defer cancel()
	jobs, err := d.readJobs(readCtx, ids, now)
	if err != nil {
		for _, c := range rows {
			d.release(c.webhookID)
		}
		return claimed{n: len(rows)}, fmt.Errorf("read claimed deliveries: %w", err)
	}
	attempts := make(map[int64]int, len(rows))
	for _, c := range rows {
		attempts[c.id] = c.attempts
	}
	for _, j := range jobs {
		j.attempts = attempts[j.id]
		j.leaseEnd = leaseEnd
		delete(attempts, j.id)
		d.dispatch(j)
	}
	// A row that vanished between claim and read (its webhook or event was
	// deleted) has nothing left to deliver.
	for _, c := range rows {
		if _, gone := attempts[c.id]; gone {
			d.mu.Lock()
			delete(d.leased, c.id)
			d.mu.Unlock()
			d.release(c.webhookID)
		}
	}
	return claimed{n: len(rows), more: bounded && len(rows) >= asked && asked < roomTotal}, nil
}

// dueEvery is how long a claim trusts the webhooks the last due query found
// (less those that since ran out of due work) instead of asking again. Under
// load the claim loop is one chain of round trips, each slowed by a
// database busy with the writes of the load: skipping the due query on most
// claims makes the chain a third shorter, so claims come more often and the
// webhooks' slots idle less. A webhook whose first work comes due meanwhile
// waits at most this long; while none is busy, every claim asks.
const dueEvery = 100 * time.Millisecond

// A claim of a webhook starts its scan at that webhook's floor: the latest
// next_attempt_at this node claimed of it, less floorSlack. The rows before
// it in deliveries_pending_webhook's order are finished (their entries wait
// for vacuum: without one, a scan from the front steps over every delivery
// the webhook finished since, and claims slow down as the run goes on),
// leased, or retries, which moved behind it. What can still come due there —
// a row whose lease ran out (a node died), a row handed back, an event
// committed more than floorSlack after its timestamp — is found by the claims
// after floorsEvery, which drop every floor and scan from the front again;
// those rows wait that much longer at most.
const (
	floorSlack  = 2 * time.Second
	floorsEvery = time.Second
)

// refill is how much room a webhook that holds rows needs before a claim
// tops it up: a quarter of its hold limit, so its queue never runs dry while
// the claim is on its way, and a busy webhook costs one claim per several
// sends rather than one per send.
func (d *Deliverer) refill() int { return max(1, d.holdLimit()/4) }

// hookClaim is how many due rows one claim takes of one webhook.
type hookClaim struct {
	webhookID string
	n         int
	// from is the least next_attempt_at the claim looks at (floors; 0: all).
	from int64
}

// share cuts want down to at most maxHooks webhooks and free rows in all,
// giving each webhook an equal share of free (a webhook wanting less leaves
// the rest to the others). It reports whether it cut anything.
func share(want []hookClaim, free, maxHooks int) ([]hookClaim, bool) {
	bounded := false
	if len(want) > maxHooks {
		want, bounded = want[:maxHooks], true
	}
	total := 0
	for _, h := range want {
		total += h.n
	}
	if total <= free {
		return want, bounded
	}
	out := make([]hookClaim, len(want))
	copy(out, want)
	for i := range out {
		out[i].n = 0
	}
	left := free
	for left > 0 {
		open := 0
		for i := range out {
			if out[i].n < want[i].n {
				open++
			}
		}
		if open == 0 {
			break
		}
		each := max(1, left/open)
		for i := range out {
			if left == 0 {
				break
			}
			if g := min(each, want[i].n-out[i].n, left); g > 0 {
				out[i].n += g
				left -= g
			}
		}
	}
	kept := out[:0]
	for _, h := range out {
		if h.n > 0 {
			kept = append(kept, h)
		}
	}
	return kept, true
}

// dueWebhookSQL lists the webhooks that have a due, unleased row, with their
// rate limits (NULL: none). The recursive part is a skip scan: each step
// finds the next webhook with any pending row by one probe of
// deliveries_pending_webhook, so it costs one probe per webhook with pending
// work, however many rows each has. The per-webhook subquery is a range scan
// of that webhook's due rows, in index order, that stops at the first
// unleased one; the leased rows before it are those in flight, which the
// hold limits bound. Reading the limits here rather than in a query of their
// own saves a round trip per claim, and the limits that matter are those of
// the webhooks the claim may serve.
//
// On PostgreSQL both probes are ordered LIMIT 1 subqueries that read the
// table row, for two reasons found under load, when the table had grown since
// its last ANALYZE and held many dead entries. An EXISTS loses its ORDER BY
// and LIMIT to the planner, which then read every pending row of the webhook
// into a bitmap first: each claim cost the whole backlog again. And each
// skip-scan probe starts at the front of a webhook's range, where the entries
// of its finished rows wait for vacuum: as an index-only MIN it visited the
// table for every one of them on every probe, while a plain index scan (the
// always-true lease_until >= 0 needs the row) marks the dead entries it
// passes and skips them from then on. SQLite keeps no dead entries and plans
// the MIN form as one probe.
func dueWebhookSQL(dialect store.Dialect) string {
	first := "SELECT MIN(webhook_id) FROM deliveries WHERE status = 'pending'"
	next := "SELECT MIN(webhook_id) FROM deliveries WHERE status = 'pending' AND webhook_id > h.id"
	if dialect.SharedByNodes() {
		first = "SELECT webhook_id FROM deliveries WHERE status = 'pending' AND lease_until >= 0 ORDER BY webhook_id, next_attempt_at, id LIMIT 1"
		next = `SELECT webhook_id FROM deliveries WHERE status = 'pending' AND webhook_id > h.id AND lease_until >= 0
    ORDER BY webhook_id, next_attempt_at, id LIMIT 1`
	}
	return `WITH RECURSIVE h(id) AS (
  SELECT (` + first + `)
  UNION ALL
  SELECT (` + next + `) FROM h WHERE h.id IS NOT NULL
)
SELECT h.id, w.rate_limit FROM h JOIN webhooks w ON w.id = h.id WHERE h.id IS NOT NULL AND (
  SELECT d.id FROM deliveries d WHERE d.webhook_id = h.id AND d.status = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until < ` + dialect.NowMillis() + `
  ORDER BY d.next_attempt_at, d.id LIMIT 1
) IS NOT NULL`
}

// dueWebhooks runs dueWebhookSQL on the read pool: it takes no locks and, on
// SQLite, does not wait for the writer. The answer is a hint: the claim that
// follows checks every row again under its lock. It returns the webhooks in
// order and their rate limits (0: none).
func dueWebhooks(ctx context.Context, st *store.Store, now int64) ([]string, map[string]float64, error) {
	rows, err := st.Read().QueryContext(ctx, dueWebhookSQL(st.Dialect()), now)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids []string
	limits := map[string]float64{}
	for rows.Next() {
		var (
			id    string
			limit sql.NullFloat64
		)
		if err := rows.Scan(&id, &limit); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		if limit.Valid && limit.Float64 > 0 {
			limits[id] = limit.Float64
		} else {
			limits[id] = 0
		}
	}
	// Sorted here, not by the database, whose collation may order text
	// otherwise: the claim's round robin searches this order.
	slices.Sort(ids)
	return ids, limits, rows.Err()
}

// claimRowsSQL builds the claim of want: one UPDATE … RETURNING that leases,
// for each webhook, at most its n first due, unleased rows. On PostgreSQL the
// rows are locked with FOR UPDATE SKIP LOCKED inside a LATERAL subquery per
// webhook, so nodes claiming at once never take the same row and never wait
// for each other; PostgreSQL allows no locking clause under UNION. SQLite has
// no LATERAL and needs no row locks (its single writer serialises claims), so
// there the per-webhook subqueries are a UNION ALL. Either way each subquery
// is a range scan of deliveries_pending_webhook that stops after n rows.
// Counts are generated integers and inlined; webhook ids are placeholders.
// dbNow (the dialect's NowMillis) sets and judges leases by the database's
// clock; due times were computed by the nodes and are compared with now.
// owner is this node's lease_owner: renewing and handing back touch only
// rows it still owns.
func claimRowsSQL(dialect store.Dialect, leaseMs, now int64, owner string, want []hookClaim) (string, []any) {
	dbNow := dialect.NowMillis()
	args := []any{leaseMs, now, owner}
	var b strings.Builder
	b.WriteString("UPDATE deliveries SET lease_until = " + dbNow + " + $1, lease_owner = $3 WHERE ")
	due := "status = 'pending' AND next_attempt_at <= $2 AND lease_until < " + dbNow
	closing := ")"
	if lock := dialect.SkipLocked(); lock != "" {
		// id = ANY(ARRAY(…)), not id IN (…): the planner cannot know how many
		// rows the LIMITs leave and would hash-join against a scan of the
		// whole table; an array makes it one primary-key probe per row.
		b.WriteString("id = ANY(ARRAY(\n  SELECT c.id FROM (VALUES ")
		closing = "))"
		for i, h := range want {
			args = append(args, h.webhookID)
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($%d, %d, CAST(%d AS BIGINT))", len(args), h.n, h.from)
		}
		b.WriteString(`) AS w(id, n, f)
  CROSS JOIN LATERAL (SELECT id FROM deliveries WHERE webhook_id = w.id AND next_attempt_at >= w.f AND ` + due + `
    ORDER BY next_attempt_at, id LIMIT w.n` + lock + `) c`)
	} else {
		b.WriteString("id IN (\n")
		for i, h := range want {
			args = append(args, h.webhookID)
			if i > 0 {
				b.WriteString("\n  UNION ALL ")
			} else {
				b.WriteString("  ")
			}
			fmt.Fprintf(&b, "SELECT id FROM (SELECT id FROM deliveries WHERE webhook_id = $%d AND next_attempt_at >= %d AND %s ORDER BY next_attempt_at, id LIMIT %s)",
				len(args), h.from, due, strconv.Itoa(h.n))
		}
	}
	b.WriteString("\n" + closing + " RETURNING id, event_id, webhook_id, attempts, next_attempt_at")
	return b.String(), args
}
