package delivery

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// nextDelay returns the delay before the retry that follows the given number
// of attempts made so far, and false when the schedule is exhausted (the
// delivery has failed for good). schedule[i] is the delay after attempt i+1,
// so a schedule of n delays allows n+1 attempts.
//
// The delay is jittered uniformly by ±20 % (r is uniform in [0, 1)) so that
// the retries of a burst that failed together do not all come back together.
//
// retryAfter is the receiver's Retry-After (0 when absent). It is honoured
// within the schedule's bounds: the delay becomes
// max(scheduled, min(retryAfter, longest delay of the schedule)). A receiver
// can thus slow us down, never speed us up, and never push a retry further out
// than the schedule itself would ever wait.
func nextDelay(schedule []time.Duration, attempts int, r float64, retryAfter time.Duration) (time.Duration, bool) {
	if attempts < 1 || attempts > len(schedule) {
		return 0, false
	}
	d := jitter(schedule[attempts-1], r)
	if retryAfter > 0 {
		var longest time.Duration
		for _, s := range schedule {
			longest = max(longest, s)
		}
		d = max(d, min(retryAfter, longest))
	}
	return d, true
}

// jitter scales d by a factor uniform in [0.8, 1.2).
func jitter(d time.Duration, r float64) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*r))
}

// retryAfter reads a Retry-After header (delay-seconds or an HTTP date) of a
// 429 or 503 response; 0 when absent, unparsable, in the past, or on any other
// status, where the header has no retry meaning.
func retryAfter(status int, h http.Header, now time.Time) time.Duration {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap before multiplying so a huge value cannot overflow.
		return time.Duration(min(secs, int64(365*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
