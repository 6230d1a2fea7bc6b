// Package bench measures a running codeqr server from the outside, through its
// public API and real webhook deliveries, the way a user would see it:
//
//   - Deliveries: links are created open-loop at a fixed rate (scheduled by the
//     clock, never paced by responses, so a slow server cannot hide its queue);
//     a local receiver records each delivery; latency is measured from the
//     moment the create request returned to the moment the delivery arrived.
//   - Links: POST /api/links throughput and latency, open-loop at a rate or
//     closed-loop with C clients.
//
// Results print as one block that BENCHMARKS.md can quote.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// apiClient calls the REST API with one key over a connection pool sized for
// the benchmark's concurrency.
type apiClient struct {
	base string
	key  string
	hc   *http.Client
}

func newAPIClient(base, key string, conns int) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	return &apiClient{base: strings.TrimRight(base, "/"), key: key, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (c *apiClient) close() { c.hc.CloseIdleConnections() }

// call sends body as JSON and decodes a 2xx answer into out (may be nil).
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// createLink creates one link and returns its id.
func (c *apiClient) createLink(ctx context.Context, url string) (string, error) {
	var l struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/links", map[string]any{"url": url}, &l); err != nil {
		return "", err
	}
	if l.ID == "" {
		return "", fmt.Errorf("POST /api/links: answer without an id")
	}
	return l.ID, nil
}

// Latencies summarises a set of durations.
type Latencies struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

func summarise(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.5) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Latencies{N: len(s), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: s[len(s)-1]}
}

// ms renders a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// schedule calls fire(i, due) at due = start + i/rate for every due before
// start+d, each from its own goroutine, without waiting for earlier calls: an
// open-loop load that keeps its rate whatever the server does. limit bounds the
// calls in flight (the client pool); a call that finds the pool full waits for
// a slot, and since fire measures from due, that wait counts as latency
// (no coordinated omission). It returns once every call has returned.
func schedule(ctx context.Context, rate float64, d time.Duration, limit int, fire func(i int, due time.Time)) {
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	slots := make(chan struct{}, limit)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			return
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			fire(i, due)
		})
	}
}
