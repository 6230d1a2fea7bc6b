package pageforms

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tracking"
)

// Submission is one valid form submission.
type Submission struct {
	Page        pages.Page
	Values      map[string]string // field name → value, for the form's fields only
	Interaction interactions.Interaction
}

// LeadWriter writes the customer, the lead, the counters and lead.created of
// a submission in tx. WriteLead is the one used until the conversions package
// offers its own (see WithLeadWriter).
type LeadWriter func(ctx context.Context, tx *store.Tx, ev *events.Writer, s Submission) error

// Customer is the customer object of webhooks.md §3.5.
type Customer struct {
	ID         string    `json:"id"`
	ExternalID string    `json:"externalId"`
	Name       *string   `json:"name"`
	Email      *string   `json:"email"`
	Avatar     *string   `json:"avatar"`
	Country    *string   `json:"country"`
	CreatedAt  time.Time `json:"createdAt"`
}

// LeadCreated is the data of lead.created for a form lead: link and qrcode are
// always null, page is the page with its counters after the lead.
type LeadCreated struct {
	EventName   string                   `json:"eventName"`
	Customer    Customer                 `json:"customer"`
	Interaction interactions.Interaction `json:"interaction"`
	Link        any                      `json:"link"`
	QRCode      any                      `json:"qrcode"`
	Page        pages.Page               `json:"page"`
	Metadata    map[string]any           `json:"metadata"`
}

// EventName is the lead's eventName: one per page, so a visitor who sends
// the same form again is one lead (leads are unique per customer and event
// name), while forms of different pages each count.
func EventName(p pages.Page) string { return "Form: " + p.Slug }

// Customer details taken from the form: the first email field is the e-mail
// (and the external id); the name is a field called name / fullName /
// full_name, else firstName + lastName.
func customerFields(f pages.Form, values map[string]string) (email, name *string) {
	for _, fd := range f.Fields {
		if v, ok := values[fd.Name]; ok && fd.Type == "email" && email == nil {
			v = strings.ToLower(v)
			email = &v
		}
	}
	byName := map[string]string{}
	for k, v := range values {
		byName[strings.ToLower(strings.ReplaceAll(k, "_", ""))] = v
	}
	switch {
	case byName["name"] != "":
		n := byName["name"]
		name = &n
	case byName["fullname"] != "":
		n := byName["fullname"]
		name = &n
	case byName["firstname"] != "" || byName["lastname"] != "":
		n := strings.TrimSpace(byName["firstname"] + " " + byName["lastname"])
		name = &n
	}
	return email, name
}

// WriteLead writes a form lead against the customers and leads tables of the
// conversions schema (migration 0009). A repeated submission by the same
// customer on the same page fills missing customer details and writes no new
// lead and no event.
func WriteLead(ctx context.Context, tx *store.Tx, ev *events.Writer, s Submission) error {
	p, in := s.Page, s.Interaction
	now := store.FromMillis(store.Millis(time.Now()))
	email, name := customerFields(*p.Form, s.Values)
	externalID := "form_" + in.ClickID
	if email != nil {
		externalID = *email
	}
	var country *string
	if in.Country != "" && in.Country != tracking.Unknown {
		c := in.Country
		country = &c
	}
	cus, err := ensureCustomer(ctx, tx, p.ProjectID, externalID, name, email, country, in.ClickID, p.ID, now)
	if err != nil {
		return err
	}
	meta := map[string]any{"pageId": p.ID, "fields": s.Values}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("pageforms: metadata: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO leads (id, project_id, customer_id, event_name, quantity, click_id, page_id, metadata, created_at)
VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8) ON CONFLICT (customer_id, event_name) DO NOTHING`,
		ids.New("lead"), p.ProjectID, cus.ID, EventName(p), in.ClickID, p.ID, string(metaJSON), store.Millis(now))
	if err != nil {
		return fmt.Errorf("pageforms: insert lead: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // a repeat: nothing more to write
	}
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET leads = leads + 1, updated_at = $1 WHERE id = $2", store.Millis(now), cus.ID); err != nil {
		return fmt.Errorf("pageforms: bump customer: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE pages SET leads = leads + 1 WHERE id = $1", p.ID); err != nil {
		return fmt.Errorf("pageforms: bump page: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT views, leads FROM pages WHERE id = $1", p.ID).Scan(&p.Views, &p.Leads); err != nil {
		return fmt.Errorf("pageforms: read page counters: %w", err)
	}
	_, err = ev.Emit(ctx, tx, events.Event{ProjectID: p.ProjectID, Type: events.LeadCreated, CreatedAt: now,
		Data: LeadCreated{EventName: EventName(p), Customer: cus, Interaction: in, Page: p, Metadata: meta}})
	return err
}

// ensureCustomer returns the customer with this external id, creating it
// (attributed to this view) or filling the details it lacks; known details
// are never overwritten.
func ensureCustomer(ctx context.Context, tx *store.Tx, projectID, externalID string, name, email, country *string, clickID, pageID string, now time.Time) (Customer, error) {
	c, err := customerByExternalID(ctx, tx, projectID, externalID)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customers (id, project_id, external_id, name, email, avatar, country, click_id,
link_id, qrcode_id, page_id, leads, sales, sale_amount, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, NULL, NULL, $8, 0, 0, 0, $9, $9)
ON CONFLICT (project_id, external_id) DO NOTHING`,
			ids.New("cus"), projectID, externalID, store.StringOrNil(name), store.StringOrNil(email), store.StringOrNil(country),
			clickID, pageID, store.Millis(now)); err != nil {
			return Customer{}, fmt.Errorf("pageforms: insert customer: %w", err)
		}
		return customerByExternalID(ctx, tx, projectID, externalID)
	}
	if err != nil {
		return Customer{}, err
	}
	changed := false
	fill := func(dst **string, v *string) {
		if *dst == nil && v != nil {
			*dst, changed = v, true
		}
	}
	fill(&c.Name, name)
	fill(&c.Email, email)
	if changed {
		if _, err := tx.ExecContext(ctx, "UPDATE customers SET name = $1, email = $2, updated_at = $3 WHERE id = $4",
			store.StringOrNil(c.Name), store.StringOrNil(c.Email), store.Millis(now), c.ID); err != nil {
			return Customer{}, fmt.Errorf("pageforms: update customer: %w", err)
		}
	}
	return c, nil
}

func customerByExternalID(ctx context.Context, q store.Querier, projectID, externalID string) (Customer, error) {
	var (
		c                          Customer
		name, email, avatar, cntry sql.NullString
		created                    int64
	)
	err := q.QueryRowContext(ctx, `SELECT id, external_id, name, email, avatar, country, created_at FROM customers
WHERE project_id = $1 AND external_id = $2`, projectID, externalID).Scan(&c.ID, &c.ExternalID, &name, &email, &avatar, &cntry, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, store.ErrNotFound
	}
	if err != nil {
		return Customer{}, fmt.Errorf("pageforms: load customer: %w", err)
	}
	c.Name, c.Email, c.Avatar, c.Country = store.NullString(name), store.NullString(email), store.NullString(avatar), store.NullString(cntry)
	c.CreatedAt = store.FromMillis(created)
	return c, nil
}
