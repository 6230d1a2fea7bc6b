// Package app builds a whole codeqr application — every domain service, the
// background workers and the HTTP handler — from one set of Options. It is
// the only wiring: `codeqr serve` and internal/testserver call New, and test
// environments run it through testserver.Run, so what the tests run is what
// the server runs.
//
// Life cycle: New constructs everything and starts nothing (no goroutine, no
// query). Start starts the workers in order; Stop stops them in the reverse
// order under the one deadline of its context. The caller owns the HTTP
// server and must stop it taking requests before Stop (http.Server.Shutdown),
// so that every event those requests wrote is committed before the workers
// that deliver them stop; it should call BeginDrain when shutdown begins
// (http.Server.RegisterOnShutdown) so that long-lived streams end.
//
// Plugging in: the dashboard (or any other browser face) is
// Options.Dashboard, a function that receives the finished *App — with its
// exported services — and returns the handler mounted at /app/. Nothing in
// this package has to change for it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/cache"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/domains"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/public"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/samples"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/tracking"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// Options are the inputs of an application. Config and Store are required.
type Options struct {
	// Config is used as given: call WithDefaults (and Validate) first.
	Config config.Config
	// Store serves requests.
	Store *store.Store
	// Background is the store of background work (deliveries, interaction
	// batches, cache invalidation polling): on PostgreSQL a small pool of its
	// own, so that a burst of requests holding every connection of Store
	// cannot starve it. nil means Store (as on SQLite, which must keep its one
	// writer).
	Background *store.Store
	// Logger nil discards.
	Logger *slog.Logger
	// Registry receives the metrics and is served at /metrics. nil means a
	// fresh registry (with codeqr's metrics only).
	Registry *prometheus.Registry
	// Clock is the time of the public handlers and caches (link expiry,
	// interaction timestamps, cache TTLs) and of analytics' relative ranges.
	// nil means time.Now.
	Clock func() time.Time
	// CachePollInterval is how often other nodes' changes are read
	// (cache.Options.PollInterval). Zero means the default, 50ms.
	CachePollInterval time.Duration
	// Dashboard, when set, is called once at the end of New with the
	// finished App and returns the handler of every path under /app/.
	Dashboard func(*App) http.Handler
}

// App is a constructed application. Its exported fields are the domain
// services, for the dashboard and for tests; they are set by New and must
// not be replaced.
type App struct {
	Config config.Config
	Store  *store.Store
	Logger *slog.Logger

	Projects    *projects.Service
	Tags        *tags.Service
	Links       *links.Service
	QRCodes     *qrcodes.Service
	Pages       *pages.Service
	Domains     *domains.Service
	Webhooks    *webhooks.Service
	Conversions *conversions.Service
	Partners    *partners.Service
	Analytics   *analytics.Service

	// Interactions is the click/scan/view pipeline (Flush and Pending are
	// handy in tests).
	Interactions *interactions.Pipeline
	// Cache is the cache-invalidation component: Invalidate drops a short
	// key or page from this node's caches (tests that write rows directly
	// call it).
	Cache *cache.Bus
	// Public holds the handlers of all public traffic.
	Public *public.Server
	// Deliverer is the webhook delivery engine.
	Deliverer *delivery.Deliverer

	enricher *tracking.Enricher
	handler  http.Handler
	workers  []namedWorker

	draining  chan struct{}
	drainOnce sync.Once

	mu      sync.Mutex
	started []namedWorker // in start order
	stopped bool
}

// New builds every service, worker and handler. It starts nothing.
func New(o Options) (*App, error) {
	if o.Store == nil {
		return nil, errors.New("app: no store")
	}
	cfg, st := o.Config, o.Store
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bg := o.Background
	if bg == nil {
		bg = st
	}
	registry := o.Registry
	if registry == nil {
		registry = prometheus.NewRegistry()
	}

	enricher, err := tracking.New(tracking.Options{TrustedProxies: cfg.TrustedProxies, GeoIPDB: cfg.GeoIPDB})
	if err != nil {
		return nil, fmt.Errorf("geoip-db: %w", err)
	}
	a := &App{Config: cfg, Store: st, Logger: logger, enricher: enricher, draining: make(chan struct{})}

	// Webhook delivery.
	notifier := delivery.NewNotifier(st, cfg, logger) // nil without --smtp-addr
	deliverer := delivery.NewDeliverer(bg, cfg, delivery.Options{Logger: logger, Registerer: registry, OnDisable: notifier.Disabled})
	if err := delivery.RegisterQueueMetrics(registry, bg, logger); err != nil {
		enricher.Close()
		return nil, fmt.Errorf("metrics: %w", err)
	}
	recoverer := delivery.NewRecoverer(bg, deliverer.Notify, logger)
	pruner := delivery.NewPruner(bg, cfg.DeliveryLogRetention, logger)
	retention := interactions.NewRetention(bg, cfg.InteractionsRetention, logger)
	eventWriter := events.NewWriter(deliverer.Notify, nil)
	a.Deliverer = deliverer

	// The caches of public traffic, and the one component that keeps them
	// correct: the services below tell it of their own changes, its poller
	// of other nodes'.
	resolver := public.NewResolver(bg, public.ResolverOptions{Clock: o.Clock})
	pageCache := public.NewPageCache(o.Clock)
	a.Cache = cache.New(bg, cache.Options{PollInterval: o.CachePollInterval, Logger: logger}, resolver, pageCache)

	// Domain services.
	a.Projects = projects.NewService(st, nil)
	a.Tags = tags.NewService(st, nil)
	a.Links = links.NewService(st, eventWriter, a.Tags, cfg, a.Cache)
	a.QRCodes = qrcodes.NewService(st, eventWriter, a.Tags, cfg, a.Cache, logger)
	a.Pages = pages.NewService(st, eventWriter, a.Tags, cfg, a.Cache)
	a.Domains = domains.NewService(st, nil)
	a.Webhooks = webhooks.NewService(st, eventWriter, cfg, webhooks.Options{
		Notify: deliverer.Notify, RecoveryNotify: recoverer.Notify, Samples: samples.All(), Clock: o.Clock})
	a.Interactions = interactions.New(bg, eventWriter, interactions.Options{
		FlushInterval: cfg.FlushInterval, DedupeWindow: cfg.DedupeWindow, Logger: logger,
		Links: linkLoader(a.Links), QRCodes: qrCodeLoader(a.QRCodes), Pages: pageLoader(a.Pages),
	})
	a.Conversions = conversions.NewService(st, eventWriter, conversions.Options{
		Links: a.Links, QRCodes: a.QRCodes, Pages: a.Pages, Flusher: a.Interactions, Logger: logger})
	a.Partners = partners.NewService(st, eventWriter, a.Links, cfg)
	a.Analytics = analytics.NewService(st)
	if o.Clock != nil {
		a.Analytics.WithClock(o.Clock)
	}
	a.Public = public.New(public.Options{Config: cfg, Store: st, Resolver: resolver, PageCache: pageCache,
		Pages: a.Pages, Leads: a.Conversions, Recorder: a.Interactions, Enricher: enricher, Logger: logger, Clock: o.Clock})

	// Started in this order, stopped in the reverse one: the interactions
	// pipeline first (its batches write events), then recovery and pruning,
	// then the deliverer (which hands back what it holds), the e-mails in
	// flight, and last the cache poller.
	a.workers = []namedWorker{
		{"cache invalidation poller", a.Cache},
		{"e-mail notifier", notifier},
		{"webhook deliverer", deliverer},
		{"delivery log pruner", pruner},
		{"recovery worker", recoverer},
		{"interactions retention", retention},
		// Rollups of rows written before they existed, before any new write.
		{"analytics rollup backfill", rollups.NewBackfiller(bg, logger)},
		{"interactions pipeline", a.Interactions},
	}

	deps := api.Deps{
		Draining:    a.draining,
		Logger:      logger,
		Config:      cfg,
		Store:       st,
		Projects:    a.Projects,
		Tags:        a.Tags,
		Links:       a.Links,
		QRCodes:     a.QRCodes,
		Pages:       a.Pages,
		Domains:     a.Domains,
		Webhooks:    a.Webhooks,
		Metrics:     promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		Public:      a.Public.ShortLinks(),
		PageViews:   a.Public.Pages(),
		PageForms:   a.Public.PageForms(),
		Conversions: a.Conversions,
		Listen:      deliverer.ListenHub(),
		Partners:    a.Partners,
		Analytics:   a.Analytics,
	}
	if o.Dashboard != nil {
		deps.Dashboard = o.Dashboard(a)
	}
	a.handler = api.New(deps).Handler()
	return a, nil
}

// Handler is every route of the application (internal/api's route table).
func (a *App) Handler() http.Handler { return a.handler }

// BeginDrain tells long-lived streams (`codeqr listen`) to end, so that they
// do not hold up the HTTP server's shutdown. Give it to
// http.Server.RegisterOnShutdown. Safe to call more than once; Stop calls it
// too.
func (a *App) BeginDrain() { a.drainOnce.Do(func() { close(a.draining) }) }

// Start starts the workers in order. ctx is the life of the process: the
// workers' loops end when it does (Stop is still needed to drain them). If
// one fails to start, those already started are stopped again and the error
// is returned. Start after Stop, or a second Start, is refused.
func (a *App) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped || len(a.started) > 0 {
		return errors.New("app: start: already started or stopped")
	}
	for _, w := range a.workers {
		if err := w.Start(ctx); err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = a.stopLocked(stopCtx)
			return fmt.Errorf("app: start %s: %w", w.name, err)
		}
		a.started = append(a.started, w)
	}
	return nil
}

// Stop stops the started workers in the reverse order of Start, all under
// the one deadline of ctx: what is still running when it expires is told to
// give up (in-flight work is handed back, not lost). It then releases the
// geo database. Every worker is asked to stop even if an earlier one failed;
// the failures are logged and returned together. Safe to call more than
// once and without Start.
func (a *App) Stop(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopLocked(ctx)
}

func (a *App) stopLocked(ctx context.Context) error {
	a.BeginDrain()
	if a.stopped {
		return nil
	}
	a.stopped = true
	var errList []error
	for i := len(a.started) - 1; i >= 0; i-- {
		w := a.started[i]
		if err := w.Stop(ctx); err != nil {
			a.Logger.Error("app: stop "+w.name, "err", err)
			errList = append(errList, fmt.Errorf("stop %s: %w", w.name, err))
		}
	}
	a.started = nil
	if err := a.enricher.Close(); err != nil {
		errList = append(errList, fmt.Errorf("close geoip-db: %w", err))
	}
	return errors.Join(errList...)
}
