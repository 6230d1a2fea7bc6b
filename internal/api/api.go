// Package api is the HTTP face of codeqr: the REST API under /api, the public
// QR renderer, health and metrics. Handlers are thin: decode, validate, one call
// into a domain package, one response; errors come back as values and are
// turned into the documented error body in one place (writeError).
package api

import (
	"context"
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
	// does its own authentication); nil means 404.
	Dashboard http.Handler
}

// Server routes requests to handlers.
type Server struct {
	Deps
	logger *slog.Logger
}

// New returns a Server.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{Deps: d, logger: d.Logger}
}

// handlerFunc is a handler that returns its failure instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handler returns every route, listed here in one place.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, scope string, h handlerFunc) { mux.Handle(pattern, s.authed(scope, h)) }
	public := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.plain(h)) }

	public("GET /healthz", s.healthz)
	public("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if s.Metrics == nil {
			http.NotFound(w, r)
			return
		}
		s.Metrics.ServeHTTP(w, r)
	})
	public("GET /api/qr", s.publicQR)
	public("GET /api/openapi.json", s.openAPI)

	route("POST /api/links", projects.ScopeLinksWrite, s.createLink)
	route("GET /api/links", projects.ScopeLinksRead, s.listLinks)
	route("GET /api/links/info", projects.ScopeLinksRead, s.linkInfo)
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
	route("DELETE /api/domains/{id}", projects.ScopeLinksWrite, s.deleteDomain)

	route("POST /api/partners", projects.ScopePartnersWrite, s.createPartner)
	route("GET /api/partners", projects.ScopePartnersRead, s.listPartners)
	route("GET /api/partners/{id}", projects.ScopePartnersRead, s.getPartner)
	route("POST /api/partners/{id}/approve", projects.ScopePartnersWrite, s.approvePartner)
	route("POST /api/partners/{id}/links", projects.ScopePartnersWrite, s.createPartnerLink)

	route("GET /api/projects/current", "", s.getProject)
	route("PATCH /api/projects/current", "", s.updateProject)

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
		mux.Handle("POST /p/{slug}", s.PageForms)
	}
	if s.PageViews != nil {
		mux.Handle("GET /p/{slug}", s.PageViews) // GET patterns also match HEAD
	}
	if s.Dashboard != nil {
		mux.Handle("/app/", s.Dashboard)
	}
	if s.Public != nil {
		mux.Handle("GET /{key}", s.Public)
		mux.Handle("POST /{key}", s.Public)
	}

	// Anything else under /api is a JSON 404, not the public 404 page.
	public("/api/", func(http.ResponseWriter, *http.Request) error {
		return notFound("no such API route")
	})
	return mux
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

// authed checks the bearer key and, when scope is not empty, that the key carries it.
func (s *Server) authed(scope string, h handlerFunc) http.Handler {
	return s.plain(func(w http.ResponseWriter, r *http.Request) error {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if auth == "" {
			return unauthorized("missing API key: send Authorization: Bearer codeqr_…")
		}
		if !ok || strings.TrimSpace(token) == "" {
			return unauthorized("malformed Authorization header: want Bearer codeqr_…")
		}
		key, err := s.Projects.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if ae := toAPIError(err); ae.Status == http.StatusNotFound {
				return unauthorized("invalid API key")
			}
			return err
		}
		if scope != "" && !key.Has(scope) {
			return forbidden("this API key lacks the %s scope", scope)
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
		return apiError(http.StatusServiceUnavailable, "internal_server_error", "database unreachable")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
