package webhooks

import (
	"github.com/codeqr/codeqr/internal/patch"
	"time"

	"github.com/codeqr/codeqr/internal/events"
)

// Webhook is a subscription as the API shows it (docs/webhooks.md). It has no
// secret field on purpose: the secret is handed out only through WithSecret, so
// no list, get or log response can ever carry it by accident.
type Webhook struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	URL         string        `json:"url"`
	Triggers    []events.Type `json:"triggers"`
	LinkIDs     []string      `json:"linkIds"`
	QRCodeIDs   []string      `json:"qrcodeIds"`
	PageIDs     []string      `json:"pageIds"`
	IncludeBots bool          `json:"includeBots"`
	// RateLimit is deliveries per second per node; null is unlimited.
	RateLimit  *float64   `json:"rateLimit"`
	DisabledAt *time.Time `json:"disabledAt"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
}

// WithSecret is a Webhook plus its current signing secret: the answer of
// create, rotate-secret and GET /api/webhooks/{id}/secret only.
type WithSecret struct {
	Webhook
	Secret string `json:"secret"`
}

// Limits of a subscription.
const (
	MaxNameLen            = 190
	MaxURLLen             = 2048
	MaxWebhooksPerProject = 100
	MaxResourcesPerKind   = 1000
	// MaxRateLimit bounds rateLimit (deliveries per second).
	MaxRateLimit = 10000
)

// CreateRequest is the body of POST /api/webhooks.
type CreateRequest struct {
	Name        string        `json:"name"`
	URL         string        `json:"url"`
	Triggers    []events.Type `json:"triggers"`
	LinkIDs     []string      `json:"linkIds"`
	QRCodeIDs   []string      `json:"qrcodeIds"`
	PageIDs     []string      `json:"pageIds"`
	IncludeBots bool          `json:"includeBots"`
	RateLimit   *float64      `json:"rateLimit"`
	// Listen makes a webhook for a `codeqr listen` session: url must be
	// empty, the webhook gets delivery.ListenURL and its deliveries go to
	// GET /api/webhooks/{id}/listen.
	Listen bool `json:"listen"`
}

// UpdateRequest is the body of PATCH /api/webhooks/{id}. Each field records
// whether it was sent at all, so that an absent field keeps its value while a
// present one (even null) is applied. Lists replace the whole set; a null list
// clears it.
type UpdateRequest struct {
	Name        Optional[string]        `json:"name"`
	URL         Optional[string]        `json:"url"`
	Triggers    Optional[[]events.Type] `json:"triggers"`
	LinkIDs     Optional[[]string]      `json:"linkIds"`
	QRCodeIDs   Optional[[]string]      `json:"qrcodeIds"`
	PageIDs     Optional[[]string]      `json:"pageIds"`
	IncludeBots Optional[bool]          `json:"includeBots"`
	RateLimit   Optional[float64]       `json:"rateLimit"`
}

// Optional is a PATCH field: absent leaves it alone, null clears it, a value
// sets it (see internal/patch).
type Optional[T any] = patch.Field[T]

// Some returns a present, non-null Optional.
func Some[T any](v T) Optional[T] { return patch.Some(v) }

// Attempt is one delivery attempt in a webhook's log (docs/webhooks.md).
type Attempt struct {
	ID             string      `json:"id"`
	EventID        string      `json:"eventId"`
	Event          events.Type `json:"event"`
	Attempt        int         `json:"attempt"`
	Status         string      `json:"status"`
	ResponseStatus *int        `json:"responseStatus"`
	DurationMs     int64       `json:"durationMs"`
	Error          *string     `json:"error"`
	NextRetryAt    *time.Time  `json:"nextRetryAt"`
	CreatedAt      time.Time   `json:"createdAt"`
	Test           bool        `json:"test"`
}

// AttemptFilter narrows the delivery log; zero values mean "any".
type AttemptFilter struct {
	// Status is success, failed or pending.
	Status  string
	Event   events.Type
	EventID string
	// Since and Until bound the attempt's time: Since ≤ createdAt < Until.
	Since *time.Time
	Until *time.Time
	// Cursor is the id of the last attempt of the previous page (the
	// nextCursor it answered); the page then starts right after it, whatever
	// Page says. Empty: Page is used.
	Cursor string
	// Page is 1-based; PageSize (the limit) at most 100.
	Page     int
	PageSize int
}

// AttemptStatuses returns the statuses the log knows.
func AttemptStatuses() []string { return []string{"success", "failed", "pending"} }
