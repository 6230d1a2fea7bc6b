// Package conversions closes the loop from an interaction to revenue: a
// customer's backend reports sign-ups (leads) and purchases (sales) against the
// click, scan or page view (clickId, the cq_id query parameter) that brought
// the visitor. It owns the customers, leads and sales tables.
//
// Every write commits in one transaction with its lead.created / sale.created
// event and the counter bumps on the referral resource (link, QR code or page)
// and on the customer, so counters, rows and events can never disagree.
//
// Idempotency rests on UNIQUE constraints, not on a read-then-write check: a
// lead is unique per (customer, eventName) and a sale per (project, invoiceId).
// The row is inserted first with ON CONFLICT DO NOTHING; when nothing was
// inserted the transaction is rolled back (undoing e.g. a customer it created)
// and the existing row is answered. PostgreSQL makes the second of two
// concurrent inserters wait for the first to commit, SQLite has one writer, so
// N identical concurrent requests write exactly one row and one event.
package conversions

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tracking"
)

// Flusher writes buffered interactions now; *interactions.Pipeline is one.
// Interactions reach the database up to a flush interval after the request
// (and a visitor can convert faster than that), so an unknown clickId makes
// the service flush once and look again before answering 404.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Options are the collaborators of a Service. Links, QRCodes and Pages load
// the referral resource for events; a nil one leaves that object null. Flusher
// may be nil (then an unflushed clickId is simply not found).
type Options struct {
	Links   *links.Service
	QRCodes *qrcodes.Service
	Pages   *pages.Service
	Flusher Flusher
	Logger  *slog.Logger
	// Now is the clock conversions are timed by; nil means time.Now (tests
	// set it to place conversions in time).
	Now func() time.Time
}

// Service tracks leads and sales and reads customers.
type Service struct {
	st  *store.Store
	ev  *events.Writer
	opt Options
	now func() time.Time
}

// NewService returns a Service.
func NewService(st *store.Store, ev *events.Writer, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, ev: ev, opt: o, now: now}
}

// Customer is the customer object of lead.created and sale.created events
// (docs/webhooks.md).
type Customer struct {
	ID         string    `json:"id"`
	ExternalID string    `json:"externalId"`
	Name       *string   `json:"name"`
	Email      *string   `json:"email"`
	Avatar     *string   `json:"avatar"`
	Country    *string   `json:"country"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Attribution is where a customer came from: their first interaction and the
// resource it belongs to (kind "link", "qrcode" or "page"; all null when the
// customer was created without one).
type Attribution struct {
	ClickID     *string               `json:"clickId"`
	Kind        *string               `json:"kind"`
	LinkID      *string               `json:"linkId"`
	QRCodeID    *string               `json:"qrcodeId"`
	PageID      *string               `json:"pageId"`
	Interaction *tracking.Interaction `json:"interaction"`
}

// CustomerDetail is a customer as GET /api/customers shows it: the Customer
// object plus attribution and totals over all their leads and sales.
//
// It also carries Dub's customer fields: link (the link that brought them,
// when one did), firstSaleAt; stripeCustomerId, subscriptionCanceledAt,
// programId, partner and discount are always null (codeqr has no payment
// integration, programs or discounts).
type CustomerDetail struct {
	Customer
	Attribution            Attribution `json:"attribution"`
	Leads                  int64       `json:"leads"`
	Sales                  int64       `json:"sales"`
	SaleAmount             int64       `json:"saleAmount"`
	UpdatedAt              time.Time   `json:"updatedAt"`
	Link                   *links.Link `json:"link"`
	FirstSaleAt            *time.Time  `json:"firstSaleAt"`
	StripeCustomerID       *string     `json:"stripeCustomerId"`
	SubscriptionCanceledAt *time.Time  `json:"subscriptionCanceledAt"`
	ProgramID              *string     `json:"programId"`
	Partner                *struct{}   `json:"partner"`
	Discount               *struct{}   `json:"discount"`
}

// Lead is the answer of POST /api/track/lead. click and link are Dub's
// fields (the click the lead is attributed to, and its link when it came
// from one); id is null for a deferred lead, which is not written yet.
type Lead struct {
	ID        *string         `json:"id"`
	Click     *ClickRef       `json:"click"`
	Link      *links.Link     `json:"link"`
	EventName string          `json:"eventName"`
	Quantity  int64           `json:"quantity"`
	Customer  Customer        `json:"customer"`
	ClickID   *string         `json:"clickId"`
	LinkID    *string         `json:"linkId"`
	QRCodeID  *string         `json:"qrcodeId"`
	PageID    *string         `json:"pageId"`
	Metadata  json.RawMessage `json:"metadata"`
	CreatedAt time.Time       `json:"createdAt"`
}

// Sale is the answer of POST /api/track/sale. LeadID is the customer's first
// lead (created with this sale when there was none and a clickId was sent).
type Sale struct {
	ID               string          `json:"id"`
	Sale             SaleDetails     `json:"sale"`
	EventName        string          `json:"eventName"`
	Customer         Customer        `json:"customer"`
	LeadID           *string         `json:"leadId"`
	Amount           int64           `json:"amount"`
	Currency         string          `json:"currency"`
	PaymentProcessor string          `json:"paymentProcessor"`
	InvoiceID        *string         `json:"invoiceId"`
	ClickID          *string         `json:"clickId"`
	LinkID           *string         `json:"linkId"`
	QRCodeID         *string         `json:"qrcodeId"`
	PageID           *string         `json:"pageId"`
	Metadata         json.RawMessage `json:"metadata"`
	CreatedAt        time.Time       `json:"createdAt"`
}

// LeadEventData is the data of lead.created (docs/webhooks.md); exported so that the
// webhook test samples are built from this very type.
type LeadEventData struct {
	EventName   string                `json:"eventName"`
	Customer    Customer              `json:"customer"`
	Interaction *tracking.Interaction `json:"interaction"`
	Link        any                   `json:"link"`
	QRCode      any                   `json:"qrcode"`
	Page        any                   `json:"page"`
	Metadata    json.RawMessage       `json:"metadata"`
}

// ClickRef names the interaction a conversion is attributed to (Dub's click).
type ClickRef struct {
	ID string `json:"id"`
}

// SaleDetails is the sale object of Dub's track.sale answer.
type SaleDetails struct {
	Amount           int64           `json:"amount"`
	Currency         string          `json:"currency"`
	PaymentProcessor string          `json:"paymentProcessor"`
	InvoiceID        *string         `json:"invoiceId"`
	Metadata         json.RawMessage `json:"metadata"`
}

// SaleObject is data.sale of sale.created.
type SaleObject struct {
	Amount           int64   `json:"amount"`
	Currency         string  `json:"currency"`
	PaymentProcessor string  `json:"paymentProcessor"`
	InvoiceID        *string `json:"invoiceId"`
}

// SaleEventData is the data of sale.created (docs/webhooks.md); exported so that the
// webhook test samples are built from this very type.
type SaleEventData struct {
	EventName   string                `json:"eventName"`
	Customer    Customer              `json:"customer"`
	Interaction *tracking.Interaction `json:"interaction"`
	Link        any                   `json:"link"`
	QRCode      any                   `json:"qrcode"`
	Page        any                   `json:"page"`
	Sale        SaleObject            `json:"sale"`
	Metadata    json.RawMessage       `json:"metadata"`
}

// errDuplicate rolls back a transaction whose idempotency key was already
// taken; the caller then answers the existing row.
var errDuplicate = errors.New("conversions: duplicate")
