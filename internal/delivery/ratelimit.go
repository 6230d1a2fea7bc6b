package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/codeqr/codeqr/internal/store"
)

// rateLimits holds one token bucket per rate-limited webhook on this node. The
// claim loop asks it, before each claim, which webhooks have no token (they are
// left out of the claim) and how many rows the others may take; after the
// claim it takes one token per claimed row. Limits are per node on purpose:
// coordinating buckets across nodes would cost a write per delivery.
type rateLimits struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newRateLimits() *rateLimits { return &rateLimits{buckets: map[string]*rate.Limiter{}} }

// burst lets a webhook take one second's worth of deliveries at once (at
// least one), so a limit of 5/s sends 5, then one every 200 ms.
func burst(perSecond float64) int { return max(1, int(math.Ceil(perSecond))) }

// load reads the current limits. It is one indexed query over the few
// webhooks that have a limit, run before each claim so a new or changed limit
// applies to the very next claim.
func (rl *rateLimits) load(ctx context.Context, q store.Querier) error {
	rows, err := q.QueryContext(ctx, "SELECT id, rate_limit FROM webhooks WHERE rate_limit IS NOT NULL")
	if err != nil {
		return fmt.Errorf("delivery: load rate limits: %w", err)
	}
	limits := map[string]float64{}
	for rows.Next() {
		var (
			id string
			v  sql.NullFloat64
		)
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return fmt.Errorf("delivery: load rate limits: %w", err)
		}
		if v.Valid && v.Float64 > 0 {
			limits[id] = v.Float64
		}
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("delivery: load rate limits: %w", err)
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	for id := range rl.buckets {
		if _, ok := limits[id]; !ok {
			delete(rl.buckets, id)
		}
	}
	for id, v := range limits {
		b := rl.buckets[id]
		switch {
		case b == nil:
			rl.buckets[id] = rate.NewLimiter(rate.Limit(v), burst(v))
		case float64(b.Limit()) != v:
			b.SetLimit(rate.Limit(v))
			b.SetBurst(burst(v))
		}
	}
	return nil
}

// restrict adds every rate-limited webhook to excluded (and drops it from
// partial, webhook → rows it may still take) so the main claim leaves them
// out, and returns how many rows each limited webhook with a whole token may
// be claimed for separately: its tokens, within what it may hold. perWebhook
// is the hold cap of a webhook absent from partial.
func (rl *rateLimits) restrict(now time.Time, excluded []any, partial map[string]int, perWebhook int) ([]any, map[string]int) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	limited := map[string]int{}
	for id, b := range rl.buckets {
		if isExcluded(excluded, id) {
			continue // at its hold limit already
		}
		room, ok := partial[id]
		if !ok {
			room = perWebhook
		}
		delete(partial, id)
		excluded = append(excluded, id)
		if tokens := int(math.Floor(b.TokensAt(now))); tokens >= 1 {
			limited[id] = min(room, tokens)
		}
	}
	return excluded, limited
}

// limitedClaimSQL leases up to n due rows of one rate-limited webhook.
// dbNow, leaseMs and now are as for claimSQL.
func limitedClaimSQL(skipLocked, dbNow string, leaseMs, now int64, webhookID string, n int) (string, []any) {
	return `UPDATE deliveries SET lease_until = ` + dbNow + ` + $1 WHERE id IN (
  SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $2 AND lease_until < ` + dbNow + ` AND webhook_id = $3
  ORDER BY next_attempt_at, id LIMIT $4` + skipLocked + `
) RETURNING id, event_id, webhook_id, attempts`, []any{leaseMs, now, webhookID, n}
}

func isExcluded(excluded []any, id string) bool {
	for _, e := range excluded {
		if e == id {
			return true
		}
	}
	return false
}

// take spends one token per claimed row of a limited webhook.
func (rl *rateLimits) take(now time.Time, webhookID string) {
	rl.mu.Lock()
	b := rl.buckets[webhookID]
	rl.mu.Unlock()
	if b != nil {
		b.ReserveN(now, 1)
	}
}
