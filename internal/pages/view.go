package pages

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/store"
)

// Recorder takes interactions off the request path (interactions.Pipeline).
type Recorder interface {
	Record(interactions.Record)
}

// Viewer serves GET and HEAD /p/{slug}: it renders a published page and hands
// one page view (KindView) to the interactions pipeline, which counts it on
// pages.views and emits page.visited, with the same bot and dedupe rules as
// clicks. It never writes to the database itself.
type Viewer struct {
	svc      *Service
	rec      Recorder
	enr      interactions.Enricher
	notFound http.HandlerFunc
	log      *slog.Logger
	now      func() time.Time
}

// NewViewer returns a Viewer. notFound answers unknown and unpublished slugs
// (the server passes the public 404 page of short links, so a draft is
// indistinguishable from nothing); nil means http.NotFound.
func NewViewer(svc *Service, rec Recorder, enr interactions.Enricher, notFound http.HandlerFunc, log *slog.Logger) *Viewer {
	if notFound == nil {
		notFound = http.NotFound
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Viewer{svc: svc, rec: rec, enr: enr, notFound: notFound, log: log, now: time.Now}
}

// ServeHTTP answers GET and HEAD /p/{slug}. HEAD gets the headers without a
// body and is recorded as a bot, as for short links.
func (v *Viewer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !ValidSlug(slug) {
		v.notFound(w, r)
		return
	}
	p, err := v.svc.GetBySlug(r.Context(), slug)
	if errs.KindOf(err) == errs.KindNotFound || (err == nil && !p.Published) {
		v.notFound(w, r)
		return
	}
	if err != nil {
		v.log.ErrorContext(r.Context(), "pages: view", "slug", slug, "err", err)
		http.Error(w, "Temporarily unavailable. Please try again in a moment.", http.StatusServiceUnavailable)
		return
	}
	if err := WriteHTML(w, r, p); err != nil {
		v.log.ErrorContext(r.Context(), "pages: render", "page", p.ID, "err", err)
		http.Error(w, "This page cannot be shown.", http.StatusInternalServerError)
		return
	}
	in := v.enr.Enrich(r, v.now())
	if r.Method == http.MethodHead {
		in.Bot = true
	}
	in.URL = p.URL
	in.QR = false
	v.rec.Record(interactions.Record{Kind: interactions.KindView, ProjectID: p.ProjectID, ResourceID: p.ID, Interaction: in})
}

// ViewLoader loads the page object of page.visited events for the
// interactions pipeline (Options.Pages), with views as of each event.
func ViewLoader(s *Service) interactions.Loader {
	return func(ctx context.Context, q store.Querier, projectID, id string) (interactions.Snapshot, error) {
		p, err := s.GetIn(ctx, q, projectID, id)
		if err != nil {
			return nil, err
		}
		return func(count int64, _ *time.Time) any {
			p := p
			p.Views = count
			return p
		}, nil
	}
}

// GetIn is Get through q (a transaction of the caller).
func (s *Service) GetIn(ctx context.Context, q store.Querier, projectID, id string) (Page, error) {
	p, err := s.scanOne(q.QueryRowContext(ctx, "SELECT "+columns+" FROM pages WHERE id = $1 AND project_id = $2", id, projectID))
	if errors.Is(err, store.ErrNotFound) {
		return Page{}, errs.NotFound("page %s not found", truncate(id))
	}
	return p, err
}
