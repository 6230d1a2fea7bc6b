// Package api is the HTTP face of codeqr: the REST API under /api, the public
// QR renderer, health and metrics. Handlers are thin: decode, validate, one call
// into a domain package, one response; errors come back as values and are
// turned into the documented error body in one place (writeError).
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/domains"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/ratelimit"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// Deps are the services the API calls.
type Deps struct {
	Logger   *slog.Logger
	Config   config.Config
	Store    *store.Store
	Projects *projects.Service
	Tags     *tags.Service
	Links    *links.Service
	QRCodes  *qrcodes.Service
	Pages    *pages.Service
	Domains  *domains.Service
	Webhooks *webhooks.Service
	// Conversions tracks leads and sales and reads customers; nil leaves
	// those routes answering 404.
	Conversions *conversions.Service
	// Analytics answers /api/analytics and /api/events; nil means 404.
	Analytics *analytics.Service
	// Draining is closed when the server begins shutting down: long-lived
	// streams (listen) end then, so that they do not hold up the drain.
	Draining <-chan struct{}
	// Listen connects `codeqr listen` streams to the deliverer
	// (Deliverer.ListenHub); nil means the listen endpoint answers 503.
	Listen   *delivery.ListenHub
	Partners *partners.Service
	// PageForms takes public page form submissions (POST /p/{slug}); nil means 404.
	PageForms http.Handler
	// Public serves the short links (GET/HEAD/POST /{key}); nil means 404.
	Public http.Handler
	// PageViews serves the hosted pages (GET/HEAD /p/{slug}); nil means 404.
	PageViews http.Handler
	// Metrics serves /metrics (Prometheus text); nil means 404.
	Metrics http.Handler
	// Dashboard serves every path under /app/ (the browser dashboard, which
	// does its own authentication), on Config.DashboardHost only when set;
	// GET / there leads to it. nil means 404.
	Dashboard http.Handler
}

// Server routes requests to handlers.
type Server struct {
	Deps
	logger *slog.Logger
	// keyLimit is per API key on /api; qrLimit per client address on the
	// public renderer. nil: no limit.
	keyLimit *ratelimit.Limiter
	qrLimit  *ratelimit.Limiter
}

// New returns a Server.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		Deps: d, logger: d.Logger,
		keyLimit: ratelimit.New(d.Config.APIRateLimit, time.Minute, 0),
		qrLimit:  ratelimit.New(d.Config.QRRateLimit, time.Minute, 0),
	}
}

// handlerFunc is a handler that returns its failure instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one entry of the route table: its pattern and the scope a key
// needs, or Public for the routes that take no key (listed in docs/api-keys.md).
type Route struct {
	Pattern string
	Scope   string
	Public  bool
}

// Handler returns every route, listed here in one place.
func (s *Server) Handler() http.Handler {
	mux, _ := s.routes()
	if s.Config.AccessLog {
		return accessLog(s.logger, mux)
	}
	return mux
}

// Routes is the route table Handler serves, for tests that check every route
// is scoped.
func (s *Server) Routes() []Route {
	_, rs := s.routes()
	return rs
}

func (s *Server) routes() (*http.ServeMux, []Route) {
	mux := http.NewServeMux()
	var table []Route
	route := func(pattern, scope string, h handlerFunc) {
		table = append(table, Route{Pattern: pattern, Scope: scope})
		mux.Handle(pattern, s.authed(scope, h))
	}
	public := func(pattern string, h handlerFunc) {
		table = append(table, Route{Pattern: pattern, Public: true})
		mux.Handle(pattern, s.plain(h))
	}
	// publicHTTP is public for handlers that write their own answers (the
	// public pages, not the API's JSON errors).
	publicHTTP := func(pattern string, h http.Handler) {
		table = append(table, Route{Pattern: pattern, Public: true})
		mux.Handle(pattern, h)
	}

	public("GET /healthz", s.healthz)
	public("GET /readyz", s.readyz)
	publicHTTP("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Metrics == nil {
			http.NotFound(w, r)
			return
		}
		s.Metrics.ServeHTTP(w, r)
	}))
	public("GET /api/qr", s.publicQR)
	public("GET /api/openapi.json", s.openAPI)
	public("GET /api/docs", s.apiDocs)

	route("POST /api/links", projects.ScopeLinksWrite, s.createLink)
	route("GET /api/links", projects.ScopeLinksRead, s.listLinks)
	route("GET /api/links/info", projects.ScopeLinksRead, s.linkInfo)
	route("GET /api/links/count", projects.ScopeLinksRead, s.countLinks)
	route("PUT /api/links/upsert", projects.ScopeLinksWrite, s.upsertLink)
	route("POST /api/links/bulk", projects.ScopeLinksWrite, s.bulkCreateLinks)
	route("PATCH /api/links/bulk", projects.ScopeLinksWrite, s.bulkUpdateLinks)
	route("DELETE /api/links/bulk", projects.ScopeLinksWrite, s.bulkDeleteLinks)
	route("GET /api/links/{id}", projects.ScopeLinksRead, s.getLink)
	route("PATCH /api/links/{id}", projects.ScopeLinksWrite, s.updateLink)
	route("DELETE /api/links/{id}", projects.ScopeLinksWrite, s.deleteLink)

	route("POST /api/qrcodes", projects.ScopeQRCodesWrite, s.createQRCode)
	route("GET /api/qrcodes", projects.ScopeQRCodesRead, s.listQRCodes)
	route("GET /api/qrcodes/info", projects.ScopeQRCodesRead, s.qrcodeInfo)
	route("PUT /api/qrcodes/upsert", projects.ScopeQRCodesWrite, s.upsertQRCode)
	route("POST /api/qrcodes/bulk", projects.ScopeQRCodesWrite, s.bulkCreateQRCodes)
	route("PATCH /api/qrcodes/bulk", projects.ScopeQRCodesWrite, s.bulkUpdateQRCodes)
	route("DELETE /api/qrcodes/bulk", projects.ScopeQRCodesWrite, s.bulkDeleteQRCodes)
	route("GET /api/qrcodes/{id}", projects.ScopeQRCodesRead, s.getQRCode)
	route("PATCH /api/qrcodes/{id}", projects.ScopeQRCodesWrite, s.updateQRCode)
	route("DELETE /api/qrcodes/{id}", projects.ScopeQRCodesWrite, s.deleteQRCode)
	route("GET /api/qrcodes/{id}/image", projects.ScopeQRCodesRead, s.qrcodeImage)

	route("POST /api/pages", projects.ScopePagesWrite, s.createPage)
	route("GET /api/pages", projects.ScopePagesRead, s.listPages)
	route("GET /api/pages/{id}", projects.ScopePagesRead, s.getPage)
	route("PATCH /api/pages/{id}", projects.ScopePagesWrite, s.updatePage)
	route("DELETE /api/pages/{id}", projects.ScopePagesWrite, s.deletePage)

	route("POST /api/tags", projects.ScopeLinksWrite, s.createTag)
	route("GET /api/tags", projects.ScopeLinksRead, s.listTags)
	route("PATCH /api/tags/{id}", projects.ScopeLinksWrite, s.updateTag)
	route("DELETE /api/tags/{id}", projects.ScopeLinksWrite, s.deleteTag)
	route("POST /api/domains", projects.ScopeLinksWrite, s.createDomain)
	route("GET /api/domains", projects.ScopeLinksRead, s.listDomains)
	route("PATCH /api/domains/{slug}", projects.ScopeLinksWrite, s.updateDomain)
	route("DELETE /api/domains/{slug}", projects.ScopeLinksWrite, s.deleteDomain)

	route("POST /api/partners", projects.ScopePartnersWrite, s.createPartner)
	route("GET /api/partners", projects.ScopePartnersRead, s.listPartners)
	route("GET /api/partners/{id}", projects.ScopePartnersRead, s.getPartner)
	route("POST /api/partners/{id}/approve", projects.ScopePartnersWrite, s.approvePartner)
	route("POST /api/partners/{id}/links", projects.ScopePartnersWrite, s.createPartnerLink)
	route("GET /api/partners/links", projects.ScopePartnersRead, s.partnerLinks)
	route("POST /api/partners/links", projects.ScopePartnersWrite, s.createPartnerLinkByBody)
	route("PUT /api/partners/links/upsert", projects.ScopePartnersWrite, s.upsertPartnerLink)
	route("GET /api/partners/analytics", projects.ScopePartnersRead, s.partnerAnalytics)

	route("GET /api/projects/current", projects.ScopeProjectsRead, s.getProject)
	route("PATCH /api/projects/current", projects.ScopeProjectsWrite, s.updateProject)

	route("GET /api/keys", projects.ScopeKeysRead, s.listKeys)
	route("POST /api/keys", projects.ScopeKeysWrite, s.createKey)
	route("DELETE /api/keys/{id}", projects.ScopeKeysWrite, s.revokeKey)

	// Tracking is a write of its own (conversions.write); customers are read
	// with the analytics scope, as they are conversion analytics.
	conv := func(h handlerFunc) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if s.Conversions == nil {
				return notFound("no such API route")
			}
			return h(w, r)
		}
	}
	route("POST /api/track/lead", projects.ScopeConversionsWrite, conv(s.trackLead))
	route("POST /api/track/sale", projects.ScopeConversionsWrite, conv(s.trackSale))
	route("GET /api/customers", projects.ScopeAnalyticsRead, conv(s.listCustomers))
	route("GET /api/customers/{id}", projects.ScopeAnalyticsRead, conv(s.getCustomer))
	route("GET /api/customers/{id}/activity", projects.ScopeAnalyticsRead, conv(s.customerActivity))
	route("PATCH /api/customers/{id}", projects.ScopeConversionsWrite, conv(s.updateCustomer))

	route("POST /api/webhooks", projects.ScopeWebhooksWrite, s.createWebhook)
	route("GET /api/webhooks", projects.ScopeWebhooksRead, s.listWebhooks)
	route("GET /api/webhooks/{id}", projects.ScopeWebhooksRead, s.getWebhook)
	route("PATCH /api/webhooks/{id}", projects.ScopeWebhooksWrite, s.updateWebhook)
	route("DELETE /api/webhooks/{id}", projects.ScopeWebhooksWrite, s.deleteWebhook)
	route("POST /api/webhooks/{id}/test", projects.ScopeWebhooksWrite, s.testWebhook)
	route("POST /api/webhooks/{id}/rotate-secret", projects.ScopeWebhooksWrite, s.rotateWebhookSecret)
	route("GET /api/webhooks/{id}/secret", projects.ScopeWebhooksWrite, s.webhookSecret)
	route("POST /api/webhooks/{id}/enable", projects.ScopeWebhooksWrite, s.enableWebhook)
	route("POST /api/webhooks/{id}/disable", projects.ScopeWebhooksWrite, s.disableWebhook)
	route("GET /api/webhooks/{id}/deliveries", projects.ScopeWebhooksRead, s.listDeliveries)
	route("GET /api/webhooks/{id}/listen", projects.ScopeWebhooksRead, s.listenWebhook)
	route("POST /api/webhooks/{id}/deliveries/{attemptId}/retry", projects.ScopeWebhooksWrite, s.retryDelivery)
	route("GET /api/webhooks/{id}/deliveries/{attemptId}", projects.ScopeWebhooksRead, s.getDelivery)
	route("POST /api/webhooks/{id}/recover", projects.ScopeWebhooksWrite, s.recoverWebhook)
	route("GET /api/webhooks/{id}/recover/{jobId}", projects.ScopeWebhooksRead, s.getRecoveryJob)

	route("GET /api/analytics", projects.ScopeAnalyticsRead, s.analyticsQuery)
	route("GET /api/events", projects.ScopeAnalyticsRead, s.listEvents)

	if s.PageForms != nil {
		publicHTTP("POST /p/{slug}", s.PageForms)
	}
	if s.PageViews != nil {
		publicHTTP("GET /p/{slug}", s.PageViews) // GET patterns also match HEAD
	}
	if s.Dashboard != nil {
		// Both are public routes: the dashboard authenticates by itself.
		host := strings.ToLower(s.Config.DashboardHost)
		publicHTTP(host+"/app/", s.Dashboard)
		publicHTTP("GET "+host+"/{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/app/", http.StatusFound)
		}))
	}
	if s.Public != nil {
		publicHTTP("GET /{key}", s.Public)
		publicHTTP("POST /{key}", s.Public)
	}

	for _, n := range NotOffered {
		route(n.Pattern, n.Scope, notOffered(n.Feature))
	}

	// Anything else under /api is a JSON 404, not the public 404 page.
	public("/api/", func(http.ResponseWriter, *http.Request) error {
		return notFound("no such API route")
	})
	return mux, table
}

func (s *Server) plain(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

type keyCtx struct{}

// keyOf returns the authenticated key of the request.
func keyOf(r *http.Request) projects.Key {
	k, _ := r.Context().Value(keyCtx{}).(projects.Key)
	return k
}

// projectOf returns the project id the request acts on.
func projectOf(r *http.Request) string { return keyOf(r).ProjectID }

// bearerToken returns the credentials of an Authorization header of the
// Bearer scheme. The scheme name is case-insensitive (RFC 9110 §11.1), so
// "bearer" and "BEARER" work as well.
func bearerToken(auth string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(auth), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authed checks the bearer key and that the key carries scope.
func (s *Server) authed(scope string, h handlerFunc) http.Handler {
	return s.plain(func(w http.ResponseWriter, r *http.Request) error {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			return unauthorized("missing API key: send Authorization: Bearer codeqr_…")
		}
		token, ok := bearerToken(auth)
		if !ok {
			return unauthorized("malformed Authorization header: want Bearer codeqr_…")
		}
		key, err := s.Projects.Authenticate(r.Context(), token)
		if err != nil {
			switch {
			case errors.Is(err, projects.ErrKeyRevoked), errors.Is(err, projects.ErrKeyExpired):
				return unauthorized("%v", err)
			case toAPIError(err).Status == http.StatusNotFound:
				return unauthorized("invalid API key")
			}
			return err
		}
		if !key.Has(scope) {
			return forbidden("this API key lacks the %s scope", scope)
		}
		d := s.keyLimit.Allow(key.ID)
		d.SetHeaders(w.Header())
		if !d.Allowed {
			return rateLimited("this API key made more than %d requests in a minute; retry after %d s", d.Limit, d.RetryAfterSeconds())
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), keyCtx{}, key)))
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		return unavailable(dbRetryAfter, "database unreachable")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
