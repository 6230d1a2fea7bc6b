package ratelimit_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/ratelimit"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLimiterPerKey(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	l := ratelimit.New(10, time.Minute, 0).WithClock(clk.now)
	for i := range 10 {
		d := l.Allow("a")
		if !d.Allowed || d.Remaining != 9-i || d.Limit != 10 {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	d := l.Allow("a")
	if d.Allowed || d.Remaining != 0 {
		t.Fatalf("11th request allowed: %+v", d)
	}
	// One token comes back every 6 s.
	if d.RetryAfter <= 5*time.Second || d.RetryAfter > 6*time.Second || d.RetryAfterSeconds() != 6 {
		t.Fatalf("retry after %v (%d s)", d.RetryAfter, d.RetryAfterSeconds())
	}
	h := http.Header{}
	d.SetHeaders(h)
	if h.Get("Retry-After") != "6" || h.Get("X-RateLimit-Limit") != "10" || h.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("headers %v", h)
	}
	reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if want := clk.now().Add(time.Minute).Unix(); reset < want-1 || reset > want+1 {
		t.Fatalf("X-RateLimit-Reset %d, want about %d", reset, want)
	}
	// Another key is not affected.
	if d := l.Allow("b"); !d.Allowed {
		t.Fatal("key b limited by key a")
	}
	clk.add(6 * time.Second)
	if d := l.Allow("a"); !d.Allowed {
		t.Fatalf("after 6 s: %+v", d)
	}
	if d := l.Allow("a"); d.Allowed {
		t.Fatal("two tokens after 6 s")
	}
	clk.add(time.Minute)
	if d := l.Allow("a"); !d.Allowed || d.Remaining != 9 {
		t.Fatalf("after a minute: %+v", d)
	}
}

// A flood of distinct keys keeps at most maxKeys buckets; the keys seen
// least recently go first.
func TestLimiterMemoryIsBounded(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(1, time.Hour, 100)
	l.Allow("busy")
	for i := range 10_000 {
		l.Allow(strconv.Itoa(i))
		if i%50 == 0 {
			l.Allow("busy")
		}
	}
	if n := l.Keys(); n != 100 {
		t.Fatalf("%d keys remembered, bound 100", n)
	}
	if d := l.Allow("busy"); d.Allowed {
		t.Fatal("a recently seen key was evicted and got a fresh bucket")
	}
}

func TestNilLimiterAllows(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(0, time.Minute, 0)
	if l != nil {
		t.Fatal("limit 0 is not disabled")
	}
	d := l.Allow("x")
	h := http.Header{}
	d.SetHeaders(h)
	if !d.Allowed || len(h) != 0 {
		t.Fatalf("disabled limit: %+v %v", d, h)
	}
}

func TestIPKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.7":                "192.0.2.7",
		"::ffff:192.0.2.7":         "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":     "2001:db8:1:2::/64",
		"fe80::1%eth0":             "fe80::/64",
		"2001:db8:1:3::1":          "2001:db8:1:3::/64",
		"2001:0db8:0001:0002::abc": "2001:db8:1:2::/64",
	} {
		if got := ratelimit.IPKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("IPKey(%s) = %s, want %s", in, got, want)
		}
	}
	if got := ratelimit.IPKey(netip.Addr{}); got != "invalid" {
		t.Errorf("invalid address key %q", got)
	}
}

func TestSemaphore(t *testing.T) {
	t.Parallel()
	s := ratelimit.NewSemaphore(2)
	for i := range 2 {
		if !s.Acquire(nil, 0) {
			t.Fatalf("free slot %d refused", i+1)
		}
	}
	start := time.Now()
	if s.Acquire(nil, 20*time.Millisecond) {
		t.Fatal("a third slot of two")
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("did not wait")
	}
	done := make(chan struct{})
	close(done)
	if s.Acquire(done, time.Hour) {
		t.Fatal("acquired after done")
	}
	s.Release()
	if !s.Acquire(nil, 0) {
		t.Fatal("released slot not free")
	}
}
