package webhooks

import (
	"context"
	"net/http"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/store"
)

// ListenURL is the destination of a webhook made for a `codeqr listen`
// session: it has no HTTP target; its deliveries go to the session's stream
// (GET /api/webhooks/{id}/listen). It is set only by a create request with
// "listen": true, never accepted as a url otherwise (netguard refuses the
// scheme), so no ordinary webhook can turn into one.
const ListenURL = "listen://session"

// IsListenURL reports whether a webhook's url makes it a listen session.
func IsListenURL(u string) bool { return u == ListenURL }

// ListenHub returns the hub through which this deliverer reaches the listen
// streams of this node; the API serves the streams from it.
func (d *Deliverer) ListenHub() *ListenHub { return d.listen }

// attemptListen completes an attempt to a listen webhook: req was built and
// signed exactly as for a POST, and its headers and body are handed to the
// session's stream. Writing them to the stream is the success; the local
// status the CLI gets from the developer's server is not reported back.
func (d *Deliverer) attemptListen(r result, req *http.Request) result {
	m := ListenMessage{EventID: r.eventID, Type: r.eventType, Test: r.test, Body: string(r.body),
		Headers: make(map[string]string, len(req.Header))}
	for k, v := range req.Header {
		if len(v) > 0 {
			m.Headers[k] = v[0]
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.DeliveryTimeout)
	defer cancel()
	began := r.started
	err := d.listen.Deliver(ctx, r.webhookID, m)
	r.duration = d.opts.now().Sub(began)
	if err != nil {
		return d.failed(r, 0, "listen: "+err.Error(), nil)
	}
	r.outcome = outcomeSuccess
	r.respBody = "written to the codeqr listen stream"
	r.finished = d.opts.now()
	return r
}

// validateListen is validate for a listen webhook: everything but the URL,
// which is fixed, is checked as for any webhook.
func (s *Service) validateListen(ctx context.Context, q store.Querier, projectID string, sp *spec, existing *Webhook) error {
	if sp.URL != "" && sp.URL != ListenURL {
		return errs.Invalid("url must be empty when listen is true: a listen webhook delivers to its stream, not to a URL")
	}
	sp.URL = ListenURL
	if err := sp.validateShape(); err != nil {
		return err
	}
	return s.checkResources(ctx, q, projectID, sp, existing)
}
