// Package events defines the fifteen webhook event types and writes events.
//
// An event is written with Emit inside the transaction of the change it
// describes; in that same transaction Emit fans it out into one delivery row per
// subscribed webhook. So a change, its event and the promise to deliver it
// commit together or not at all, and a crash at any moment loses none of them.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
)

// Type is an event type, e.g. "link.created".
type Type string

// The fifteen event types of the webhook contract. No other type is ever sent.
const (
	LinkCreated     Type = "link.created"
	LinkUpdated     Type = "link.updated"
	LinkDeleted     Type = "link.deleted"
	QRCodeCreated   Type = "qrcode.created"
	QRCodeUpdated   Type = "qrcode.updated"
	QRCodeDeleted   Type = "qrcode.deleted"
	PageCreated     Type = "page.created"
	PageUpdated     Type = "page.updated"
	PageDeleted     Type = "page.deleted"
	LeadCreated     Type = "lead.created"
	SaleCreated     Type = "sale.created"
	PartnerEnrolled Type = "partner.enrolled"
	LinkClicked     Type = "link.clicked"
	QRCodeScanned   Type = "qrcode.scanned"
	PageVisited     Type = "page.visited"
)

// Scope says what a webhook must select to receive a type.
type Scope string

// Scopes: project-level events need no selection; the interaction events are
// scoped to the links, QR codes or pages a webhook names.
const (
	ScopeProject Scope = "project"
	ScopeLink    Scope = "link"
	ScopeQRCode  Scope = "qrcode"
	ScopePage    Scope = "page"
)

// AllTypes lists every type in catalogue order.
func AllTypes() []Type {
	return []Type{
		LinkCreated, LinkUpdated, LinkDeleted,
		QRCodeCreated, QRCodeUpdated, QRCodeDeleted,
		PageCreated, PageUpdated, PageDeleted,
		LeadCreated, SaleCreated, PartnerEnrolled,
		LinkClicked, QRCodeScanned, PageVisited,
	}
}

// Valid reports whether t is one of the fifteen types.
func (t Type) Valid() bool {
	for _, a := range AllTypes() {
		if a == t {
			return true
		}
	}
	return false
}

// Scope returns what a webhook must select to receive t.
func (t Type) Scope() Scope {
	switch t {
	case LinkClicked:
		return ScopeLink
	case QRCodeScanned:
		return ScopeQRCode
	case PageVisited:
		return ScopePage
	}
	return ScopeProject
}

// Event is one thing that happened in a project.
type Event struct {
	// ID is assigned by Emit when empty.
	ID        string
	ProjectID string
	Type      Type
	// CreatedAt is when it happened (not when it is sent); Emit uses now when zero.
	CreatedAt time.Time
	// Data is marshalled as the envelope's data.
	Data any
	// ResourceID is the link, QR code or page of a scoped event: only webhooks
	// that selected it receive the event.
	ResourceID string
	// Bot marks an interaction by a crawler or tool: only webhooks with
	// includeBots receive it.
	Bot bool
	// TestWebhookID, when set, makes this a test event delivered to that one
	// webhook only, whatever its triggers.
	TestWebhookID string
}

// Envelope is the delivery body.
type Envelope struct {
	ID        string          `json:"id"`
	Event     Type            `json:"event"`
	CreatedAt string          `json:"createdAt"`
	Data      json.RawMessage `json:"data"`
}

// TimeFormat is RFC 3339 in UTC with milliseconds, as the envelope's createdAt.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Body renders the exact bytes every delivery of e carries.
func Body(e Event) ([]byte, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("events: marshal %s data: %w", e.Type, err)
	}
	return json.Marshal(Envelope{ID: e.ID, Event: e.Type, CreatedAt: e.CreatedAt.UTC().Format(TimeFormat), Data: data})
}

// Writer writes events and wakes the deliverer once they are committed.
type Writer struct {
	notify func()
	now    func() time.Time
}

// NewWriter returns a Writer; notify (may be nil) is called after each
// transaction that wrote an event commits; now is the clock (nil for time.Now).
func NewWriter(notify func(), now func() time.Time) *Writer {
	if notify == nil {
		notify = func() {}
	}
	if now == nil {
		now = time.Now
	}
	return &Writer{notify: notify, now: now}
}

// Fan-out: one delivery per webhook of the project that subscribed to the type
// (and, for scoped events, selected the resource). Disabled webhooks get a
// 'skipped' row, so that recovery can send the event later.
const (
	fanOutProject = `INSERT INTO deliveries (event_id, webhook_id, project_id, status, next_attempt_at, created_at, updated_at)
SELECT $1, w.id, w.project_id, CASE WHEN w.disabled_at IS NULL THEN 'pending' ELSE 'skipped' END, $2, $2, $2
FROM webhooks w JOIN webhook_triggers t ON t.webhook_id = w.id AND t.event_type = $3
WHERE w.project_id = $4`
	fanOutScoped = fanOutProject + `
  AND EXISTS (SELECT 1 FROM webhook_resources r WHERE r.webhook_id = w.id AND r.resource_id = $5)`
	fanOutScopedBots = fanOutScoped + `
  AND w.include_bots = TRUE`
	fanOutTest = `INSERT INTO deliveries (event_id, webhook_id, project_id, status, next_attempt_at, created_at, updated_at)
SELECT $1, w.id, w.project_id, 'pending', $2, $2, $2 FROM webhooks w WHERE w.id = $3 AND w.project_id = $4`
)

// Emit writes e and its deliveries in tx and returns e's id.
func (w *Writer) Emit(ctx context.Context, tx *store.Tx, e Event) (string, error) {
	if !e.Type.Valid() {
		return "", fmt.Errorf("events: unknown type %q", e.Type)
	}
	if e.ID == "" {
		e.ID = ids.EventID()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = w.now()
	}
	e.CreatedAt = e.CreatedAt.UTC().Truncate(time.Millisecond)
	if e.Type.Scope() != ScopeProject && e.ResourceID == "" && e.TestWebhookID == "" {
		return "", fmt.Errorf("events: %s needs a resource id", e.Type)
	}
	body, err := Body(e)
	if err != nil {
		return "", err
	}
	created := store.Millis(e.CreatedAt)
	var resource any
	if e.ResourceID != "" {
		resource = e.ResourceID
	}
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO events (id, project_id, type, resource_id, test, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		e.ID, e.ProjectID, string(e.Type), resource, e.TestWebhookID != "", string(body), created); err != nil {
		return "", fmt.Errorf("events: insert %s: %w", e.Type, err)
	}
	now := store.Millis(w.now())
	var res interface{ RowsAffected() (int64, error) }
	switch {
	case e.TestWebhookID != "":
		res, err = tx.ExecContext(ctx, fanOutTest, e.ID, now, e.TestWebhookID, e.ProjectID)
	case e.Type.Scope() == ScopeProject:
		res, err = tx.ExecContext(ctx, fanOutProject, e.ID, now, string(e.Type), e.ProjectID)
	case e.Bot:
		res, err = tx.ExecContext(ctx, fanOutScopedBots, e.ID, now, string(e.Type), e.ProjectID, e.ResourceID)
	default:
		res, err = tx.ExecContext(ctx, fanOutScoped, e.ID, now, string(e.Type), e.ProjectID, e.ResourceID)
	}
	if err != nil {
		return "", fmt.Errorf("events: fan out %s: %w", e.Type, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		tx.AfterCommit(w.notify)
	}
	return e.ID, nil
}

// ForgetResource removes a deleted link, QR code or page from every webhook's
// selection, in the transaction that deletes it, so webhooks never list ids
// that no longer exist.
func ForgetResource(ctx context.Context, tx *store.Tx, resourceID string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM webhook_resources WHERE resource_id = $1", resourceID); err != nil {
		return fmt.Errorf("events: forget resource %s: %w", resourceID, err)
	}
	return nil
}
