package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DeliveriesOptions configure Deliveries. Zero values take the defaults noted.
type DeliveriesOptions struct {
	Server string // base URL of a running server (http://127.0.0.1:8080)
	Key    string // API key of the project to use
	// Rate is link.created events per second (500), offered open-loop.
	Rate float64
	// Duration of the measured phase (30s); Warmup runs before it at the same
	// rate and is not measured (2s).
	Duration, Warmup time.Duration
	// Webhooks is the fan-out: K webhooks subscribed to link.created (1).
	Webhooks int
	// ReceiverAddr is where the local receiver listens (127.0.0.1:0). The server
	// must be able to reach it (--webhooks-allow-http --webhooks-allow-private).
	ReceiverAddr string
	// Clients is the pool of concurrent API requests (64).
	Clients int
	// Drain is how long to wait after the last create for outstanding deliveries
	// before counting the rest as lost (30s); it ends early once all arrived.
	Drain time.Duration
	// Burst > 0 replaces the open-loop phase: events are created as fast as
	// Clients allow while the webhooks are held back (a rate limit of one
	// delivery per 1000 s), until Burst deliveries are pending; then the
	// limits are lifted and the drain is measured until the backlog is gone.
	Burst int
	// Bare > 0 runs, after the engine, the limit: a bare Go HTTP client
	// posting the same bodies to the same receiver for this long, with
	// BareConcurrency requests in flight (Webhooks × 10, the engine's default
	// per-webhook concurrency times the fan-out).
	Bare            time.Duration
	BareConcurrency int
	// Interval is the step of the series (1s): deliveries per second,
	// outstanding deliveries and, with ServerPID, the server's RSS.
	Interval time.Duration
	// ServerPID, when set, is the server process whose resident memory
	// (/proc/PID/status VmRSS) the series samples.
	ServerPID int
	// Log receives progress lines (may be nil).
	Log io.Writer
}

func (o *DeliveriesOptions) defaults() {
	if o.Server == "" {
		o.Server = "http://127.0.0.1:8080"
	}
	if o.Rate <= 0 {
		o.Rate = 500
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	if o.Webhooks <= 0 {
		o.Webhooks = 1
	}
	if o.ReceiverAddr == "" {
		o.ReceiverAddr = "127.0.0.1:0"
	}
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Drain <= 0 {
		o.Drain = 30 * time.Second
	}
	if o.BareConcurrency <= 0 {
		o.BareConcurrency = o.Webhooks * 10
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// DeliveriesResult is what one run measured (measured phase only).
type DeliveriesResult struct {
	Rate     float64
	Duration time.Duration
	Webhooks int
	// Sent is how many creates were attempted; APIErrors how many failed.
	Sent, APIErrors int
	API             Latencies // create latency from its scheduled time
	// Expected is (successful creates) × Webhooks; Received the distinct
	// (event, webhook) deliveries that arrived; Duplicates the extra copies.
	Expected, Received, Duplicates int
	// DeliveriesPerSec is the deliveries that arrived during the measured
	// window, per second of it: the rate the server sustained.
	DeliveriesPerSec float64
	// FromSend is from the moment the create request was due to be sent
	// (its slot in the open-loop schedule) to the delivery's arrival: what a
	// user waits from the action to the webhook. Every delivery counts.
	FromSend Latencies
	// Latency is from the create request's return to the delivery's arrival
	// (negative values, when the delivery beat the response, count as 0).
	Latency Latencies
	// FromCreatedAt is from the event's createdAt (server clock) to arrival.
	FromCreatedAt Latencies
	Lost          int
	FirstAPIError string
	// Burst mode: the deliveries pending when the limits were lifted, how
	// long they took to arrive, and the rate over that time.
	Burst        int
	DrainTime    time.Duration
	DrainPerSec  float64
	DrainMinStep float64 // the slowest full step of the drain, deliveries/s
	// Bare is the limit run, when asked for.
	Bare *BareResult
	// Series is sampled every Interval from the first create to the end.
	Series   []Sample
	Interval time.Duration
}

// Sample is one step of the series.
type Sample struct {
	At time.Duration // since the first create
	// Delivered is arrivals during the step, per second.
	Delivered float64
	// Outstanding is deliveries created (successful creates × fan-out) and
	// not yet arrived: the backlog, pending plus in flight.
	Outstanding int
	RSSKiB      int64 // of ServerPID, 0 without one
}

// BareResult is the bare-client limit run.
type BareResult struct {
	Concurrency int
	Duration    time.Duration
	Requests    int
	Errors      int
	PerSec      float64
	Latency     Latencies
}

// Print writes the summary block.
func (r DeliveriesResult) Print(w io.Writer) {
	if r.Burst > 0 {
		fmt.Fprintf(w, "codeqr bench deliveries: burst of %d pending deliveries, webhooks %d\n", r.Burst, r.Webhooks)
	} else {
		fmt.Fprintf(w, "codeqr bench deliveries: rate %.0f ev/s, duration %s, webhooks %d\n", r.Rate, r.Duration, r.Webhooks)
	}
	fmt.Fprintf(w, "  events sent          %d (API errors %d)\n", r.Sent, r.APIErrors)
	fmt.Fprintf(w, "  API latency          p50 %s  p99 %s  (POST /api/links, from schedule)\n", ms(r.API.P50), ms(r.API.P99))
	fmt.Fprintf(w, "  deliveries received  %d of %d expected (%d duplicates)\n", r.Received, r.Expected, r.Duplicates)
	if r.Burst > 0 {
		fmt.Fprintf(w, "  drain                %s, %.0f deliveries/s (slowest step %.0f/s)\n", r.DrainTime.Round(time.Millisecond), r.DrainPerSec, r.DrainMinStep)
	} else {
		fmt.Fprintf(w, "  deliveries/s         %.0f sustained\n", r.DeliveriesPerSec)
		fmt.Fprintf(w, "  delivery latency     p50 %s  p90 %s  p99 %s  max %s  (from send, all %d deliveries)\n",
			ms(r.FromSend.P50), ms(r.FromSend.P90), ms(r.FromSend.P99), ms(r.FromSend.Max), r.FromSend.N)
		fmt.Fprintf(w, "  from API response    p50 %s  p90 %s  p99 %s  max %s\n",
			ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max))
		fmt.Fprintf(w, "  from event createdAt p50 %s  p90 %s  p99 %s  max %s\n",
			ms(r.FromCreatedAt.P50), ms(r.FromCreatedAt.P90), ms(r.FromCreatedAt.P99), ms(r.FromCreatedAt.Max))
	}
	fmt.Fprintf(w, "  lost                 %d\n", r.Lost)
	if r.FirstAPIError != "" {
		fmt.Fprintf(w, "  first API error      %s\n", r.FirstAPIError)
	}
	if b := r.Bare; b != nil {
		fmt.Fprintf(w, "  bare client limit    %.0f req/s, %d in flight, %d requests (%d errors), p50 %s p99 %s\n",
			b.PerSec, b.Concurrency, b.Requests, b.Errors, ms(b.Latency.P50), ms(b.Latency.P99))
		engine := r.DeliveriesPerSec
		if r.Burst > 0 {
			engine = r.DrainPerSec
		}
		if b.PerSec > 0 {
			fmt.Fprintf(w, "  engine / limit       %.0f %%\n", 100*engine/b.PerSec)
		}
	}
	if len(r.Series) > 0 {
		var maxRSS int64
		for _, s := range r.Series {
			maxRSS = max(maxRSS, s.RSSKiB)
		}
		if maxRSS > 0 {
			fmt.Fprintf(w, "  server RSS           first %.1f MiB, last %.1f MiB, max %.1f MiB\n",
				mib(r.Series[0].RSSKiB), mib(r.Series[len(r.Series)-1].RSSKiB), mib(maxRSS))
		}
		fmt.Fprintf(w, "  series (every %s)\n    t_s  delivered_per_s  outstanding  rss_mib\n", r.Interval)
		for _, s := range r.Series {
			fmt.Fprintf(w, "    %.1f  %.0f  %d  %.1f\n", s.At.Seconds(), s.Delivered, s.Outstanding, mib(s.RSSKiB))
		}
	}
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// arrival is one delivery the receiver got.
type arrival struct {
	webhook   int
	linkID    string
	eventID   string
	createdAt time.Time
	at        time.Time
}

// receiver serves /hook/<n> for the K webhooks and records every arrival.
// The first request's headers and body are kept for the bare-client run.
type receiver struct {
	mu        sync.Mutex
	arrivals  []arrival
	count     atomic.Int64
	first     []byte
	firstHead http.Header
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hook/"))
	if err != nil || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var env struct {
		ID        string `json:"id"`
		CreatedAt string `json:"createdAt"`
		Data      struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	created, _ := time.Parse(time.RFC3339Nano, env.CreatedAt)
	rc.mu.Lock()
	rc.arrivals = append(rc.arrivals, arrival{webhook: n, linkID: env.Data.ID, eventID: env.ID, createdAt: created, at: at})
	if rc.first == nil {
		rc.first, rc.firstHead = raw, r.Header.Clone()
	}
	rc.mu.Unlock()
	rc.count.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) snapshot() []arrival {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]arrival(nil), rc.arrivals...)
}

// created is one successful create of the measured phase.
type created struct {
	linkID   string
	due      time.Time // its slot in the schedule
	returned time.Time
}

// run is the state one benchmark run shares with its series sampler.
type run struct {
	o       DeliveriesOptions
	rc      *receiver
	api     *apiClient
	hookIDs []string
	base    string
	made    atomic.Int64 // successful creates, warm-up included
	// seriesStart is the series' zero; drainStart and drainEnd bound the
	// drain of a burst (from lifting the hold to the last arrival).
	seriesStart, drainStart, drainEnd time.Time
}

// Deliveries runs the delivery benchmark against a running server.
func Deliveries(ctx context.Context, o DeliveriesOptions) (DeliveriesResult, error) {
	o.defaults()
	res := DeliveriesResult{Rate: o.Rate, Duration: o.Duration, Webhooks: o.Webhooks, Interval: o.Interval}

	ln, err := net.Listen("tcp", o.ReceiverAddr)
	if err != nil {
		return res, fmt.Errorf("receiver: %w", err)
	}
	r := &run{o: o, rc: &receiver{}}
	hs := &http.Server{Handler: r.rc, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	r.base = "http://" + ln.Addr().String()

	r.api = newAPIClient(o.Server, o.Key, o.Clients)
	defer r.api.close()

	var hold *float64
	if o.Burst > 0 {
		v := 0.001 // one delivery per 1000 s: held back until lifted
		hold = &v
	}
	r.hookIDs, err = subscribe(ctx, r.api, r.base, o.Webhooks, hold)
	defer unsubscribe(r.api, r.hookIDs, o.Log)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(o.Log, "receiver on %s, %d webhook(s) subscribed to link.created\n", r.base, len(r.hookIDs))

	r.seriesStart = time.Now()
	sampling, stopSampling := context.WithCancel(ctx)
	series := make(chan []Sample, 1)
	go func() { series <- r.sample(sampling) }()
	finish := func() {
		stopSampling()
		res.Series = <-series
	}

	if o.Burst > 0 {
		err = r.burst(ctx, &res)
	} else {
		err = r.openLoop(ctx, &res)
	}
	finish()
	if o.Burst > 0 {
		res.DrainMinStep = r.minStep(res.Series)
	}
	if err != nil {
		return res, err
	}
	if o.Bare > 0 {
		b, err := r.bare(ctx)
		res.Bare = &b
		if err != nil {
			return res, err
		}
	}
	return res, ctx.Err()
}

// openLoop is the rate-driven run: warm-up, measured phase, drain.
func (r *run) openLoop(ctx context.Context, res *DeliveriesResult) error {
	o := r.o
	if o.Warmup > 0 {
		fmt.Fprintf(o.Log, "warming up for %s at %.0f ev/s\n", o.Warmup, o.Rate)
		schedule(ctx, o.Rate, o.Warmup, o.Clients, func(i int, _ time.Time) {
			if _, err := r.api.createLink(ctx, fmt.Sprintf("https://example.com/bench/warmup/%d", i)); err == nil {
				r.made.Add(1)
			}
		})
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	fmt.Fprintf(o.Log, "measuring for %s at %.0f ev/s\n", o.Duration, o.Rate)
	var (
		mu       sync.Mutex
		made     []created
		apiLat   []time.Duration
		sent     int
		apiErrs  int
		firstErr string
	)
	windowStart := time.Now()
	schedule(ctx, o.Rate, o.Duration, o.Clients, func(i int, due time.Time) {
		id, err := r.api.createLink(ctx, fmt.Sprintf("https://example.com/bench/%d", i))
		returned := time.Now()
		if err == nil {
			r.made.Add(1)
		}
		mu.Lock()
		defer mu.Unlock()
		sent++
		if err != nil {
			apiErrs++
			if firstErr == "" {
				firstErr = err.Error()
			}
			return
		}
		apiLat = append(apiLat, returned.Sub(due))
		made = append(made, created{linkID: id, due: due, returned: returned})
	})
	windowEnd := time.Now()
	res.Sent, res.APIErrors, res.FirstAPIError = sent, apiErrs, firstErr
	res.API = summarise(apiLat)
	res.Expected = len(made) * o.Webhooks

	ours := make(map[string]created, len(made))
	for _, m := range made {
		ours[m.linkID] = m
	}
	r.drain(ctx, res.Expected, ours)

	var lat, fromSend, fromCreated []time.Duration
	seen := map[[2]string]bool{}
	inWindow := 0
	for _, a := range r.rc.snapshot() {
		c, ok := ours[a.linkID]
		if !ok {
			continue // a warmup link, or not ours
		}
		k := [2]string{a.eventID, strconv.Itoa(a.webhook)}
		if seen[k] {
			res.Duplicates++
			continue
		}
		seen[k] = true
		fromSend = append(fromSend, a.at.Sub(c.due))
		lat = append(lat, max(0, a.at.Sub(c.returned)))
		if !a.createdAt.IsZero() {
			fromCreated = append(fromCreated, a.at.Sub(a.createdAt))
		}
		if !a.at.Before(windowStart) && !a.at.After(windowEnd) {
			inWindow++
		}
	}
	res.Received = len(seen)
	res.Lost = res.Expected - res.Received
	res.FromSend = summarise(fromSend)
	res.Latency = summarise(lat)
	res.FromCreatedAt = summarise(fromCreated)
	if w := windowEnd.Sub(windowStart).Seconds(); w > 0 {
		res.DeliveriesPerSec = float64(inWindow) / w
	}
	return ctx.Err()
}

// drain waits until every expected delivery of ours arrived or the drain ends.
func (r *run) drain(ctx context.Context, expected int, ours map[string]created) {
	// The arrival count is cheap to poll; counting distinct deliveries of
	// ours walks every arrival, so it runs only once the count says all may
	// be in, and then at most every 250 ms: the load tool must not take the
	// CPU the server is measured on.
	end := time.Now().Add(r.o.Drain)
	var checked time.Time
	for time.Now().Before(end) && ctx.Err() == nil {
		if int(r.rc.count.Load()) >= expected && time.Since(checked) >= 250*time.Millisecond {
			if received(r.rc.snapshot(), ours) >= expected {
				return
			}
			checked = time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// burst fills a backlog of o.Burst deliveries while the webhooks are held
// back, lifts the hold, and measures the drain.
func (r *run) burst(ctx context.Context, res *DeliveriesResult) error {
	o := r.o
	events := (o.Burst + o.Webhooks - 1) / o.Webhooks
	fmt.Fprintf(o.Log, "filling a backlog: %d events × %d webhooks, held back\n", events, o.Webhooks)
	var (
		mu       sync.Mutex
		made     []created
		next     atomic.Int64
		firstErr string
		wg       sync.WaitGroup
	)
	for range o.Clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1))
				if i > events {
					return
				}
				id, err := r.api.createLink(ctx, fmt.Sprintf("https://example.com/bench/burst/%d", i))
				mu.Lock()
				res.Sent++
				if err != nil {
					res.APIErrors++
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					r.made.Add(1)
					made = append(made, created{linkID: id})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.FirstAPIError = firstErr
	if err := ctx.Err(); err != nil {
		return err
	}
	res.Expected = len(made) * o.Webhooks
	ours := make(map[string]created, len(made))
	for _, m := range made {
		ours[m.linkID] = m
	}
	before := received(r.rc.snapshot(), ours) // what slipped through the hold
	res.Burst = res.Expected - before
	// Hold the backlog for a step, so the series shows it whole.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(o.Interval):
	}
	fmt.Fprintf(o.Log, "%d deliveries pending; lifting the hold\n", res.Burst)
	start := time.Now()
	for _, id := range r.hookIDs {
		if err := r.api.call(ctx, http.MethodPatch, "/api/webhooks/"+id, map[string]any{"rateLimit": nil}, nil); err != nil {
			return fmt.Errorf("lift the hold of webhook %s: %w", id, err)
		}
	}
	r.drain(ctx, res.Expected, ours)
	seen := map[[2]string]bool{}
	var first, last time.Time
	for _, a := range r.rc.snapshot() {
		if _, ok := ours[a.linkID]; !ok {
			continue
		}
		if a.at.After(start) && (first.IsZero() || a.at.Before(first)) {
			first = a.at
		}
		k := [2]string{a.eventID, strconv.Itoa(a.webhook)}
		if seen[k] {
			res.Duplicates++
			continue
		}
		seen[k] = true
		if a.at.After(last) {
			last = a.at
		}
	}
	res.Received = len(seen)
	res.Lost = res.Expected - res.Received
	if res.Lost == 0 && last.After(start) {
		r.drainStart, r.drainEnd = first, last
		res.DrainTime = last.Sub(start)
		res.DrainPerSec = float64(res.Burst) / res.DrainTime.Seconds()
	}
	return ctx.Err()
}

// sample records the series until ctx ends, then returns it; the drain
// steps of a burst are read from it afterwards by minStep.
func (r *run) sample(ctx context.Context) []Sample {
	start := r.seriesStart
	tick := time.NewTicker(r.o.Interval)
	defer tick.Stop()
	var out []Sample
	prev, prevAt := r.rc.count.Load(), start
	take := func(now time.Time) {
		n := r.rc.count.Load()
		s := Sample{At: now.Sub(start), Outstanding: max(0, int(r.made.Load())*r.o.Webhooks-int(n))}
		if d := now.Sub(prevAt).Seconds(); d > 0 {
			s.Delivered = float64(n-prev) / d
		}
		if r.o.ServerPID > 0 {
			s.RSSKiB, _ = RSS(r.o.ServerPID)
		}
		out = append(out, s)
		prev, prevAt = n, now
	}
	for {
		select {
		case <-ctx.Done():
			if now := time.Now(); now.Sub(prevAt) > r.o.Interval/10 {
				take(now) // the state at the end, a partial step
			}
			return out
		case now := <-tick.C:
			take(now)
		}
	}
}

// minStep is the slowest whole step of the series inside the drain, from its
// first arrival (the lifted limits apply from the next claim) to its last:
// "the drain rate stays at least the sustained rate until the backlog is
// gone".
// It is the mean drain rate when the drain was shorter than two steps.
func (r *run) minStep(series []Sample) float64 {
	if r.drainStart.IsZero() {
		return 0
	}
	from, to := r.drainStart.Sub(r.seriesStart), r.drainEnd.Sub(r.seriesStart)
	lowest, found := 0.0, false
	for i := 1; i < len(series)-1; i++ { // the last sample is a partial step
		if series[i-1].At >= from && series[i].At <= to {
			if !found || series[i].Delivered < lowest {
				lowest, found = series[i].Delivered, true
			}
		}
	}
	if !found {
		return float64(r.o.Burst) / (to - from).Seconds()
	}
	return lowest
}

// RSS reads the resident set size of process pid, in KiB, from
// /proc/PID/status (Linux).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// bare is the limit: the receiver's capacity as a bare Go HTTP client sees
// it, posting the body and headers of the first delivery the engine made,
// with no database anywhere, closed loop at BareConcurrency requests.
func (r *run) bare(ctx context.Context) (BareResult, error) {
	o := r.o
	res := BareResult{Concurrency: o.BareConcurrency, Duration: o.Bare}
	r.rc.mu.Lock()
	body, head := r.rc.first, r.rc.firstHead
	r.rc.mu.Unlock()
	if body == nil {
		return res, errors.New("bare client: no delivery arrived to copy")
	}
	fmt.Fprintf(o.Log, "bare client: %s at %d in flight\n", o.Bare, o.BareConcurrency)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = o.BareConcurrency, o.BareConcurrency
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	runCtx, cancel := context.WithTimeout(ctx, o.Bare)
	defer cancel()
	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
	)
	began := time.Now()
	for w := range o.BareConcurrency {
		wg.Go(func() {
			url := fmt.Sprintf("%s/hook/%d", r.base, w%o.Webhooks)
			var mine []time.Duration
			errs := 0
			for runCtx.Err() == nil {
				req, err := http.NewRequestWithContext(runCtx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					errs++
					break
				}
				req.Header = head.Clone()
				t := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					if runCtx.Err() == nil {
						errs++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					errs++
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lats = append(lats, mine...)
			res.Errors += errs
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	res.Requests = len(lats)
	res.Latency = summarise(lats)
	if elapsed > 0 {
		res.PerSec = float64(res.Requests) / elapsed.Seconds()
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// received counts distinct deliveries of the measured links.
func received(arrivals []arrival, ours map[string]created) int {
	seen := map[[2]string]bool{}
	for _, a := range arrivals {
		if _, ok := ours[a.linkID]; ok {
			seen[[2]string{a.eventID, strconv.Itoa(a.webhook)}] = true
		}
	}
	return len(seen)
}

// subscribe creates k webhooks on link.created pointing at base/hook/<n>.
// hold, when set, is every webhook's rate limit (deliveries per second).
func subscribe(ctx context.Context, api *apiClient, base string, k int, hold *float64) ([]string, error) {
	var ids []string
	for n := range k {
		var wh struct {
			ID string `json:"id"`
		}
		err := api.call(ctx, http.MethodPost, "/api/webhooks", map[string]any{
			"name": fmt.Sprintf("bench-%d", n), "url": fmt.Sprintf("%s/hook/%d", base, n),
			"triggers": []string{"link.created"}, "linkIds": []string{}, "qrcodeIds": []string{}, "pageIds": []string{},
			"includeBots": false, "rateLimit": hold,
		}, &wh)
		if err != nil {
			return ids, fmt.Errorf("subscribe webhook %d: %w", n, err)
		}
		if wh.ID == "" {
			return ids, errors.New("subscribe: answer without an id")
		}
		ids = append(ids, wh.ID)
	}
	return ids, nil
}

// unsubscribe deletes the benchmark's webhooks, even after the run was cancelled.
func unsubscribe(api *apiClient, ids []string, log io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range ids {
		if err := api.call(ctx, http.MethodDelete, "/api/webhooks/"+id, nil, nil); err != nil {
			fmt.Fprintf(log, "warning: delete webhook %s: %v\n", id, err)
		}
	}
}
