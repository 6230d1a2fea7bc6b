// Package cli is the codeqr command line: one file per subcommand.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/store"
)

// Version is set at build time with -ldflags "-X github.com/codeqr/codeqr/internal/cli.Version=…".
var Version = "dev"

const usage = `codeqr — short links, dynamic QR codes, hosted pages and webhooks in one binary.

Usage:
  codeqr serve [flags]          run the server (SQLite in ./codeqr-data by default)
  codeqr keys create [flags]    print a new API key on the last line
  codeqr keys list [flags]      list API keys (never their secrets)
  codeqr keys revoke ID         revoke an API key at once, on every node
  codeqr migrate [flags]        apply database migrations
  codeqr users create [flags]   create a dashboard account (password on stdin or at a prompt)
  codeqr listen [flags]         forward the project's webhook events to a local URL (development)
  codeqr bench deliveries [...] measure event-to-delivery latency and throughput
  codeqr bench links [...]      measure POST /api/links throughput and latency
  codeqr version                print the version

Every flag can also be set as CODEQR_<FLAG> (e.g. CODEQR_DATABASE_URL).
Run "codeqr <command> -h" for the flags of a command.
`

// Run executes the command line and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "keys":
		err = runKeys(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, args[1:], stdout, stderr)
	case "users":
		err = runUsers(ctx, args[1:], os.Stdin, stdout, stderr)
	case "listen":
		err = runListen(ctx, args[1:], stdout, stderr)
	case "bench":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "codeqr", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "codeqr: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "codeqr:", err)
		return 1
	}
	return 0
}

// configFlags binds the operator settings to fs; call finish after fs.Parse.
type configFlags struct {
	cfg            config.Config
	trustedProxies string
	retrySchedule  string
}

func bindConfig(fs *flag.FlagSet, full bool) *configFlags {
	c := &configFlags{}
	fs.StringVar(&c.cfg.DataDir, "data-dir", "./codeqr-data", "folder of the embedded SQLite database")
	fs.StringVar(&c.cfg.DatabaseURL, "database-url", "", "PostgreSQL URL (postgres://…); empty for the embedded SQLite")
	fs.StringVar(&c.cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	if !full {
		return c
	}
	fs.StringVar(&c.cfg.Addr, "addr", ":8080", "listen address")
	fs.StringVar(&c.cfg.BaseURL, "base-url", "", "default short domain, e.g. https://go.example.com (default http://localhost<addr>)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	fs.StringVar(&c.cfg.GeoIPDB, "geoip-db", "", "optional MaxMind-format city database")
	fs.BoolVar(&c.cfg.WebhooksAllowHTTP, "webhooks-allow-http", false, "allow plain http webhook URLs")
	fs.BoolVar(&c.cfg.WebhooksAllowPrivate, "webhooks-allow-private", false, "allow webhook URLs on loopback and private addresses")
	fs.StringVar(&c.retrySchedule, "retry-schedule", "", "comma-separated delays before each retry (default 5s,5m,30m,2h,5h,10h,10h)")
	fs.DurationVar(&c.cfg.DeliveryTimeout, "delivery-timeout", 15*time.Second, "timeout of one delivery attempt")
	fs.DurationVar(&c.cfg.WebhooksDisableAfter, "webhooks-disable-after", 120*time.Hour, "disable a webhook whose deliveries all failed for this long")
	fs.IntVar(&c.cfg.DeliveryWorkers, "delivery-workers", 256, "deliveries in flight at once on this node")
	fs.IntVar(&c.cfg.WebhookConcurrency, "webhook-concurrency", 10, "deliveries in flight at once to one webhook on this node")
	fs.DurationVar(&c.cfg.FlushInterval, "flush-interval", 100*time.Millisecond, "how often buffered clicks, scans and views are written (a hard crash loses this much while the database keeps up, at most about 1s under overload)")
	fs.DurationVar(&c.cfg.DedupeWindow, "dedupe-window", time.Hour, "a repeat by the same visitor on the same resource within this window is not counted (0 disables)")
	fs.DurationVar(&c.cfg.DeliveryLogRetention, "delivery-log-retention", 720*time.Hour, "how long delivery attempts, finished deliveries and their events are kept")
	fs.DurationVar(&c.cfg.InteractionsRetention, "interactions-retention", 0, "how long raw clicks, scans and views are kept, e.g. 2160h (0 keeps them forever; analytics counts are kept regardless, /api/events reaches back this far)")
	fs.StringVar(&c.cfg.SMTPAddr, "smtp-addr", "", "SMTP server (host:port) for e-mail to project owners when a webhook is disabled; empty: log only")
	fs.StringVar(&c.cfg.SMTPFrom, "smtp-from", "", "sender address of those e-mails")
	fs.StringVar(&c.cfg.SMTPUsername, "smtp-username", "", "optional SMTP username (PLAIN auth)")
	fs.StringVar(&c.cfg.SMTPPassword, "smtp-password", "", "optional SMTP password")
	fs.IntVar(&c.cfg.APIRateLimit, "api-rate-limit", 3000, "requests per minute per API key on /api (0: no limit)")
	fs.IntVar(&c.cfg.PasswordRateLimit, "password-rate-limit", 10, "password attempts per minute per client address and link (0: no limit)")
	fs.IntVar(&c.cfg.FormRateLimit, "form-rate-limit", 20, "hosted page form posts per minute per client address (0: no limit)")
	fs.IntVar(&c.cfg.QRRateLimit, "qr-rate-limit", 600, "public QR renders (/api/qr) per minute per client address (0: no limit)")
	fs.BoolVar(&c.cfg.AccessLog, "access-log", false, "log every request: method, path (secrets redacted), status, duration")
	fs.StringVar(&c.cfg.DashboardHost, "dashboard-host", "", "serve the dashboard on this host name only (e.g. app.example.com); default: /app/ on every host")
	return c
}

// parseWithEnv parses args, then fills every flag not given on the command line
// from CODEQR_<FLAG_NAME>.
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := "CODEQR_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", env, err))
			}
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (c *configFlags) finish() (config.Config, error) {
	cfg := c.cfg
	var err error
	if cfg.TrustedProxies, err = config.ParsePrefixes(c.trustedProxies); err != nil {
		return cfg, fmt.Errorf("trusted-proxies: %w", err)
	}
	if cfg.RetrySchedule, err = config.ParseDurations(c.retrySchedule); err != nil {
		return cfg, fmt.Errorf("retry-schedule: %w", err)
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

func newLogger(w io.Writer, level string) *slog.Logger {
	l, err := config.ParseLogLevel(level)
	if err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.Store, error) {
	return store.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath(), store.Options{Logger: logger})
}
