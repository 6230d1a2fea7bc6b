package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/domains"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pageforms"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/redirects"
	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/tracking"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// runServe is the whole wiring of a server process, in order:
// config → logger → database → migrations → services → delivery → HTTP →
// signals → ordered shutdown.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := bindConfig(fs, true)
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	cfg, err := cf.finish()
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
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

	// On PostgreSQL, background work (deliveries, interaction batches, cache
	// invalidation polling) gets its own small pool, so a burst of API
	// requests holding every connection cannot starve it. SQLite must keep its
	// single writer, so there it shares the store.
	background := st
	if cfg.DatabaseURL != "" {
		if background, err = store.Open(ctx, cfg.DatabaseURL, "", store.Options{MaxConns: 6, Logger: logger}); err != nil {
			return err
		}
		defer background.Close()
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	deliverer := webhooks.NewDeliverer(background, cfg, logger, registry)
	notifier := webhooks.NewNotifier(st, cfg, logger) // nil without --smtp-addr
	deliverer.OnDisable(notifier.Disabled)
	if err := webhooks.RegisterQueueMetrics(registry, background, logger); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	recoverer := webhooks.NewRecoverer(background, deliverer.Notify, logger)
	pruner := webhooks.NewPruner(background, cfg.DeliveryLogRetention, logger)
	retention := interactions.NewRetention(background, cfg.InteractionsRetention, logger)
	eventWriter := events.NewWriter(deliverer.Notify, nil)
	tagSvc := tags.NewService(st, nil)
	resolver := redirects.NewResolver(background, redirects.ResolverOptions{Logger: logger})
	linkSvc := links.NewService(st, eventWriter, tagSvc, cfg).WithInvalidator(resolver)
	enricher, err := tracking.New(tracking.Options{TrustedProxies: cfg.TrustedProxies, GeoIPDB: cfg.GeoIPDB})
	if err != nil {
		return fmt.Errorf("geoip-db: %w", err)
	}
	defer enricher.Close()
	pageSvc := pages.NewService(st, eventWriter, tagSvc, cfg)
	qrSvc := qrcodes.NewService(st, eventWriter, tagSvc, cfg).WithLogger(logger).WithInvalidator(resolver)
	dedupe := cfg.DedupeWindow
	if dedupe == 0 {
		dedupe = -1 // disabled
	}
	pipeline := interactions.New(background, eventWriter, interactions.Options{
		FlushInterval: cfg.FlushInterval, DedupeWindow: dedupe, Logger: logger,
		Links: interactions.LinkLoader(linkSvc), QRCodes: interactions.QRCodeLoader(qrSvc),
		Pages: pages.ViewLoader(pageSvc),
	})
	// Hosted pages are served from memory; changes on this node and on others
	// (polled by the resolver) drop cached pages.
	pageViewer := pages.NewViewer(pageSvc, pipeline, enricher, redirects.NotFound, logger)
	pageSvc.WithInvalidator(pageViewer.Invalidator())
	resolver.Also(pageViewer.Invalidator())
	conversionSvc := conversions.NewService(st, eventWriter, conversions.Options{
		Links: linkSvc, QRCodes: qrSvc, Pages: pageSvc, Flusher: pipeline, Logger: logger})
	// Closed when shutdown begins, to end long-lived streams (see below).
	draining := make(chan struct{})
	server := api.New(api.Deps{
		Draining:    draining,
		Logger:      logger,
		Config:      cfg,
		Store:       st,
		Projects:    projectSvc,
		Tags:        tagSvc,
		Links:       linkSvc,
		QRCodes:     qrSvc,
		Pages:       pageSvc,
		Domains:     domains.NewService(st, nil),
		Webhooks:    webhooks.NewService(st, eventWriter, tagSvc, cfg).WithNotify(deliverer.Notify).WithRecoveryNotify(recoverer.Notify),
		Metrics:     promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		Public:      redirects.NewHandler(resolver, pipeline, enricher, cfg, logger),
		PageViews:   pageViewer,
		Conversions: conversionSvc,
		Listen:      deliverer.ListenHub(),
		Partners:    partners.NewService(st, eventWriter, linkSvc, cfg),
		PageForms:   pageforms.NewHandler(st, conversionSvc, pageSvc, pipeline, enricher, cfg, logger),
		Analytics:   analytics.NewService(st),
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	httpServer := &http.Server{
		Handler:           server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	// Shutdown waits for active requests; a `codeqr listen` stream never ends
	// by itself, so it is told to end when shutdown starts.
	httpServer.RegisterOnShutdown(func() { close(draining) })

	if err := deliverer.Start(ctx); err != nil {
		return err
	}
	if err := resolver.Start(ctx); err != nil {
		deliverer.Stop()
		return err
	}
	defer resolver.Stop()
	// Recovery and pruning stop before the deliverer (deferred calls run last
	// in, first out, and deliverer.Stop is explicit below); both are safe to
	// stop twice.
	if err := recoverer.Start(ctx); err != nil {
		deliverer.Stop()
		return err
	}
	defer recoverer.Stop()
	if err := pruner.Start(ctx); err != nil {
		deliverer.Stop()
		return err
	}
	defer pruner.Stop()
	if err := retention.Start(ctx); err != nil {
		deliverer.Stop()
		return err
	}
	defer retention.Stop(context.Background())
	defer notifier.Wait()
	// Rollups of data written before they existed, before any new write.
	if n, err := rollups.Backfill(ctx, background); err != nil {
		deliverer.Stop()
		return err
	} else if n > 0 {
		logger.Info("codeqr: analytics rollups filled from raw rows", "projects", n)
	}
	pipeline.Start()
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()
	logger.Info("codeqr: serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "database", st.Dialect().Name(), "version", Version)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			if err := pipeline.Stop(context.Background()); err != nil {
				logger.Error("codeqr: write buffered interactions", "err", err)
			}
			deliverer.Stop()
			return fmt.Errorf("http: %w", err)
		}
	}
	logger.Info("codeqr: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Stop taking requests first, so every event they wrote is committed, then
	// let in-flight deliveries finish or hand them back.
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		logger.Warn("codeqr: http shutdown", "err", err)
	}
	// Then write every buffered interaction (and its events), before the
	// deliverer stops — with a fresh deadline, whatever the HTTP drain used.
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelDrain()
	if err := pipeline.Stop(drainCtx); err != nil {
		logger.Error("codeqr: write buffered interactions", "err", err)
	}
	recoverer.Stop()
	pruner.Stop()
	_ = retention.Stop(context.Background()) // never fails
	deliverer.Stop()
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
