package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/dashboard"
	"github.com/codeqr/codeqr/internal/datadir"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
)

// runServe runs a server process, in order: config → logger → databases →
// migrations → first start → the application (internal/app) → listen →
// workers → serve → signals → ordered shutdown.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := bindConfig(fs, true)
	pprofAddr := fs.String("pprof-addr", "", "debugging only: serve Go's net/http/pprof profiles on this loopback address (e.g. 127.0.0.1:6060); empty: off")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	cfg, err := cf.finish()
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	if *pprofAddr != "" {
		stopPprof, err := servePprof(*pprofAddr, logger)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if cfg.DatabaseURL == "" {
		// One server per SQLite data directory (see internal/datadir).
		lock, err := datadir.Acquire(cfg.DataDir)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	// On PostgreSQL, background work (deliveries, interaction batches, cache
	// invalidation polling) gets its own small pool, so a burst of API
	// requests holding every connection cannot starve it. SQLite must keep its
	// single writer, so there it shares the store. Its size covers every
	// background user at once, so none queues behind another: the claim loop
	// and the completer of the deliverer, the interaction flusher, cache
	// invalidation polling, and the occasional recoverer, pruner, notifier and
	// queue-metrics scrape.
	background := st
	if cfg.DatabaseURL != "" {
		if background, err = store.Open(ctx, cfg.DatabaseURL, "", store.Options{MaxConns: 10, Logger: logger}); err != nil {
			return err
		}
		defer background.Close()
	}

	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	if err := st.CheckSchema(ctx); err != nil {
		return err
	}
	projectSvc := projects.NewService(st, nil)
	if err := firstStart(ctx, projectSvc, stdout); err != nil {
		return err
	}
	accountSvc := accounts.NewService(st, projectSvc, nil)
	if err := printSetup(ctx, accountSvc, cfg, stdout); err != nil {
		return err
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var dashErr error
	a, err := app.New(app.Options{Config: cfg, Store: st, Background: background, Logger: logger, Registry: registry,
		Dashboard: func(a *app.App) http.Handler {
			d, err := dashboard.New(dashboard.Deps{
				Logger: logger, Config: a.Config, Accounts: accountSvc, Projects: a.Projects, Tags: a.Tags, Links: a.Links,
				QRCodes: a.QRCodes, Pages: a.Pages, Domains: a.Domains, Webhooks: a.Webhooks, Analytics: a.Analytics,
				Conversions: a.Conversions, Partners: a.Partners,
			})
			if err != nil {
				dashErr = err
				return nil
			}
			return d.Handler()
		}})
	if err == nil {
		err = dashErr
	}
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = a.Stop(ctx)
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	httpServer := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	// Shutdown waits for active requests; a `codeqr listen` stream never ends
	// by itself, so it is told to end when shutdown starts.
	httpServer.RegisterOnShutdown(a.BeginDrain)

	if err := a.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()
	logger.Info("codeqr: serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "database", st.Dialect().Name(), "version", Version)

	var httpErr error
	select {
	case <-ctx.Done():
		logger.Info("codeqr: shutting down")
		// Stop taking requests first, so every event they wrote is committed.
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := httpServer.Shutdown(shutdownCtx); err != nil {
			logger.Warn("codeqr: http shutdown", "err", err)
		}
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			httpErr = fmt.Errorf("http: %w", err)
		}
	}
	// Then stop the workers in reverse order — the interactions pipeline
	// writes every buffered interaction (and its events) before the deliverer
	// stops — under a fresh deadline, whatever the HTTP drain used. Stop logs
	// each failure itself.
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelDrain()
	_ = a.Stop(drainCtx)
	if httpErr != nil {
		return httpErr
	}
	logger.Info("codeqr: stopped")
	return nil
}

// firstStart creates project "default" and prints its key, once, on a new database.
func firstStart(ctx context.Context, ps *projects.Service, stdout io.Writer) error {
	n, err := ps.Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, key, created, err := ps.EnsureWithKey(ctx, "default", "first start", nil)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "Created project \"default\". Its API key (shown once, keep it):\n%s\n", key)
	}
	return nil
}

// printSetup prints a one-time set-up address for the dashboard's owner
// account while no account exists (on the first start, beside the API key).
func printSetup(ctx context.Context, as *accounts.Service, cfg config.Config, stdout io.Writer) error {
	n, err := as.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	token, err := as.NewSetupToken(ctx)
	if err != nil {
		return err
	}
	base := cfg.BaseURL
	if cfg.DashboardHost != "" {
		base = cfg.BaseScheme() + "://" + cfg.DashboardHost
	}
	fmt.Fprintf(stdout, "Open this address once to create the dashboard's owner account (valid %s):\n%s\n",
		accounts.SetupTTL, dashboard.SetupURL(base, token))
	return nil
}

// servePprof serves the profiling endpoints on a loopback address only: they
// expose the process's internals and cost CPU while sampled, so they are a
// debugging aid an operator turns on for one run, never part of the API.
func servePprof(addr string, logger *slog.Logger) (func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-addr: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--pprof-addr %s: must be a loopback address such as 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Warn("codeqr: serving pprof profiles (debugging only)", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
