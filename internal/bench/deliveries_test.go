package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testserver"
)

// Every mode of the delivery benchmark runs here at a tiny scale against a
// real in-process server, so none of them can rot.

// The open-loop run with its series, the server's RSS and the bare-client
// limit, on both stores.
func TestDeliveriesOpenLoop(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		srv := testserver.Start(t, st)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := Deliveries(ctx, DeliveriesOptions{Server: srv.URL, Key: srv.Key, Rate: 40, Duration: time.Second,
			Warmup: 200 * time.Millisecond, Webhooks: 2, Clients: 8, Drain: 20 * time.Second,
			Bare: 300 * time.Millisecond, Interval: 100 * time.Millisecond, ServerPID: os.Getpid()})
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent != 40 || res.APIErrors != 0 {
			t.Fatalf("sent %d, API errors %d (%s)", res.Sent, res.APIErrors, res.FirstAPIError)
		}
		if res.Expected != 80 || res.Received != 80 || res.Lost != 0 {
			t.Fatalf("expected %d, received %d, lost %d", res.Expected, res.Received, res.Lost)
		}
		if res.FromSend.N != 80 || res.FromSend.P50 <= 0 || res.FromSend.P99 < res.FromSend.P50 {
			t.Errorf("latency from send %+v: not every delivery counted", res.FromSend)
		}
		if res.DeliveriesPerSec <= 0 {
			t.Errorf("deliveries/s = %v", res.DeliveriesPerSec)
		}
		checkSeries(t, res)
		if res.Bare == nil || res.Bare.Requests == 0 || res.Bare.Errors != 0 || res.Bare.PerSec <= 0 {
			t.Errorf("bare run = %+v", res.Bare)
		}
	})
}

// A burst leaves its deliveries pending until the hold is lifted, then
// drains them all.
func TestDeliveriesBurst(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, storetest.New(t, "sqlite"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Deliveries(ctx, DeliveriesOptions{Server: srv.URL, Key: srv.Key, Burst: 200, Webhooks: 4, Clients: 8,
		Drain: 20 * time.Second, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Expected != 200 || res.Received != 200 || res.Lost != 0 {
		t.Fatalf("expected %d, received %d, lost %d", res.Expected, res.Received, res.Lost)
	}
	// The hold lets at most one delivery per webhook through (the token
	// bucket's first token).
	if res.Burst < 200-4 {
		t.Errorf("only %d deliveries were pending when the hold was lifted", res.Burst)
	}
	if res.DrainTime <= 0 || res.DrainPerSec <= 0 || res.DrainMinStep <= 0 {
		t.Errorf("drain %s at %.0f/s (slowest step %.0f/s)", res.DrainTime, res.DrainPerSec, res.DrainMinStep)
	}
	peak := 0
	for _, s := range res.Series {
		peak = max(peak, s.Outstanding)
	}
	if peak < res.Burst {
		t.Errorf("the series never shows the backlog of %d (peak %d)", res.Burst, peak)
	}
}

func checkSeries(t *testing.T, res DeliveriesResult) {
	t.Helper()
	if len(res.Series) < 5 {
		t.Fatalf("series of %d samples", len(res.Series))
	}
	delivered := false
	for i, s := range res.Series {
		if s.RSSKiB <= 0 {
			t.Fatalf("sample %d without RSS: %+v", i, s)
		}
		if i > 0 && s.At <= res.Series[i-1].At {
			t.Fatalf("series not in time order at %d", i)
		}
		delivered = delivered || s.Delivered > 0
	}
	if !delivered {
		t.Error("the series never shows a delivery")
	}
	if last := res.Series[len(res.Series)-1]; last.Outstanding != 0 {
		t.Errorf("outstanding at the end = %d", last.Outstanding)
	}
}

func TestRSS(t *testing.T) {
	t.Parallel()
	kib, err := RSS(os.Getpid())
	if err != nil || kib < 1024 {
		t.Fatalf("RSS = %d KiB, %v", kib, err)
	}
	if _, err := RSS(-1); err == nil {
		t.Fatal("no error for a missing process")
	}
}

// The redirect run: the server's phase, the bare 302 server's, and the ingest
// count, every answered redirect recorded.
func TestRedirects(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, storetest.New(t, "sqlite"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Redirects(ctx, RedirectsOptions{Server: srv.URL, Key: srv.Key, Concurrency: 4, Duration: 300 * time.Millisecond,
		Warmup: 100 * time.Millisecond, Drain: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Server.Requests == 0 || res.Server.Errors != 0 {
		t.Fatalf("server phase %+v", res.Server)
	}
	// Requests cut off at the end of the phase may be recorded unanswered.
	if res.Recorded < int64(res.Server.Requests) || res.Recorded > int64(res.Server.Requests+4) || res.IngestPerSec <= 0 {
		t.Errorf("recorded %d of %d answered, ingest %.0f/s", res.Recorded, res.Server.Requests, res.IngestPerSec)
	}
	if b := res.Bare; b == nil || b.Requests == 0 || b.Errors != 0 {
		t.Errorf("bare phase %+v", res.Bare)
	}
}
