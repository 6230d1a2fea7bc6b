package conversions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/patch"
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

// GetCustomer returns one customer of the project with attribution and
// totals; id may be Dub's ext_<externalId>.
func (s *Service) GetCustomer(ctx context.Context, projectID, id string) (CustomerDetail, error) {
	c, err := customerByID(ctx, s.st.Read(), projectID, id)
	if err != nil {
		return CustomerDetail{}, err
	}
	return s.withInteraction(ctx, projectID, c)
}

func customerByID(ctx context.Context, q store.Querier, projectID, id string) (customerRow, error) {
	where, arg := "id = $1", id
	if ext, ok := strings.CutPrefix(id, "ext_"); ok {
		where, arg = "external_id = $1", ext
	}
	c, err := scanCustomer(q.QueryRowContext(ctx, "SELECT "+customerColumns+" FROM customers WHERE "+where+" AND project_id = $2", arg, projectID))
	if errors.Is(err, store.ErrNotFound) {
		return customerRow{}, errs.NotFound("customer %s not found", truncate(id))
	}
	return c, err
}

// CustomerUpdate is the body of PATCH /api/customers/{id}: absent leaves a
// field alone, null clears it (externalId cannot be cleared).
// stripeCustomerId is accepted only as null: codeqr has no Stripe link.
type CustomerUpdate struct {
	ExternalID       patch.Field[string] `json:"externalId"`
	Name             patch.Field[string] `json:"name"`
	Email            patch.Field[string] `json:"email"`
	Avatar           patch.Field[string] `json:"avatar"`
	Country          patch.Field[string] `json:"country"`
	StripeCustomerID patch.Field[string] `json:"stripeCustomerId"`
}

// UpdateCustomer changes a customer's details (no event: there is no
// customer event type); id may be ext_<externalId>.
func (s *Service) UpdateCustomer(ctx context.Context, projectID, id string, u CustomerUpdate) (CustomerDetail, error) {
	if u.StripeCustomerID.Set && !u.StripeCustomerID.Null {
		return CustomerDetail{}, errs.Invalid("stripeCustomerId is not offered: codeqr has no payment-processor integration")
	}
	if u.ExternalID.Set && (u.ExternalID.Null || strings.TrimSpace(u.ExternalID.Value) == "") {
		return CustomerDetail{}, errs.Invalid("externalId must not be null or empty")
	}
	var c customerRow
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = customerByID(ctx, tx, projectID, id); err != nil {
			return err
		}
		ext := c.ExternalID
		if u.ExternalID.Set {
			ext = u.ExternalID.Value
		}
		pick := func(f patch.Field[string], cur *string) *string {
			switch {
			case !f.Set:
				return cur
			case f.Null:
				return nil
			}
			v := f.Value
			return &v
		}
		name, email, avatar := pick(u.Name, c.Name), pick(u.Email, c.Email), pick(u.Avatar, c.Avatar)
		cf, err := validateCustomer(ext, name, email, avatar)
		if err != nil {
			return err
		}
		country := pick(u.Country, c.Country)
		if country != nil {
			v := strings.ToUpper(strings.TrimSpace(*country))
			if len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' {
				return errs.Invalid("country must be a 2-letter ISO country code")
			}
			country = &v
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		_, err = tx.ExecContext(ctx, "UPDATE customers SET external_id = $1, name = $2, email = $3, avatar = $4, country = $5, updated_at = $6 WHERE id = $7",
			cf.externalID, store.StringOrNil(cf.name), store.StringOrNil(cf.email), store.StringOrNil(cf.avatar), store.StringOrNil(country), store.Millis(now), c.ID)
		if errors.Is(err, store.ErrUniqueViolation) {
			return errs.Conflict("another customer has externalId %q", truncate(cf.externalID))
		}
		if err != nil {
			return fmt.Errorf("conversions: update customer: %w", err)
		}
		c, err = customerByID(ctx, tx, projectID, c.ID)
		return err
	})
	if err != nil {
		return CustomerDetail{}, err
	}
	return s.withInteraction(ctx, projectID, c)
}

// withInteraction adds the attributed interaction object (null when the
// customer has none or its row is gone).
func (s *Service) withInteraction(ctx context.Context, projectID string, c customerRow) (CustomerDetail, error) {
	d := c.CustomerDetail
	var first sql.NullInt64
	if err := s.st.Read().QueryRowContext(ctx, "SELECT MIN(created_at) FROM sales WHERE customer_id = $1", c.ID).Scan(&first); err != nil {
		return CustomerDetail{}, fmt.Errorf("conversions: first sale: %w", err)
	}
	d.FirstSaleAt = store.NullMillis(first)
	if c.attr.linkID != nil && s.opt.Links != nil {
		if l, err := s.opt.Links.Get(ctx, projectID, *c.attr.linkID); err == nil {
			d.Link = &l
		}
	}
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
	l, err := scanLead(q.QueryRowContext(ctx, "SELECT "+leadColumns+" FROM leads WHERE customer_id = $1 AND event_name = $2", c.ID, eventName))
	if err != nil {
		return Lead{}, fmt.Errorf("conversions: read repeated lead: %w", err)
	}
	l.Customer = c.Customer
	return l, nil
}

// saleByInvoice returns the sale of (project, invoiceId).
func (s *Service) saleByInvoice(ctx context.Context, q store.Querier, projectID, invoiceID string) (Sale, error) {
	sl, customerID, err := scanSale(q.QueryRowContext(ctx, "SELECT "+saleColumns+" FROM sales WHERE project_id = $1 AND invoice_id = $2", projectID, invoiceID))
	if err != nil {
		return Sale{}, fmt.Errorf("conversions: read sale: %w", err)
	}
	c, err := scanCustomer(q.QueryRowContext(ctx, "SELECT "+customerColumns+" FROM customers WHERE id = $1", customerID))
	if err != nil {
		return Sale{}, fmt.Errorf("conversions: customer of sale %s: %w", sl.ID, err)
	}
	sl.Customer = c.Customer
	return withDetails(sl), nil
}

const leadColumns = "id, event_name, quantity, click_id, link_id, qrcode_id, page_id, metadata, created_at"

// scanLead reads a row of leadColumns (without its customer).
func scanLead(row interface{ Scan(...any) error }) (Lead, error) {
	var (
		l                     Lead
		click, link, qr, page sql.NullString
		meta                  sql.NullString
		created               int64
		id                    string
	)
	if err := row.Scan(&id, &l.EventName, &l.Quantity, &click, &link, &qr, &page, &meta, &created); err != nil {
		return Lead{}, err
	}
	l.ID = &id
	l.ClickID, l.LinkID, l.QRCodeID, l.PageID = store.NullString(click), store.NullString(link), store.NullString(qr), store.NullString(page)
	l.Metadata = rawOrNil(meta)
	l.CreatedAt = store.FromMillis(created)
	return l, nil
}

const saleColumns = `id, customer_id, lead_id, event_name, amount, currency, payment_processor, invoice_id,
click_id, link_id, qrcode_id, page_id, metadata, created_at`

// scanSale reads a row of saleColumns (without its customer) and the
// customer's id.
func scanSale(row interface{ Scan(...any) error }) (Sale, string, error) {
	var (
		sl                    Sale
		customerID            string
		lead, invoice         sql.NullString
		click, link, qr, page sql.NullString
		meta                  sql.NullString
		created               int64
	)
	if err := row.Scan(&sl.ID, &customerID, &lead, &sl.EventName, &sl.Amount, &sl.Currency, &sl.PaymentProcessor, &invoice,
		&click, &link, &qr, &page, &meta, &created); err != nil {
		return Sale{}, "", err
	}
	sl.LeadID, sl.InvoiceID = store.NullString(lead), store.NullString(invoice)
	sl.ClickID, sl.LinkID, sl.QRCodeID, sl.PageID = store.NullString(click), store.NullString(link), store.NullString(qr), store.NullString(page)
	sl.Metadata = rawOrNil(meta)
	sl.CreatedAt = store.FromMillis(created)
	return withDetails(sl), customerID, nil
}

// ActivityLimit is how many leads and how many sales CustomerActivity
// returns at most (the newest).
const ActivityLimit = 200

// Activity is a customer with each of their leads and sales, newest first,
// each with the click, link, QR code or page it is attributed to. The
// customer's totals (Leads, Sales, SaleAmount) count all of them, also past
// ActivityLimit.
type Activity struct {
	Customer CustomerDetail `json:"customer"`
	Leads    []Lead         `json:"leads"`
	Sales    []Sale         `json:"sales"`
}

// CustomerActivity returns a customer of the project with their leads and
// sales; id may be ext_<externalId>.
func (s *Service) CustomerActivity(ctx context.Context, projectID, id string) (Activity, error) {
	q := s.st.Read()
	c, err := customerByID(ctx, q, projectID, id)
	if err != nil {
		return Activity{}, err
	}
	a := Activity{Leads: []Lead{}, Sales: []Sale{}}
	if a.Customer, err = s.withInteraction(ctx, projectID, c); err != nil {
		return Activity{}, err
	}
	rows, err := q.QueryContext(ctx, "SELECT "+leadColumns+" FROM leads WHERE customer_id = $1 AND project_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
		c.ID, projectID, ActivityLimit)
	if err != nil {
		return Activity{}, fmt.Errorf("conversions: list leads: %w", err)
	}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			rows.Close()
			return Activity{}, err
		}
		l.Customer = c.Customer
		a.Leads = append(a.Leads, l)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return Activity{}, fmt.Errorf("conversions: list leads: %w", err)
	}
	rows, err = q.QueryContext(ctx, "SELECT "+saleColumns+" FROM sales WHERE customer_id = $1 AND project_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
		c.ID, projectID, ActivityLimit)
	if err != nil {
		return Activity{}, fmt.Errorf("conversions: list sales: %w", err)
	}
	for rows.Next() {
		sl, _, err := scanSale(rows)
		if err != nil {
			rows.Close()
			return Activity{}, err
		}
		sl.Customer = c.Customer
		a.Sales = append(a.Sales, sl)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return Activity{}, fmt.Errorf("conversions: list sales: %w", err)
	}
	return a, nil
}

func rawOrNil(v sql.NullString) json.RawMessage {
	if !v.Valid {
		return nil
	}
	return json.RawMessage(v.String)
}
