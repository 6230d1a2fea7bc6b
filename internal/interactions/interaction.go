package interactions

import (
	"net/http"
	"time"

	"github.com/codeqr/codeqr/internal/tracking"
)

// Interaction is the interaction object of events (docs/webhooks.md).
type Interaction = tracking.Interaction

// Enricher turns a public request into an Interaction (client IP, geo, device,
// bot, referer, clickId); *tracking.Enricher is the one the server uses. URL
// and QR are left to the caller.
type Enricher interface {
	Enrich(r *http.Request, now time.Time) Interaction
}
