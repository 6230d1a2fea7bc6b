package conversions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tracking"
)

// origin is an interaction and the resource it belongs to: where a customer,
// lead or sale is attributed.
type origin struct {
	clickID                  *string
	kind                     *string // "link", "qrcode" or "page"
	linkID, qrcodeID, pageID *string
	interaction              *tracking.Interaction
}

const interactionColumns = `click_id, link_id, qrcode_id, page_id, url, ip, continent, country, region, city,
latitude, longitude, device, device_vendor, device_model, browser, browser_version, engine, engine_version, os, os_version,
cpu_architecture, ua, bot, qr, referer, referer_url, created_at`

func scanInteraction(row interface{ Scan(...any) error }) (origin, error) {
	var (
		in               tracking.Interaction
		link, qr, page   sql.NullString
		lat, lon         sql.NullFloat64
		created          int64
		clickID          string
		resourceKind     string
		resourceKindSeen bool
	)
	err := row.Scan(&clickID, &link, &qr, &page, &in.URL, &in.IP, &in.Continent, &in.Country, &in.Region, &in.City,
		&lat, &lon, &in.Device, &in.DeviceVendor, &in.DeviceModel, &in.Browser, &in.BrowserVersion, &in.Engine,
		&in.EngineVersion, &in.OS, &in.OSVersion, &in.CPUArchitecture, &in.UA, &in.Bot, &in.QR, &in.Referer,
		&in.RefererURL, &created)
	if err != nil {
		return origin{}, fmt.Errorf("conversions: scan interaction: %w", err)
	}
	in.ClickID = clickID
	in.Timestamp = store.FromMillis(created)
	if lat.Valid {
		in.Latitude = &lat.Float64
	}
	if lon.Valid {
		in.Longitude = &lon.Float64
	}
	o := origin{clickID: &clickID, interaction: &in,
		linkID: store.NullString(link), qrcodeID: store.NullString(qr), pageID: store.NullString(page)}
	switch {
	case link.Valid:
		resourceKind, resourceKindSeen = "link", true
	case qr.Valid:
		resourceKind, resourceKindSeen = "qrcode", true
	case page.Valid:
		resourceKind, resourceKindSeen = "page", true
	}
	if resourceKindSeen {
		o.kind = &resourceKind
	}
	return o, nil
}

func loadInteraction(ctx context.Context, q store.Querier, projectID, clickID string) (origin, error) {
	return scanInteraction(q.QueryRowContext(ctx,
		"SELECT "+interactionColumns+" FROM interactions WHERE click_id = $1 AND project_id = $2", clickID, projectID))
}

// findInteraction resolves a clickId of the project. The interaction may still
// be in the pipeline's buffer (written at most a flush interval after the
// request), so on a miss it flushes once and looks again. It must be called
// outside a transaction: a flush is a transaction of its own.
func (s *Service) findInteraction(ctx context.Context, projectID, clickID string) (origin, error) {
	o, err := loadInteraction(ctx, s.st.Read(), projectID, clickID)
	if errors.Is(err, store.ErrNotFound) && s.opt.Flusher != nil {
		if ferr := s.opt.Flusher.Flush(ctx); ferr != nil {
			s.opt.Logger.WarnContext(ctx, "conversions: flush interactions for a clickId lookup", "err", ferr)
		}
		o, err = loadInteraction(ctx, s.st.Read(), projectID, clickID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return origin{}, errs.NotFound("clickId %s not found in this project: send the cq_id of a click, scan or page view of this project", clickID)
	}
	return o, err
}

// customerRow is a customers row.
type customerRow struct {
	CustomerDetail
	attr origin
}

const customerColumns = `id, external_id, name, email, avatar, country, click_id, link_id, qrcode_id, page_id,
leads, sales, sale_amount, created_at, updated_at`

func scanCustomer(row interface{ Scan(...any) error }) (customerRow, error) {
	var (
		c                            customerRow
		name, email, avatar, country sql.NullString
		click, link, qr, page        sql.NullString
		created, updated             int64
	)
	err := row.Scan(&c.ID, &c.ExternalID, &name, &email, &avatar, &country, &click, &link, &qr, &page,
		&c.Leads, &c.Sales, &c.SaleAmount, &created, &updated)
	if err != nil {
		return customerRow{}, fmt.Errorf("conversions: scan customer: %w", err)
	}
	c.Name, c.Email, c.Avatar, c.Country = store.NullString(name), store.NullString(email), store.NullString(avatar), store.NullString(country)
	c.CreatedAt, c.UpdatedAt = store.FromMillis(created), store.FromMillis(updated)
	c.attr = origin{clickID: store.NullString(click), linkID: store.NullString(link), qrcodeID: store.NullString(qr), pageID: store.NullString(page)}
	c.attr.kind = kindOf(c.attr)
	c.Attribution = Attribution{ClickID: c.attr.clickID, Kind: c.attr.kind, LinkID: c.attr.linkID, QRCodeID: c.attr.qrcodeID, PageID: c.attr.pageID}
	return c, nil
}

func kindOf(o origin) *string {
	var k string
	switch {
	case o.linkID != nil:
		k = "link"
	case o.qrcodeID != nil:
		k = "qrcode"
	case o.pageID != nil:
		k = "page"
	default:
		return nil
	}
	return &k
}

func customerByExternalID(ctx context.Context, q store.Querier, projectID, externalID string) (customerRow, error) {
	return scanCustomer(q.QueryRowContext(ctx, "SELECT "+customerColumns+" FROM customers WHERE project_id = $1 AND external_id = $2", projectID, externalID))
}

// ensureCustomer returns the customer with this external id, creating it
// (attributed to o) when there is none. A concurrent creator of the same
// customer wins without error: ON CONFLICT DO NOTHING, then read.
func (s *Service) ensureCustomer(ctx context.Context, tx *store.Tx, projectID string, cf customerFields, o origin, now time.Time) (customerRow, error) {
	c, err := customerByExternalID(ctx, tx, projectID, cf.externalID)
	if err == nil {
		return s.fillCustomer(ctx, tx, c, cf, now)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return customerRow{}, err
	}
	var country *string
	if o.interaction != nil && o.interaction.Country != "" && o.interaction.Country != tracking.Unknown {
		country = &o.interaction.Country
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO customers (id, project_id, external_id, name, email, avatar, country, click_id,
link_id, qrcode_id, page_id, leads, sales, sale_amount, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, 0, $12, $12)
ON CONFLICT (project_id, external_id) DO NOTHING`,
		ids.New("cus"), projectID, cf.externalID, store.StringOrNil(cf.name), store.StringOrNil(cf.email), store.StringOrNil(cf.avatar),
		store.StringOrNil(country), store.StringOrNil(o.clickID), store.StringOrNil(o.linkID), store.StringOrNil(o.qrcodeID),
		store.StringOrNil(o.pageID), store.Millis(now)); err != nil {
		return customerRow{}, fmt.Errorf("conversions: insert customer: %w", err)
	}
	return customerByExternalID(ctx, tx, projectID, cf.externalID)
}

// fillCustomer sets the details a customer lacks from a later request; it
// never overwrites what is known.
func (s *Service) fillCustomer(ctx context.Context, tx *store.Tx, c customerRow, cf customerFields, now time.Time) (customerRow, error) {
	changed := false
	fill := func(dst **string, v *string) {
		if *dst == nil && v != nil {
			*dst, changed = v, true
		}
	}
	fill(&c.Name, cf.name)
	fill(&c.Email, cf.email)
	fill(&c.Avatar, cf.avatar)
	if !changed {
		return c, nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET name = $1, email = $2, avatar = $3, updated_at = $4 WHERE id = $5",
		store.StringOrNil(c.Name), store.StringOrNil(c.Email), store.StringOrNil(c.Avatar), store.Millis(now), c.ID); err != nil {
		return customerRow{}, fmt.Errorf("conversions: update customer: %w", err)
	}
	return c, nil
}

// bumpCustomer adds to a customer's totals.
func bumpCustomer(ctx context.Context, tx *store.Tx, id string, leads, sales, amount int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE customers SET leads = leads + $1, sales = sales + $2, sale_amount = sale_amount + $3,
updated_at = $4 WHERE id = $5`, leads, sales, amount, store.Millis(now), id)
	if err != nil {
		return fmt.Errorf("conversions: bump customer: %w", err)
	}
	return nil
}

// bumpResource adds to the counters of the resource o belongs to. Pages have
// no sales columns: a sale attributed to a page counts on the customer only.
func bumpResource(ctx context.Context, tx *store.Tx, projectID string, o origin, leads, sales, amount int64) error {
	var q string
	var id string
	switch {
	case o.linkID != nil:
		q, id = "UPDATE links SET leads = leads + $1, sales = sales + $2, sale_amount = sale_amount + $3 WHERE id = $4 AND project_id = $5", *o.linkID
	case o.qrcodeID != nil:
		q, id = "UPDATE qrcodes SET leads = leads + $1, sales = sales + $2, sale_amount = sale_amount + $3 WHERE id = $4 AND project_id = $5", *o.qrcodeID
	case o.pageID != nil:
		if leads == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, "UPDATE pages SET leads = leads + $1 WHERE id = $2 AND project_id = $3", leads, *o.pageID, projectID)
		if err != nil {
			return fmt.Errorf("conversions: bump page: %w", err)
		}
		return nil
	default:
		return nil
	}
	if _, err := tx.ExecContext(ctx, q, leads, sales, amount, id, projectID); err != nil {
		return fmt.Errorf("conversions: bump resource: %w", err)
	}
	return nil
}

// resources loads the referral resource of o as q sees it (counters as of now
// in the transaction); a deleted resource is null.
func (s *Service) resources(ctx context.Context, q store.Querier, projectID string, o origin) (link, qrcode, page any, err error) {
	switch {
	case o.linkID != nil && s.opt.Links != nil:
		l, err := s.opt.Links.GetIn(ctx, q, projectID, *o.linkID)
		if err == nil {
			return l, nil, nil, nil
		}
		if errs.KindOf(err) != errs.KindNotFound {
			return nil, nil, nil, err
		}
	case o.qrcodeID != nil && s.opt.QRCodes != nil:
		c, err := s.opt.QRCodes.GetIn(ctx, q, projectID, *o.qrcodeID)
		if err == nil {
			return nil, c, nil, nil
		}
		if errs.KindOf(err) != errs.KindNotFound {
			return nil, nil, nil, err
		}
	case o.pageID != nil && s.opt.Pages != nil:
		p, err := s.opt.Pages.GetIn(ctx, q, projectID, *o.pageID)
		if err == nil {
			return nil, nil, p, nil
		}
		if errs.KindOf(err) != errs.KindNotFound {
			return nil, nil, nil, err
		}
	}
	return nil, nil, nil, nil
}
