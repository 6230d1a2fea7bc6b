// Package ratelimit holds the server's keyed rate limits: a token bucket per
// key (golang.org/x/time/rate), kept in a bounded LRU so that a flood of
// distinct keys (spoofed or rotating addresses) costs bounded memory — the
// least recently seen keys are dropped first, and a dropped key is no worse
// off than a new one, since an idle bucket refills to full anyway.
//
// Limits are per node: on PostgreSQL with several nodes a client gets each
// node's limit.
package ratelimit

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// DefaultMaxKeys bounds the keys a Limiter remembers (about 200 bytes each).
const DefaultMaxKeys = 16384

// Limiter allows Limit requests per Per for each key, in bursts of up to Limit.
// A nil *Limiter allows everything (a disabled limit).
type Limiter struct {
	limit int
	every rate.Limit // tokens per second
	now   func() time.Time

	mu      sync.Mutex
	buckets *lru.Cache[string, *rate.Limiter]
}

// New returns a Limiter of limit requests per period per key, remembering at
// most maxKeys keys (DefaultMaxKeys when 0). limit <= 0 returns nil: no limit.
func New(limit int, per time.Duration, maxKeys int) *Limiter {
	if limit <= 0 || per <= 0 {
		return nil
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	buckets, err := lru.New[string, *rate.Limiter](maxKeys)
	if err != nil {
		panic(err) // only for a size < 1
	}
	return &Limiter{
		limit:   limit,
		every:   rate.Limit(float64(limit) / per.Seconds()),
		now:     time.Now,
		buckets: buckets,
	}
}

// WithClock sets the clock (tests) and returns l.
func (l *Limiter) WithClock(now func() time.Time) *Limiter {
	if l != nil {
		l.now = now
	}
	return l
}

// Decision is the outcome of one request against a limit.
type Decision struct {
	Allowed bool
	// Limit is the burst: requests allowed per period from a full bucket.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// Reset is when the bucket is full again.
	Reset time.Time
	// RetryAfter is, when refused, how long until one request is allowed.
	RetryAfter time.Duration
}

// Allow takes one request for key.
func (l *Limiter) Allow(key string) Decision {
	if l == nil {
		return Decision{Allowed: true}
	}
	now := l.now()
	l.mu.Lock()
	b, ok := l.buckets.Get(key)
	if !ok {
		b = rate.NewLimiter(l.every, l.limit)
		l.buckets.Add(key, b)
	}
	l.mu.Unlock()
	allowed := b.AllowN(now, 1)
	tokens := b.TokensAt(now)
	d := Decision{Allowed: allowed, Limit: l.limit, Remaining: max(0, int(math.Floor(tokens)))}
	d.Reset = now.Add(time.Duration((float64(l.limit) - tokens) / float64(l.every) * float64(time.Second)))
	if !allowed {
		d.RetryAfter = time.Duration((1 - tokens) / float64(l.every) * float64(time.Second))
	}
	return d
}

// Keys is how many keys l remembers now.
func (l *Limiter) Keys() int {
	if l == nil {
		return 0
	}
	return l.buckets.Len()
}

// RetryAfterSeconds is d.RetryAfter in whole seconds, rounded up, at least 1:
// the value of a Retry-After header.
func (d Decision) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(d.RetryAfter.Seconds())))
}

// SetHeaders writes the X-RateLimit-Limit, -Remaining and -Reset headers
// (Reset in Unix seconds, as Dub sends them) and, when refused, Retry-After.
func (d Decision) SetHeaders(h http.Header) {
	if d.Limit == 0 {
		return // no limit applies
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(d.Reset.UnixMilli())/1000)), 10))
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
	}
}

// IPKey is the key of a client address: the address itself for IPv4, its /64
// for IPv6 (one subscriber usually holds a whole /64, so per-address limits
// would not hold). An invalid address is one shared key.
func IPKey(ip netip.Addr) string {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return "invalid"
	}
	if ip.Is6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.String()
}

// Semaphore bounds how many of an expensive operation run at once.
type Semaphore chan struct{}

// NewSemaphore returns a Semaphore of n slots (at least 1).
func NewSemaphore(n int) Semaphore { return make(Semaphore, max(1, n)) }

// Acquire takes a slot, waiting at most wait (or until done is closed); it
// reports whether it got one. Release it with Release.
func (s Semaphore) Acquire(done <-chan struct{}, wait time.Duration) bool {
	select {
	case s <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-done:
		return false
	}
}

// Release frees a slot taken by Acquire.
func (s Semaphore) Release() { <-s }
