package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/codeqr/codeqr/internal/bench"
)

const benchUsage = `usage:
  codeqr bench deliveries --key KEY [--server URL] [--rate N] [--duration D] [--webhooks K] [--warmup D]
                          [--drain D] [--bare D] [--interval D] [--server-pid PID]
  codeqr bench deliveries --key KEY --burst N [--webhooks K] [--bare D] [--server-pid PID]
  codeqr bench soak --key KEY --server-pid PID [--rate N] [--webhooks K] [--duration D (10m)]
  codeqr bench links --key KEY [--server URL] (--rate N | --concurrency C) [--duration D]
  codeqr bench analytics [--n N] [--span D] [--links L] [--batch B] [--runs R] [--cpuprofile FILE] [--query-cpuprofile FILE] [--database-url URL | --data-dir DIR]
  codeqr bench redirects --key KEY [--server URL] [--concurrency C] [--duration D] [--no-bare]

The server must allow the local receiver: serve --webhooks-allow-http --webhooks-allow-private.
bench analytics needs no server: it writes into the database itself, through the interactions pipeline.`

// runBench measures a running server from the outside; see package bench.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: a mode is required\n%s", benchUsage)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "deliveries":
		return benchDeliveries(ctx, "deliveries", args[1:], stdout, stderr)
	case "soak":
		return benchDeliveries(ctx, "soak", args[1:], stdout, stderr)
	case "links":
		return benchLinks(ctx, args[1:], stdout, stderr)
	case "analytics":
		return benchAnalytics(ctx, args[1:], stdout, stderr)
	case "redirects":
		return benchRedirects(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("bench: unknown mode %q\n%s", args[0], benchUsage)
}

// benchDeliveries runs bench.Deliveries; the soak mode is the same run with
// a long duration and a coarse series, for watching the server's memory.
func benchDeliveries(ctx context.Context, mode string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.DeliveriesOptions
	duration, interval := 30*time.Second, time.Second
	if mode == "soak" {
		duration, interval = 10*time.Minute, 10*time.Second
	}
	fs.StringVar(&o.Server, "server", "http://127.0.0.1:8080", "base URL of the running server")
	fs.StringVar(&o.Key, "key", "", "API key (codeqr keys create)")
	fs.Float64Var(&o.Rate, "rate", 500, "link.created events per second")
	fs.DurationVar(&o.Duration, "duration", duration, "measured phase")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured phase before it, at the same rate")
	fs.IntVar(&o.Burst, "burst", 0, "instead of a rate: leave N deliveries pending, then measure the drain")
	fs.DurationVar(&o.Bare, "bare", 0, "after the engine, run the bare-client limit for this long (0: off)")
	fs.IntVar(&o.BareConcurrency, "bare-concurrency", 0, "requests in flight of the bare client (default webhooks × 10)")
	fs.DurationVar(&o.Interval, "interval", interval, "step of the printed series (deliveries/s, outstanding, RSS)")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "server process whose RSS the series samples (/proc/PID/status)")
	fs.IntVar(&o.Webhooks, "webhooks", 1, "fan-out: webhooks subscribed to link.created")
	fs.StringVar(&o.ReceiverAddr, "receiver-addr", "127.0.0.1:0", "listen address of the local receiver")
	fs.IntVar(&o.Clients, "clients", 64, "concurrent API requests at most")
	fs.DurationVar(&o.Drain, "drain", 30*time.Second, "how long to wait for outstanding deliveries")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if o.Key == "" {
		return fmt.Errorf("bench %s: --key is required", mode)
	}
	if mode == "soak" && o.ServerPID <= 0 {
		return errors.New("bench soak: --server-pid is required (the server's RSS is what a soak watches)")
	}
	o.Log = stderr
	res, err := bench.Deliveries(ctx, o)
	res.Print(stdout)
	return err
}

func benchLinks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench links", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.LinksOptions
	fs.StringVar(&o.Server, "server", "http://127.0.0.1:8080", "base URL of the running server")
	fs.StringVar(&o.Key, "key", "", "API key (codeqr keys create)")
	fs.Float64Var(&o.Rate, "rate", 0, "open loop: requests per second (0: closed loop)")
	fs.IntVar(&o.Concurrency, "concurrency", 32, "closed loop: clients creating back to back; open loop: pool size")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "measured phase")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured phase before it")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if o.Key == "" {
		return errors.New("bench links: --key is required")
	}
	o.Log = stderr
	res, err := bench.Links(ctx, o)
	res.Print(stdout)
	return err
}

func benchAnalytics(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench analytics", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := bindConfig(fs, false)
	var o bench.AnalyticsOptions
	fs.IntVar(&o.N, "n", 1_000_000, "interactions to write into a fresh project")
	fs.DurationVar(&o.Span, "span", 30*24*time.Hour, "they are spread evenly over this much time before now (their density decides how much the rollups aggregate)")
	fs.IntVar(&o.Links, "links", 200, "links they are spread over (a few popular ones get most)")
	fs.IntVar(&o.Batch, "batch", 5000, "interactions per write transaction")
	fs.IntVar(&o.Runs, "runs", 20, "timed runs of each query")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the ingest phase to this file (go tool pprof)")
	queryProfile := fs.String("query-cpuprofile", "", "write a CPU profile of the query phase to this file")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		dst  *io.Writer
	}{{*cpuProfile, &o.IngestProfile}, {*queryProfile, &o.QueryProfile}} {
		if p.name == "" {
			continue
		}
		f, err := os.Create(p.name)
		if err != nil {
			return err
		}
		defer f.Close()
		*p.dst = f
	}
	cfg, err := cf.finish()
	if err != nil {
		return err
	}
	logger := newLogger(stderr, "warn")
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	o.Log = stderr
	res, err := bench.Analytics(ctx, st, o)
	res.Print(stdout)
	return err
}

// benchRedirects runs bench.Redirects; the server should run with
// --dedupe-window 0 so that every redirect counts as a click.
func benchRedirects(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench redirects", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.RedirectsOptions
	fs.StringVar(&o.Server, "server", "http://127.0.0.1:8080", "base URL of the running server (serve --dedupe-window 0)")
	fs.StringVar(&o.Key, "key", "", "API key (codeqr keys create)")
	fs.IntVar(&o.Concurrency, "concurrency", 64, "clients redirecting back to back")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "each measured phase (the server, then the bare server)")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured phase before the server's")
	fs.DurationVar(&o.Drain, "drain", 30*time.Second, "how long to wait for the clicks to be recorded")
	fs.BoolVar(&o.NoBare, "no-bare", false, "skip the bare net/http 302 server")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if o.Key == "" {
		return errors.New("bench redirects: --key is required")
	}
	o.Log = stderr
	res, err := bench.Redirects(ctx, o)
	res.Print(stdout)
	return err
}
