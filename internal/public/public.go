// Package public is all public, unauthenticated traffic of a codeqr server:
//
//   - short keys: GET/HEAD/POST /{key} on any domain the server knows — link
//     redirects (with their password form) and dynamic QR code scans, which
//     redirect or show the code's display page (shortlink.go, display.go);
//   - hosted pages: GET/HEAD /p/{slug} (pageview.go) and their form
//     submissions, POST /p/{slug} (pageform.go).
//
// Nothing here writes to the database on the request path except a form's
// lead: interactions go to a Recorder (the interactions pipeline), and what a
// key or slug resolves to is read from memory — the Resolver and the
// PageCache, both kept correct by the process's cache.Bus, of which they are
// subscribers. Unknown, archived, unpublished and foreign things all get the
// same 404 page, which says nothing about any project.
//
// The routes themselves are listed in the API's one route table
// (internal/api); this package provides their handlers.
package public

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/store"
)

// Recorder takes interactions off the request path (interactions.Pipeline).
type Recorder interface {
	Record(interactions.Record)
}

// Options are what the public handlers need; all are required except Logger
// and Clock.
type Options struct {
	Config config.Config
	// Store is where a form's lead is written (in one transaction with its
	// counters and event).
	Store *store.Store
	// Resolver and PageCache are the caches of short keys and hosted pages;
	// both must be subscribers of the process's cache.Bus.
	Resolver  *Resolver
	PageCache *PageCache
	Pages     *pages.Service
	// Leads writes form leads (the same code as POST /api/track/lead).
	Leads    *conversions.Service
	Recorder Recorder
	Enricher interactions.Enricher
	Logger   *slog.Logger
	// Clock is the time of expiry checks and interactions; nil means time.Now.
	Clock func() time.Time
}

// Server holds the public handlers.
type Server struct {
	cfg   config.Config
	st    *store.Store
	res   *Resolver
	pc    *PageCache
	pages *pages.Service
	conv  *conversions.Service
	rec   Recorder
	enr   interactions.Enricher
	log   *slog.Logger
	now   func() time.Time

	shortLinks *shortLinks
	pageViews  *pageViewer
	pageForms  *pageForm
}

// New returns a Server.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	s := &Server{cfg: o.Config, st: o.Store, res: o.Resolver, pc: o.PageCache, pages: o.Pages, conv: o.Leads,
		rec: o.Recorder, enr: o.Enricher, log: o.Logger, now: o.Clock}
	s.shortLinks = newShortLinks(s)
	s.pageViews = &pageViewer{Server: s}
	s.pageForms = newPageForm(s)
	return s
}

// ShortLinks serves GET, HEAD and POST /{key}.
func (s *Server) ShortLinks() http.Handler { return s.shortLinks }

// Pages serves GET and HEAD /p/{slug}.
func (s *Server) Pages() http.Handler { return s.pageViews }

// PageForms serves POST /p/{slug}.
func (s *Server) PageForms() http.Handler { return s.pageForms }
