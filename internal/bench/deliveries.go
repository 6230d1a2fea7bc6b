package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	// Rate is link.created events per second (500).
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
	// Latency is from the create request's return to the delivery's arrival
	// (negative values, when the delivery beat the response, count as 0).
	Latency Latencies
	// FromCreatedAt is from the event's createdAt (server clock) to arrival.
	FromCreatedAt Latencies
	Lost          int
	FirstAPIError string
}

// Print writes the summary block.
func (r DeliveriesResult) Print(w io.Writer) {
	fmt.Fprintf(w, "codeqr bench deliveries: rate %.0f ev/s, duration %s, webhooks %d\n", r.Rate, r.Duration, r.Webhooks)
	fmt.Fprintf(w, "  events sent          %d (API errors %d)\n", r.Sent, r.APIErrors)
	fmt.Fprintf(w, "  API latency          p50 %s  p99 %s  (POST /api/links, from schedule)\n", ms(r.API.P50), ms(r.API.P99))
	fmt.Fprintf(w, "  deliveries received  %d of %d expected (%d duplicates)\n", r.Received, r.Expected, r.Duplicates)
	fmt.Fprintf(w, "  deliveries/s         %.0f sustained\n", r.DeliveriesPerSec)
	fmt.Fprintf(w, "  delivery latency     p50 %s  p90 %s  p99 %s  max %s  (from API response)\n",
		ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max))
	fmt.Fprintf(w, "  from event createdAt p50 %s  p90 %s  p99 %s  max %s\n",
		ms(r.FromCreatedAt.P50), ms(r.FromCreatedAt.P90), ms(r.FromCreatedAt.P99), ms(r.FromCreatedAt.Max))
	fmt.Fprintf(w, "  lost                 %d\n", r.Lost)
	if r.FirstAPIError != "" {
		fmt.Fprintf(w, "  first API error      %s\n", r.FirstAPIError)
	}
}

// arrival is one delivery the receiver got.
type arrival struct {
	webhook   int
	linkID    string
	eventID   string
	createdAt time.Time
	at        time.Time
}

// receiver serves /hook/<n> for the K webhooks and records every arrival.
type receiver struct {
	mu       sync.Mutex
	arrivals []arrival
	count    atomic.Int64
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hook/"))
	if err != nil || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var env struct {
		ID        string `json:"id"`
		CreatedAt string `json:"createdAt"`
		Data      struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	created, _ := time.Parse(time.RFC3339Nano, env.CreatedAt)
	rc.mu.Lock()
	rc.arrivals = append(rc.arrivals, arrival{webhook: n, linkID: env.Data.ID, eventID: env.ID, createdAt: created, at: at})
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
	returned time.Time
}

// Deliveries runs the delivery benchmark against a running server.
func Deliveries(ctx context.Context, o DeliveriesOptions) (DeliveriesResult, error) {
	o.defaults()
	res := DeliveriesResult{Rate: o.Rate, Duration: o.Duration, Webhooks: o.Webhooks}

	ln, err := net.Listen("tcp", o.ReceiverAddr)
	if err != nil {
		return res, fmt.Errorf("receiver: %w", err)
	}
	rc := &receiver{}
	hs := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	hookBase := "http://" + ln.Addr().String()

	api := newAPIClient(o.Server, o.Key, o.Clients)
	defer api.close()

	hookIDs, err := subscribe(ctx, api, hookBase, o.Webhooks)
	defer unsubscribe(api, hookIDs, o.Log)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(o.Log, "receiver on %s, %d webhook(s) subscribed to link.created\n", hookBase, len(hookIDs))

	if o.Warmup > 0 {
		fmt.Fprintf(o.Log, "warming up for %s at %.0f ev/s\n", o.Warmup, o.Rate)
		schedule(ctx, o.Rate, o.Warmup, o.Clients, func(i int, _ time.Time) {
			_, _ = api.createLink(ctx, fmt.Sprintf("https://example.com/bench/warmup/%d", i))
		})
	}
	if err := ctx.Err(); err != nil {
		return res, err
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
		id, err := api.createLink(ctx, fmt.Sprintf("https://example.com/bench/%d", i))
		returned := time.Now()
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
		made = append(made, created{linkID: id, returned: returned})
	})
	windowEnd := time.Now()
	res.Sent, res.APIErrors, res.FirstAPIError = sent, apiErrs, firstErr
	res.API = summarise(apiLat)
	res.Expected = len(made) * o.Webhooks

	// Drain: wait until every expected delivery arrived or the drain ends.
	returnedAt := make(map[string]time.Time, len(made))
	for _, m := range made {
		returnedAt[m.linkID] = m.returned
	}
	drainEnd := time.Now().Add(o.Drain)
	for time.Now().Before(drainEnd) && ctx.Err() == nil {
		if int(rc.count.Load()) >= res.Expected && received(rc.snapshot(), returnedAt) >= res.Expected {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	var lat, fromCreated []time.Duration
	seen := map[[2]string]bool{}
	inWindow := 0
	for _, a := range rc.snapshot() {
		ret, ok := returnedAt[a.linkID]
		if !ok {
			continue // a warmup link, or not ours
		}
		k := [2]string{a.eventID, strconv.Itoa(a.webhook)}
		if seen[k] {
			res.Duplicates++
			continue
		}
		seen[k] = true
		lat = append(lat, max(0, a.at.Sub(ret)))
		if !a.createdAt.IsZero() {
			fromCreated = append(fromCreated, a.at.Sub(a.createdAt))
		}
		if !a.at.Before(windowStart) && !a.at.After(windowEnd) {
			inWindow++
		}
	}
	res.Received = len(seen)
	res.Lost = res.Expected - res.Received
	res.Latency = summarise(lat)
	res.FromCreatedAt = summarise(fromCreated)
	if w := windowEnd.Sub(windowStart).Seconds(); w > 0 {
		res.DeliveriesPerSec = float64(inWindow) / w
	}
	return res, ctx.Err()
}

// received counts distinct deliveries of the measured links.
func received(arrivals []arrival, ours map[string]time.Time) int {
	seen := map[[2]string]bool{}
	for _, a := range arrivals {
		if _, ok := ours[a.linkID]; ok {
			seen[[2]string{a.eventID, strconv.Itoa(a.webhook)}] = true
		}
	}
	return len(seen)
}

// subscribe creates k webhooks on link.created pointing at base/hook/<n>.
func subscribe(ctx context.Context, api *apiClient, base string, k int) ([]string, error) {
	var ids []string
	for n := range k {
		var wh struct {
			ID string `json:"id"`
		}
		err := api.call(ctx, http.MethodPost, "/api/webhooks", map[string]any{
			"name": fmt.Sprintf("bench-%d", n), "url": fmt.Sprintf("%s/hook/%d", base, n),
			"triggers": []string{"link.created"}, "linkIds": []string{}, "qrcodeIds": []string{}, "pageIds": []string{},
			"includeBots": false,
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
