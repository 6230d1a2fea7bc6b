package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RedirectsOptions configure Redirects: closed-loop GET /{key} of one link,
// then, in the same run, the same load against a bare net/http server that
// answers 302 from a map, and the ingest: how fast the clicks were recorded.
// The server must run with --dedupe-window 0, so every redirect is counted.
type RedirectsOptions struct {
	Server, Key string
	Concurrency int           // clients redirecting back to back (64)
	Duration    time.Duration // of each measured phase (10s)
	Warmup      time.Duration // before the server's phase, not measured (2s)
	// Drain is how long to wait for the clicks to be recorded (30s).
	Drain time.Duration
	// NoBare skips the bare-server phase.
	NoBare bool
	Log    io.Writer
}

// RedirectsResult is what one run of Redirects measured.
type RedirectsResult struct {
	Concurrency int
	Duration    time.Duration
	Server      RedirectPhase
	Bare        *RedirectPhase
	// Recorded is the clicks the link gained from the measured phase (a
	// request cut off at its end may be recorded without its answer);
	// BehindAtEnd how many were answered but not yet recorded when the
	// load stopped; IngestPerSec the clicks recorded per second from the
	// start of the load to the moment the last one was recorded.
	Recorded, BehindAtEnd int64
	IngestPerSec          float64
	IngestTime            time.Duration
}

// RedirectPhase is one closed-loop phase.
type RedirectPhase struct {
	Requests, Errors int
	PerSec           float64
	Latency          Latencies
	FirstError       string
}

// Print writes the summary block.
func (r RedirectsResult) Print(w io.Writer) {
	fmt.Fprintf(w, "codeqr bench redirects: %d clients, %s per phase\n", r.Concurrency, r.Duration)
	p := r.Server
	fmt.Fprintf(w, "  codeqr GET /{key}    %.0f req/s (%d, errors %d), p50 %s p99 %s max %s\n",
		p.PerSec, p.Requests, p.Errors, ms(p.Latency.P50), ms(p.Latency.P99), ms(p.Latency.Max))
	if p.FirstError != "" {
		fmt.Fprintf(w, "  first error          %s\n", p.FirstError)
	}
	if b := r.Bare; b != nil {
		fmt.Fprintf(w, "  bare net/http 302    %.0f req/s (%d, errors %d), p50 %s p99 %s max %s\n",
			b.PerSec, b.Requests, b.Errors, ms(b.Latency.P50), ms(b.Latency.P99), ms(b.Latency.Max))
		if b.PerSec > 0 && b.Latency.P99 > 0 {
			fmt.Fprintf(w, "  codeqr / bare        %.0f %% of the throughput, p99 %.1f×\n",
				100*p.PerSec/b.PerSec, float64(p.Latency.P99)/float64(b.Latency.P99))
		}
	}
	fmt.Fprintf(w, "  interactions         %d recorded of %d answered, %d behind when the load stopped\n",
		r.Recorded, p.Requests, r.BehindAtEnd)
	fmt.Fprintf(w, "  ingest               %.0f interactions/s (all recorded %s after the load began)\n",
		r.IngestPerSec, r.IngestTime.Round(time.Millisecond))
}

// benchUA is a browser's User-Agent, so the clicks are not taken for a bot's.
const benchUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

// Redirects runs the redirect benchmark against a running server.
func Redirects(ctx context.Context, o RedirectsOptions) (RedirectsResult, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Drain <= 0 {
		o.Drain = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	res := RedirectsResult{Concurrency: o.Concurrency, Duration: o.Duration}
	api := newAPIClient(o.Server, o.Key, 4)
	defer api.close()
	var link struct {
		ID        string `json:"id"`
		ShortLink string `json:"shortLink"`
	}
	if err := api.call(ctx, http.MethodPost, "/api/links", map[string]any{"url": "https://example.com/bench/redirect"}, &link); err != nil {
		return res, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = api.call(dctx, http.MethodDelete, "/api/links/"+link.ID, nil, nil)
	}()
	// The short link names the server's public base URL (its Host picks the
	// domain); the load goes to the server given, with that Host.
	short, err := url.Parse(link.ShortLink)
	if err != nil {
		return res, fmt.Errorf("shortLink %q: %w", link.ShortLink, err)
	}
	target := strings.TrimRight(o.Server, "/") + short.Path

	if o.Warmup > 0 {
		fmt.Fprintf(o.Log, "warming up for %s\n", o.Warmup)
		hammer(ctx, target, short.Host, o.Concurrency, o.Warmup)
	}
	base, err := settled(ctx, api, link.ID, o.Drain)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(o.Log, "measuring %s for %s\n", target, o.Duration)
	began := time.Now()
	res.Server = hammer(ctx, target, short.Host, o.Concurrency, o.Duration)
	if n, err := clicks(ctx, api, link.ID); err == nil {
		res.BehindAtEnd = int64(res.Server.Requests) - (n - base)
	}
	// Ingest: wait until every answered redirect is recorded (or the drain
	// ends), noting when the count last grew.
	end := time.Now().Add(o.Drain)
	var last time.Time
	for ctx.Err() == nil && time.Now().Before(end) {
		n, err := clicks(ctx, api, link.ID)
		if err != nil {
			return res, err
		}
		if n-base > res.Recorded {
			res.Recorded, last = n-base, time.Now()
		}
		if res.Recorded >= int64(res.Server.Requests) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !last.IsZero() {
		res.IngestTime = last.Sub(began)
		res.IngestPerSec = float64(res.Recorded) / res.IngestTime.Seconds()
	}
	if o.NoBare {
		return res, ctx.Err()
	}
	b, err := bareRedirects(ctx, o)
	res.Bare = &b
	if err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// bareRedirects runs the same load against a net/http server on loopback
// that answers 302 from a map: the floor of what serving a redirect costs.
func bareRedirects(ctx context.Context, o RedirectsOptions) (RedirectPhase, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return RedirectPhase{}, err
	}
	links := map[string]string{"/bench": "https://example.com/bench/redirect"}
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := links[r.URL.Path]; ok {
			http.Redirect(w, r, u, http.StatusFound)
			return
		}
		http.NotFound(w, r)
	})}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	fmt.Fprintf(o.Log, "bare server for %s\n", o.Duration)
	return hammer(ctx, "http://"+ln.Addr().String()+"/bench", "", o.Concurrency, o.Duration), ctx.Err()
}

// hammer sends GET target (with Host host, unless empty) back to back from c
// clients for d, redirects not followed, and times every request.
func hammer(ctx context.Context, target, host string, c int, d time.Duration) RedirectPhase {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = c, c
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu    sync.Mutex
		out   RedirectPhase
		lats  []time.Duration
		wg    sync.WaitGroup
		first atomic.Value
	)
	began := time.Now()
	for range c {
		wg.Go(func() {
			var mine []time.Duration
			errs := 0
			for runCtx.Err() == nil {
				req, err := http.NewRequestWithContext(runCtx, http.MethodGet, target, nil)
				if err != nil {
					errs++
					break
				}
				if host != "" {
					req.Host = host
				}
				req.Header.Set("User-Agent", benchUA)
				t := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					if runCtx.Err() == nil {
						errs++
						first.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusFound {
					errs++
					first.CompareAndSwap(nil, fmt.Sprintf("status %d", resp.StatusCode))
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lats = append(lats, mine...)
			out.Errors += errs
			mu.Unlock()
		})
	}
	wg.Wait()
	out.Requests = len(lats)
	out.Latency = summarise(lats)
	out.PerSec = float64(out.Requests) / time.Since(began).Seconds()
	if v, ok := first.Load().(string); ok {
		out.FirstError = v
	}
	return out
}

// settled returns a link's click count once it stopped growing for 300 ms
// (the warm-up's clicks are all recorded), or when max has passed.
func settled(ctx context.Context, api *apiClient, id string, max time.Duration) (int64, error) {
	end := time.Now().Add(max)
	prev, err := clicks(ctx, api, id)
	for err == nil && time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return prev, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		var n int64
		if n, err = clicks(ctx, api, id); err == nil && n == prev {
			return n, nil
		}
		prev = n
	}
	return prev, err
}

// clicks reads a link's click count.
func clicks(ctx context.Context, api *apiClient, id string) (int64, error) {
	var l struct {
		Clicks int64 `json:"clicks"`
	}
	err := api.call(ctx, http.MethodGet, "/api/links/"+id, nil, &l)
	return l.Clicks, err
}
