package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// listDeliveries answers the delivery log as a JSON array, like every list.
// Cursor paging: when there is a next page, the X-Next-Cursor header carries
// its cursor and Link (rel="next") the whole URL; pass it back as ?cursor=
// (with ?limit=, at most 100). page/pageSize keep working without a cursor.
// since and until (RFC 3339) bound the attempt time.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if l := q.Get("limit"); l != "" && q.Get("pageSize") == "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return errs.BadInput("limit must be 1 to 100")
		}
		q.Set("pageSize", l)
		r.URL.RawQuery = q.Encode()
	}
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	since, until, err := webhooks.ParseTimeRange(q.Get("since"), q.Get("until"))
	if err != nil {
		return err
	}
	res, err := s.Webhooks.AttemptLog(r.Context(), projectOf(r), r.PathValue("id"), webhooks.AttemptFilter{
		Status: q.Get("status"), Event: events.Type(q.Get("event")), EventID: q.Get("eventId"),
		Since: since, Until: until, Cursor: q.Get("cursor"),
		Page: page, PageSize: pageSize,
	})
	if err != nil {
		return err
	}
	if res.NextCursor != nil {
		next := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "page" && k != "cursor" {
				next[k] = v
			}
		}
		next.Set("cursor", *res.NextCursor)
		w.Header().Set("X-Next-Cursor", *res.NextCursor)
		w.Header().Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, res.Data)
	return nil
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Webhooks.AttemptByID(r.Context(), projectOf(r), r.PathValue("id"), r.PathValue("attemptId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) recoverWebhook(w http.ResponseWriter, r *http.Request) error {
	var req webhooks.RecoverRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	job, err := s.Webhooks.Recover(r.Context(), projectOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, job)
	return nil
}

func (s *Server) getRecoveryJob(w http.ResponseWriter, r *http.Request) error {
	job, err := s.Webhooks.RecoveryJob(r.Context(), projectOf(r), r.PathValue("id"), r.PathValue("jobId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}
