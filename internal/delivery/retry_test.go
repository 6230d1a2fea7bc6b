package delivery

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/netguard"
)

func TestNextDelay(t *testing.T) {
	t.Parallel()
	sched := []time.Duration{5 * time.Second, 5 * time.Minute, time.Hour}
	for _, c := range []struct {
		attempts   int
		r          float64
		retryAfter time.Duration
		want       time.Duration
		ok         bool
	}{
		{1, 0.5, 0, 5 * time.Second, true},
		{1, 0, 0, 4 * time.Second, true},                   // -20 %
		{2, 0.999999999, 0, 6 * time.Minute, true},         // just under +20 %
		{3, 0.5, 0, time.Hour, true},                       // last retry
		{4, 0.5, 0, 0, false},                              // exhausted: 3 delays, 4 attempts
		{1, 0.5, 30 * time.Second, 30 * time.Second, true}, // Retry-After longer than scheduled
		{1, 0.5, time.Second, 5 * time.Second, true},       // never sooner than scheduled
		{1, 0.5, 48 * time.Hour, time.Hour, true},          // capped by the longest delay
		{2, 0.5, 10 * time.Minute, 10 * time.Minute, true}, // within bounds
		{3, 0, 2 * time.Hour, time.Hour, true},             // cap applies to the jittered delay too
	} {
		got, ok := nextDelay(sched, c.attempts, c.r, c.retryAfter)
		if ok != c.ok || (ok && got.Round(time.Millisecond) != c.want) {
			t.Errorf("nextDelay(%d, %v, %s) = %s, %v; want %s, %v", c.attempts, c.r, c.retryAfter, got, ok, c.want, c.ok)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	for _, c := range []struct {
		status int
		h      http.Header
		want   time.Duration
	}{
		{429, h("120"), 2 * time.Minute},
		{503, h(now.Add(90 * time.Second).Format(http.TimeFormat)), 90 * time.Second},
		{503, h(now.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{500, h("120"), 0}, // only 429 and 503 carry a retry meaning
		{429, h("soon"), 0},
		{429, h("-5"), 0},
		{429, http.Header{}, 0},
	} {
		if got := retryAfter(c.status, c.h, now); got != c.want {
			t.Errorf("retryAfter(%d, %v) = %s, want %s", c.status, c.h, got, c.want)
		}
	}
}

// TestDescribeError drives real requests through the guarded client.
func TestDescribeError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	open := netguard.Client(netguard.Options{AllowHTTP: true, AllowPrivate: true}, time.Second)
	_, err = open.Post(closed, "application/json", nil)
	if got := describeError(err, time.Second); got != "connection refused" {
		t.Errorf("closed port: %q (%v)", got, err)
	}
	guarded := netguard.Client(netguard.Options{AllowHTTP: true}, time.Second)
	_, err = guarded.Post(closed, "application/json", nil)
	if got := describeError(err, time.Second); !strings.HasPrefix(got, "destination not allowed: ") {
		t.Errorf("loopback with private destinations refused: %q (%v)", got, err)
	}
}
