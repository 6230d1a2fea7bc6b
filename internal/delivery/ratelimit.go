package delivery

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimits holds one token bucket per rate-limited webhook on this node. The
// claim asks it how many rows each webhook may take (allow: at most its whole
// tokens, none without a token); after the claim it takes one token per
// claimed row. Limits are per node on purpose:
// coordinating buckets across nodes would cost a write per delivery.
type rateLimits struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newRateLimits() *rateLimits { return &rateLimits{buckets: map[string]*rate.Limiter{}} }

// burst lets a webhook take one second's worth of deliveries at once (at
// least one), so a limit of 5/s sends 5, then one every 200 ms.
func burst(perSecond float64) int { return max(1, int(math.Ceil(perSecond))) }

// set applies the current limits of the webhooks in limits (0: no limit),
// as the claim's query of due webhooks read them, so a new or changed limit
// applies to the very next claim that could serve the webhook. Buckets of
// webhooks not in limits are kept as they are: a limited webhook whose due
// rows are all in flight must not get a full bucket back when it returns.
func (rl *rateLimits) set(limits map[string]float64) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	for id, v := range limits {
		b := rl.buckets[id]
		switch {
		case v <= 0:
			delete(rl.buckets, id)
		case b == nil:
			rl.buckets[id] = rate.NewLimiter(rate.Limit(v), burst(v))
		case float64(b.Limit()) != v:
			b.SetLimit(rate.Limit(v))
			b.SetBurst(burst(v))
		}
	}
}

// allow returns how many rows of webhookID a claim may take when the webhook
// has room for that many: all of them when it has no limit, else as many as
// it has whole tokens.
func (rl *rateLimits) allow(now time.Time, webhookID string, room int) int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	b := rl.buckets[webhookID]
	if b == nil {
		return room
	}
	return min(room, int(math.Floor(b.TokensAt(now))))
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
