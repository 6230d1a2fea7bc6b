package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// LinksOptions configure Links. Rate > 0 runs open-loop at that rate;
// otherwise Concurrency clients each create links back to back (closed loop).
type LinksOptions struct {
	Server, Key string
	Rate        float64
	Concurrency int // closed-loop clients, and the pool size open-loop (64)
	Duration    time.Duration
	Warmup      time.Duration
	Log         io.Writer
}

// LinksResult is what one run of Links measured.
type LinksResult struct {
	Mode          string // "open-loop 1500/s" or "closed-loop 32 clients"
	Duration      time.Duration
	Sent, Errors  int
	ReqPerSec     float64 // successful creates per second
	Latency       Latencies
	FirstAPIError string
}

// Print writes the summary block.
func (r LinksResult) Print(w io.Writer) {
	fmt.Fprintf(w, "codeqr bench links: %s, duration %s\n", r.Mode, r.Duration)
	fmt.Fprintf(w, "  requests             %d (errors %d)\n", r.Sent, r.Errors)
	fmt.Fprintf(w, "  throughput           %.0f req/s (links created per second)\n", r.ReqPerSec)
	fmt.Fprintf(w, "  latency              p50 %s  p90 %s  p99 %s  max %s\n",
		ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max))
	if r.FirstAPIError != "" {
		fmt.Fprintf(w, "  first API error      %s\n", r.FirstAPIError)
	}
}

// Links measures POST /api/links against a running server.
func Links(ctx context.Context, o LinksOptions) (LinksResult, error) {
	if o.Server == "" {
		o.Server = "http://127.0.0.1:8080"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	api := newAPIClient(o.Server, o.Key, o.Concurrency)
	defer api.close()

	res := LinksResult{Duration: o.Duration}
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	record := func(since time.Time, err error) {
		d := time.Since(since)
		mu.Lock()
		defer mu.Unlock()
		res.Sent++
		if err != nil {
			res.Errors++
			if res.FirstAPIError == "" {
				res.FirstAPIError = err.Error()
			}
			return
		}
		lat = append(lat, d)
	}
	run := func(d time.Duration, measure bool) {
		rec := record
		if !measure {
			rec = func(time.Time, error) {}
		}
		if o.Rate > 0 {
			schedule(ctx, o.Rate, d, o.Concurrency, func(i int, due time.Time) {
				_, err := api.createLink(ctx, fmt.Sprintf("https://example.com/bench-links/%d", i))
				rec(due, err)
			})
			return
		}
		closedLoop(ctx, o.Concurrency, d, func(i int) {
			start := time.Now()
			_, err := api.createLink(ctx, fmt.Sprintf("https://example.com/bench-links/%d", i))
			rec(start, err)
		})
	}
	if o.Rate > 0 {
		res.Mode = fmt.Sprintf("open-loop %.0f req/s", o.Rate)
	} else {
		res.Mode = fmt.Sprintf("closed-loop %d clients", o.Concurrency)
	}
	if o.Warmup > 0 {
		fmt.Fprintf(o.Log, "warming up for %s (%s)\n", o.Warmup, res.Mode)
		run(o.Warmup, false)
	}
	fmt.Fprintf(o.Log, "measuring for %s (%s)\n", o.Duration, res.Mode)
	start := time.Now()
	run(o.Duration, true)
	elapsed := time.Since(start)
	res.Latency = summarise(lat)
	res.ReqPerSec = float64(len(lat)) / elapsed.Seconds()
	return res, ctx.Err()
}

// closedLoop runs c workers that call fire back to back until d has passed.
func closedLoop(ctx context.Context, c int, d time.Duration, fire func(i int)) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next int
	)
	for range c {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				fire(i)
			}
		})
	}
	wg.Wait()
}
