package conversions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/store"
)

// ListOptions filter and page ListCustomers: exact externalId and e-mail
// matches; Page is 1-based, PageSize defaults to 50 (max 100).
type ListOptions struct {
	ExternalID string
	Email      string
	Page       int
	PageSize   int
}

// ListCustomers returns the project's customers, newest first.
func (s *Service) ListCustomers(ctx context.Context, projectID string, opt ListOptions) ([]CustomerDetail, error) {
	if opt.Page < 1 {
		opt.Page = 1
	}
	if opt.PageSize < 1 || opt.PageSize > 100 {
		opt.PageSize = 50
	}
	q := "SELECT " + customerColumns + " FROM customers WHERE project_id = $1"
	args := []any{projectID}
	if opt.ExternalID != "" {
		args = append(args, opt.ExternalID)
		q += fmt.Sprintf(" AND external_id = $%d", len(args))
	}
	if opt.Email != "" {
		args = append(args, opt.Email)
		q += fmt.Sprintf(" AND email = $%d", len(args))
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d OFFSET %d", opt.PageSize, (opt.Page-1)*opt.PageSize)
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("conversions: list customers: %w", err)
	}
	var list []customerRow
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, c)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]CustomerDetail, 0, len(list))
	for _, c := range list {
		d, err := s.withInteraction(ctx, projectID, c)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// GetCustomer returns one customer of the project with attribution and totals.
func (s *Service) GetCustomer(ctx context.Context, projectID, id string) (CustomerDetail, error) {
	c, err := scanCustomer(s.st.Read().QueryRowContext(ctx, "SELECT "+customerColumns+" FROM customers WHERE id = $1 AND project_id = $2", id, projectID))
	if errors.Is(err, store.ErrNotFound) {
		return CustomerDetail{}, errs.NotFound("customer %s not found", truncate(id))
	}
	if err != nil {
		return CustomerDetail{}, err
	}
	return s.withInteraction(ctx, projectID, c)
}

// withInteraction adds the attributed interaction object (null when the
// customer has none or its row is gone).
func (s *Service) withInteraction(ctx context.Context, projectID string, c customerRow) (CustomerDetail, error) {
	d := c.CustomerDetail
	if c.attr.clickID == nil {
		return d, nil
	}
	o, err := loadInteraction(ctx, s.st.Read(), projectID, *c.attr.clickID)
	switch {
	case err == nil:
		d.Attribution.Interaction = o.interaction
	case !errors.Is(err, store.ErrNotFound):
		return CustomerDetail{}, err
	}
	return d, nil
}

// leadByName returns the lead of (customer, eventName): the answer to a
// repeated track/lead.
func (s *Service) leadByName(ctx context.Context, projectID, externalID, eventName string) (Lead, error) {
	q := s.st.Read()
	c, err := customerByExternalID(ctx, q, projectID, externalID)
	if err != nil {
		return Lead{}, fmt.Errorf("conversions: customer of a repeated lead: %w", err)
	}
	var (
		l                     = Lead{Customer: c.Customer}
		click, link, qr, page sql.NullString
		meta                  sql.NullString
		created               int64
	)
	err = q.QueryRowContext(ctx, `SELECT id, event_name, quantity, click_id, link_id, qrcode_id, page_id, metadata, created_at
FROM leads WHERE customer_id = $1 AND event_name = $2`, c.ID, eventName).
		Scan(&l.ID, &l.EventName, &l.Quantity, &click, &link, &qr, &page, &meta, &created)
	if err != nil {
		return Lead{}, fmt.Errorf("conversions: read repeated lead: %w", err)
	}
	l.ClickID, l.LinkID, l.QRCodeID, l.PageID = store.NullString(click), store.NullString(link), store.NullString(qr), store.NullString(page)
	l.Metadata = rawOrNil(meta)
	l.CreatedAt = store.FromMillis(created)
	return l, nil
}

// saleByInvoice returns the sale of (project, invoiceId).
func (s *Service) saleByInvoice(ctx context.Context, q store.Querier, projectID, invoiceID string) (Sale, error) {
	var (
		sl                    Sale
		customerID            string
		lead, invoice         sql.NullString
		click, link, qr, page sql.NullString
		meta                  sql.NullString
		created               int64
	)
	err := q.QueryRowContext(ctx, `SELECT id, customer_id, lead_id, event_name, amount, currency, payment_processor, invoice_id,
click_id, link_id, qrcode_id, page_id, metadata, created_at FROM sales WHERE project_id = $1 AND invoice_id = $2`, projectID, invoiceID).
		Scan(&sl.ID, &customerID, &lead, &sl.EventName, &sl.Amount, &sl.Currency, &sl.PaymentProcessor, &invoice,
			&click, &link, &qr, &page, &meta, &created)
	if err != nil {
		return Sale{}, fmt.Errorf("conversions: read sale: %w", err)
	}
	c, err := scanCustomer(q.QueryRowContext(ctx, "SELECT "+customerColumns+" FROM customers WHERE id = $1", customerID))
	if err != nil {
		return Sale{}, fmt.Errorf("conversions: customer of sale %s: %w", sl.ID, err)
	}
	sl.Customer = c.Customer
	sl.LeadID, sl.InvoiceID = store.NullString(lead), store.NullString(invoice)
	sl.ClickID, sl.LinkID, sl.QRCodeID, sl.PageID = store.NullString(click), store.NullString(link), store.NullString(qr), store.NullString(page)
	sl.Metadata = rawOrNil(meta)
	sl.CreatedAt = store.FromMillis(created)
	return sl, nil
}

func rawOrNil(v sql.NullString) json.RawMessage {
	if !v.Valid {
		return nil
	}
	return json.RawMessage(v.String)
}
