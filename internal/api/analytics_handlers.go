package api

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/analytics"
)

// analyticsQuery answers GET /api/analytics: an object for groupBy=count, an
// array for every other groupBy (see package analytics for the shapes).
func (s *Server) analyticsQuery(w http.ResponseWriter, r *http.Request) error {
	if s.Analytics == nil {
		return notFound("analytics are not enabled on this server")
	}
	p, err := analytics.ParseParams(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := s.Analytics.Query(r.Context(), projectOf(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// listEvents answers GET /api/events: raw interactions, newest first, paged.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	if s.Analytics == nil {
		return notFound("analytics are not enabled on this server")
	}
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	p, err := analytics.ParseEventParams(r.URL.Query())
	if err != nil {
		return err
	}
	events, err := s.Analytics.Events(r.Context(), projectOf(r), p, page, pageSize)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, events)
	return nil
}
