package api

import (
	"net/http"
	"strconv"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/webhooks"
)

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req webhooks.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	wh, err := s.Webhooks.Create(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, wh)
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	list, err := s.Webhooks.List(r.Context(), projectOf(r), page, pageSize)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.Webhooks.Get(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var req webhooks.UpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	wh, err := s.Webhooks.Update(r.Context(), projectOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.Webhooks.Delete(r.Context(), projectOf(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}

// testWebhookRequest is the body of POST /api/webhooks/{id}/test; an empty
// body means link.created.
type testWebhookRequest struct {
	Event events.Type `json:"event"`
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) error {
	var req testWebhookRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	id, err := s.Webhooks.Test(r.Context(), projectOf(r), r.PathValue("id"), req.Event)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"eventId": id})
	return nil
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.Webhooks.RotateSecret(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *Server) webhookSecret(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.Webhooks.Secret(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *Server) enableWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.Webhooks.Enable(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *Server) disableWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.Webhooks.Disable(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	id, err := s.Webhooks.RetryAttempt(r.Context(), projectOf(r), r.PathValue("id"), r.PathValue("attemptId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"deliveryId": strconv.FormatInt(id, 10)})
	return nil
}
