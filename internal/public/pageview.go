package public

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/pages"
)

// pageViewer serves GET and HEAD /p/{slug}: it renders a published page and
// hands one page view (KindView) to the Recorder, which counts it on
// pages.views and emits page.visited, with the same bot and dedupe rules as
// clicks. Unknown and unpublished slugs get the public 404 page of short
// links, so a draft is indistinguishable from nothing.
type pageViewer struct{ *Server }

// ServeHTTP answers GET and HEAD /p/{slug}. HEAD gets the headers without a
// body and is recorded as a bot, as for short links.
func (v *pageViewer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !pages.ValidSlug(slug) {
		notFound(w, r)
		return
	}
	p, found, err := v.pc.get(r.Context(), slug, v.pages.GetBySlug)
	if err == nil && (!found || !p.Published) {
		notFound(w, r)
		return
	}
	if err != nil {
		v.log.ErrorContext(r.Context(), "public: view page", "slug", slug, "err", err)
		http.Error(w, "Temporarily unavailable. Please try again in a moment.", http.StatusServiceUnavailable)
		return
	}
	if err := pages.WriteHTML(w, r, p); err != nil {
		v.log.ErrorContext(r.Context(), "public: render page", "page", p.ID, "err", err)
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
