package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/codeqr/codeqr/internal/delivery"
)

// listenHeartbeat is how often an idle listen stream gets an SSE comment, so
// that proxies keep it open and a vanished client is noticed.
const listenHeartbeat = 15 * time.Second

// listenWebhook serves GET /api/webhooks/{id}/listen: the Server-Sent Events
// stream of a `codeqr listen` session (docs/listen.md). Each delivery of the
// webhook is one "delivery" event whose data is a delivery.ListenMessage —
// the headers and body the webhook POST would have carried. Writing and
// flushing it counts as the delivery's success. The stream starts with a
// "ready" event once it is registered, so a client knows deliveries can flow.
func (s *Server) listenWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	wh, err := s.Webhooks.Get(r.Context(), projectOf(r), id)
	if err != nil {
		return err
	}
	if !delivery.IsListenURL(wh.URL) {
		return unprocessable("webhook %s is not a listen webhook: create one with \"listen\": true", id)
	}
	if s.Listen == nil {
		return apiError(http.StatusServiceUnavailable, "internal_server_error", "listen streams are not served by this server")
	}
	rc := http.NewResponseController(w)
	// A stream outlives the server's read and write timeouts by design; the
	// heartbeat bounds how long a dead connection goes unnoticed.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})

	sub := s.Listen.Subscribe(id)
	defer sub.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := writeSSE(w, rc, "ready", "", map[string]string{"webhookId": id}); err != nil {
		return nil // the client is gone; nothing more to say
	}
	beat := time.NewTicker(listenHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.Draining: // the server is shutting down; the CLI reconnects
			return nil
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		case d := <-sub.Deliveries():
			err := writeSSE(w, rc, "delivery", d.Message.EventID, d.Message)
			d.Done(err)
			if err != nil {
				return nil
			}
		}
	}
}

// writeSSE writes one event (JSON data on one line) and flushes it.
func writeSSE(w http.ResponseWriter, rc *http.ResponseController, event, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id != "" {
		if _, err := fmt.Fprintf(w, "id: %s\n", id); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
		return err
	}
	return rc.Flush()
}
