package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/codeqr/codeqr/internal/bench"
)

const benchUsage = `usage:
  codeqr bench deliveries --key KEY [--server URL] [--rate N] [--duration D] [--webhooks K] [--warmup D]
  codeqr bench links --key KEY [--server URL] (--rate N | --concurrency C) [--duration D]
  codeqr bench analytics [--n N] [--span D] [--links L] [--batch B] [--runs R] [--database-url URL | --data-dir DIR]

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
		return benchDeliveries(ctx, args[1:], stdout, stderr)
	case "links":
		return benchLinks(ctx, args[1:], stdout, stderr)
	case "analytics":
		return benchAnalytics(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("bench: unknown mode %q\n%s", args[0], benchUsage)
}

func benchDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench deliveries", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.DeliveriesOptions
	fs.StringVar(&o.Server, "server", "http://127.0.0.1:8080", "base URL of the running server")
	fs.StringVar(&o.Key, "key", "", "API key (codeqr keys create)")
	fs.Float64Var(&o.Rate, "rate", 500, "link.created events per second")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "measured phase")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured phase before it, at the same rate")
	fs.IntVar(&o.Webhooks, "webhooks", 1, "fan-out: webhooks subscribed to link.created")
	fs.StringVar(&o.ReceiverAddr, "receiver-addr", "127.0.0.1:0", "listen address of the local receiver")
	fs.IntVar(&o.Clients, "clients", 64, "concurrent API requests at most")
	fs.DurationVar(&o.Drain, "drain", 30*time.Second, "how long to wait for outstanding deliveries")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if o.Key == "" {
		return errors.New("bench deliveries: --key is required")
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
	if err := parseWithEnv(fs, args); err != nil {
		return err
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
