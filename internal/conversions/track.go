package conversions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tracking"
)

// TrackLead records a lead. created is false when the same (customer,
// eventName) was already tracked: then nothing is written and the existing
// lead is returned.
func (s *Service) TrackLead(ctx context.Context, projectID string, req LeadRequest) (Lead, bool, error) {
	in, err := req.validate()
	if err != nil {
		return Lead{}, false, err
	}
	var click origin
	if in.clickID != "" {
		if click, err = s.findInteraction(ctx, projectID, in.clickID); err != nil {
			return Lead{}, false, err
		}
	}
	var out Lead
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		now := s.now().UTC().Truncate(time.Millisecond)
		c, err := s.customerFor(ctx, tx, projectID, in.customerFields, click)
		if err != nil {
			return err
		}
		if in.mode == ModeDeferred {
			// Only the customer and its click are kept; the lead itself is
			// written by a later async or wait call for this customer.
			out = Lead{EventName: in.eventName, Quantity: in.quantity, Customer: c.Customer, ClickID: click.clickID,
				LinkID: click.linkID, QRCodeID: click.qrcodeID, PageID: click.pageID, Metadata: in.metadata, CreatedAt: now}
			return nil
		}
		o, err := s.originFor(ctx, tx, projectID, click, c)
		if err != nil {
			return err
		}
		l, inserted, err := s.insertLead(ctx, tx, projectID, c, o, in.eventName, in.quantity, in.metadata, now)
		if err != nil {
			return err
		}
		if !inserted {
			return errDuplicate
		}
		out = l
		return nil
	})
	if errors.Is(err, errDuplicate) {
		l, err := s.leadByName(ctx, projectID, in.externalID, in.eventName)
		if err != nil {
			return Lead{}, false, err
		}
		return s.withClickAndLink(ctx, projectID, l), false, nil
	}
	if err != nil {
		return Lead{}, false, err
	}
	return s.withClickAndLink(ctx, projectID, out), out.ID != nil, nil
}

// withClickAndLink fills Dub's click and link of a lead answer. A link that
// cannot be read (deleted meanwhile) stays null: the lead was tracked.
func (s *Service) withClickAndLink(ctx context.Context, projectID string, l Lead) Lead {
	if l.ClickID != nil {
		l.Click = &ClickRef{ID: *l.ClickID}
	}
	if l.LinkID != nil && s.opt.Links != nil {
		if link, err := s.opt.Links.Get(ctx, projectID, *l.LinkID); err == nil {
			l.Link = &link
		}
	}
	return l
}

// customerFor returns the request's customer, creating it when a clickId says
// where they came from; without one an unknown customer cannot be attributed.
func (s *Service) customerFor(ctx context.Context, tx *store.Tx, projectID string, cf customerFields, click origin) (customerRow, error) {
	if click.clickID == nil {
		c, err := customerByExternalID(ctx, tx, projectID, cf.externalID)
		if errors.Is(err, store.ErrNotFound) {
			return customerRow{}, errs.NotFound("customer %q not found: send the clickId (cq_id) of the click, scan or view that brought them", truncate(cf.externalID))
		}
		if err != nil {
			return customerRow{}, err
		}
		return s.fillCustomer(ctx, tx, c, cf, s.now())
	}
	return s.ensureCustomer(ctx, tx, projectID, cf, click, s.now().UTC().Truncate(time.Millisecond))
}

// originFor is the interaction a conversion is attributed to: the clickId of
// the request, else the customer's first interaction (with the interaction
// object when its row still exists).
func (s *Service) originFor(ctx context.Context, tx *store.Tx, projectID string, click origin, c customerRow) (origin, error) {
	if click.clickID != nil {
		return click, nil
	}
	o := c.attr
	if o.clickID != nil {
		full, err := loadInteraction(ctx, tx, projectID, *o.clickID)
		switch {
		case err == nil:
			o.interaction = full.interaction
		case !errors.Is(err, store.ErrNotFound):
			return origin{}, err
		}
	}
	return o, nil
}

// insertLead inserts a lead (ON CONFLICT DO NOTHING on (customer, eventName)),
// bumps the counters and emits lead.created. inserted is false when the lead
// existed; then nothing was written.
func (s *Service) insertLead(ctx context.Context, tx *store.Tx, projectID string, c customerRow, o origin, eventName string,
	quantity int64, metadata json.RawMessage, now time.Time) (Lead, bool, error) {
	id := ids.New("lead")
	res, err := tx.ExecContext(ctx, `INSERT INTO leads (id, project_id, customer_id, event_name, quantity, click_id, link_id, qrcode_id, page_id, metadata, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (customer_id, event_name) DO NOTHING`,
		id, projectID, c.ID, eventName, quantity, store.StringOrNil(o.clickID), store.StringOrNil(o.linkID),
		store.StringOrNil(o.qrcodeID), store.StringOrNil(o.pageID), jsonOrNil(metadata), store.Millis(now))
	if err != nil {
		return Lead{}, false, fmt.Errorf("conversions: insert lead: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return Lead{}, false, err
	}
	if err := bumpResource(ctx, tx, projectID, o, quantity, 0, 0); err != nil {
		return Lead{}, false, err
	}
	if err := rollups.Write(ctx, tx, rollupOf(projectID, rollups.KindLead, o, now, rollups.Counts{N: 1})); err != nil {
		return Lead{}, false, err
	}
	if err := bumpCustomer(ctx, tx, c.ID, quantity, 0, 0, now); err != nil {
		return Lead{}, false, err
	}
	link, qr, page, err := s.resources(ctx, tx, projectID, o)
	if err != nil {
		return Lead{}, false, err
	}
	data := LeadEventData{EventName: eventName, Customer: c.Customer, Interaction: o.interaction,
		Link: link, QRCode: qr, Page: page, Metadata: metadata}
	if _, err := s.ev.Emit(ctx, tx, events.Event{ProjectID: projectID, Type: events.LeadCreated, CreatedAt: now, Data: data, ResourceID: id}); err != nil {
		return Lead{}, false, err
	}
	return Lead{ID: &id, EventName: eventName, Quantity: quantity, Customer: c.Customer, ClickID: o.clickID, LinkID: o.linkID,
		QRCodeID: o.qrcodeID, PageID: o.pageID, Metadata: metadata, CreatedAt: now}, true, nil
}

// TrackSale records a sale. With an invoiceId it is idempotent per (project,
// invoiceId): created is false and the existing sale is returned when the
// invoice was already tracked, also by a concurrent request.
func (s *Service) TrackSale(ctx context.Context, projectID string, req SaleRequest) (Sale, bool, error) {
	in, err := req.validate()
	if err != nil {
		return Sale{}, false, err
	}
	if in.invoiceID != nil {
		// The common retry: answer it without a write transaction.
		if sl, err := s.saleByInvoice(ctx, s.st.Read(), projectID, *in.invoiceID); err == nil {
			return sl, false, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return Sale{}, false, err
		}
	}
	var click origin
	if in.clickID != "" {
		if click, err = s.findInteraction(ctx, projectID, in.clickID); err != nil {
			return Sale{}, false, err
		}
	}
	var out Sale
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		sl, err := s.insertSale(ctx, tx, projectID, in, click)
		if err != nil {
			return err
		}
		out = sl
		return nil
	})
	if errors.Is(err, errDuplicate) {
		sl, err := s.saleByInvoice(ctx, s.st.Read(), projectID, *in.invoiceID)
		return sl, false, err
	}
	if err != nil {
		return Sale{}, false, err
	}
	return out, true, nil
}

func (s *Service) insertSale(ctx context.Context, tx *store.Tx, projectID string, in sale, click origin) (Sale, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	c, err := s.customerFor(ctx, tx, projectID, in.customerFields, click)
	if err != nil {
		return Sale{}, err
	}
	o, err := s.originFor(ctx, tx, projectID, click, c)
	if err != nil {
		return Sale{}, err
	}
	firstLead, err := firstLeadOf(ctx, tx, c.ID)
	if err != nil {
		return Sale{}, err
	}
	newLead := firstLead == nil && click.clickID != nil
	var leadID *string
	if newLead {
		id := ids.New("lead")
		leadID = &id
	} else {
		leadID = firstLead
	}
	id := ids.New("sale")
	// Insert first: the UNIQUE (project_id, invoice_id) decides which of
	// concurrent identical requests writes anything at all.
	res, err := tx.ExecContext(ctx, `INSERT INTO sales (id, project_id, customer_id, lead_id, event_name, amount, currency, payment_processor,
invoice_id, click_id, link_id, qrcode_id, page_id, metadata, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (project_id, invoice_id) DO NOTHING`,
		id, projectID, c.ID, store.StringOrNil(leadID), in.eventName, in.amount, in.currency, in.paymentProcessor,
		store.StringOrNil(in.invoiceID), store.StringOrNil(o.clickID), store.StringOrNil(o.linkID), store.StringOrNil(o.qrcodeID),
		store.StringOrNil(o.pageID), jsonOrNil(in.metadata), store.Millis(now))
	if err != nil {
		return Sale{}, fmt.Errorf("conversions: insert sale: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Sale{}, err
	} else if n == 0 {
		return Sale{}, errDuplicate
	}
	if newLead {
		l, inserted, err := s.insertLead(ctx, tx, projectID, c, o, in.leadEventName, 1, nil, now)
		if err != nil {
			return Sale{}, err
		}
		if inserted {
			if _, err := tx.ExecContext(ctx, "UPDATE sales SET lead_id = $1 WHERE id = $2", *l.ID, id); err != nil {
				return Sale{}, fmt.Errorf("conversions: link sale to lead: %w", err)
			}
			leadID = l.ID
		} else {
			leadID = nil
		}
	}
	if err := bumpResource(ctx, tx, projectID, o, 0, 1, in.amount); err != nil {
		return Sale{}, err
	}
	if err := rollups.Write(ctx, tx, rollupOf(projectID, rollups.KindSale, o, now, rollups.Counts{N: 1, Amount: in.amount})); err != nil {
		return Sale{}, err
	}
	if err := bumpCustomer(ctx, tx, c.ID, 0, 1, in.amount, now); err != nil {
		return Sale{}, err
	}
	link, qr, page, err := s.resources(ctx, tx, projectID, o)
	if err != nil {
		return Sale{}, err
	}
	obj := SaleObject{Amount: in.amount, Currency: in.currency, PaymentProcessor: in.paymentProcessor, InvoiceID: in.invoiceID}
	data := SaleEventData{EventName: in.eventName, Customer: c.Customer, Interaction: o.interaction,
		Link: link, QRCode: qr, Page: page, Sale: obj, Metadata: in.metadata}
	if _, err := s.ev.Emit(ctx, tx, events.Event{ProjectID: projectID, Type: events.SaleCreated, CreatedAt: now, Data: data, ResourceID: id}); err != nil {
		return Sale{}, err
	}
	return withDetails(Sale{ID: id, EventName: in.eventName, Customer: c.Customer, LeadID: leadID, Amount: in.amount, Currency: in.currency,
		PaymentProcessor: in.paymentProcessor, InvoiceID: in.invoiceID, ClickID: o.clickID, LinkID: o.linkID,
		QRCodeID: o.qrcodeID, PageID: o.pageID, Metadata: in.metadata, CreatedAt: now}), nil
}

// withDetails fills Dub's sale object from the sale's own fields.
func withDetails(sl Sale) Sale {
	sl.Sale = SaleDetails{Amount: sl.Amount, Currency: sl.Currency, PaymentProcessor: sl.PaymentProcessor,
		InvoiceID: sl.InvoiceID, Metadata: sl.Metadata}
	return sl
}

func firstLeadOf(ctx context.Context, q store.Querier, customerID string) (*string, error) {
	var id string
	err := q.QueryRowContext(ctx, "SELECT id FROM leads WHERE customer_id = $1 ORDER BY created_at, id LIMIT 1", customerID).Scan(&id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("conversions: first lead: %w", err)
	}
	return &id, nil
}

func jsonOrNil(m json.RawMessage) any {
	if m == nil {
		return nil
	}
	return string(m)
}

// FormLead is a lead captured by a hosted page's form: the details the form
// gave and the page view recorded for the submission. The view is passed in,
// not looked up, because it is still in the interactions buffer.
type FormLead struct {
	ProjectID   string
	PageID      string
	ExternalID  string
	Name, Email *string
	EventName   string
	Metadata    json.RawMessage
	Interaction tracking.Interaction
}

// RecordFormLead writes a form lead in tx the way TrackLead writes any lead:
// the customer (created and attributed to the view, or given the details it
// lacks), the lead, the counters and lead.created with the page. inserted is
// false for a repeat by the same customer (one lead per customer and event
// name); then nothing more is written.
func (s *Service) RecordFormLead(ctx context.Context, tx *store.Tx, in FormLead) (inserted bool, err error) {
	kind := "page"
	view := origin{clickID: &in.Interaction.ClickID, kind: &kind, pageID: &in.PageID, interaction: &in.Interaction}
	now := s.now().UTC().Truncate(time.Millisecond)
	c, err := s.ensureCustomer(ctx, tx, in.ProjectID, customerFields{externalID: in.ExternalID, name: in.Name, email: in.Email}, view, now)
	if err != nil {
		return false, err
	}
	_, inserted, err = s.insertLead(ctx, tx, in.ProjectID, c, view, in.EventName, 1, in.Metadata, now)
	return inserted, err
}

// rollupOf is the analytics rollup of one lead or sale: counted in its
// project, its resource, and the dimensions of the interaction it is
// attributed to (written in the conversion's transaction).
func rollupOf(projectID, kind string, o origin, at time.Time, c rollups.Counts) rollups.Batch {
	it := rollups.Item{ProjectID: projectID, Kind: kind, At: store.Millis(at), Interaction: o.interaction, Counts: c}
	switch {
	case o.linkID != nil:
		it.Resource, it.ResourceDim = *o.linkID, rollups.LinkID
	case o.qrcodeID != nil:
		it.Resource, it.ResourceDim = *o.qrcodeID, rollups.QRCodeID
	case o.pageID != nil:
		it.Resource, it.ResourceDim = *o.pageID, rollups.PageID
	}
	b := rollups.Batch{}
	b.Add(it)
	return b
}
