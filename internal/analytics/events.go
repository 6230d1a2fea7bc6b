package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tracking"
)

// Event is one raw interaction of GET /api/events: the interaction
// object plus what it was ("click", "scan" or "view") and on which resource
// (the two other ids are null).
type Event struct {
	Kind     string  `json:"kind"`
	LinkID   *string `json:"linkId"`
	QRCodeID *string `json:"qrcodeId"`
	PageID   *string `json:"pageId"`
	tracking.Interaction
}

const eventColumns = `kind, link_id, qrcode_id, page_id, created_at, click_id, url, ip, continent, country, region, city,
latitude, longitude, device, device_vendor, device_model, browser, browser_version, engine, engine_version, os, os_version,
cpu_architecture, ua, bot, qr, referer, referer_url`

// Events lists raw events newest first (ties by id), with the same window,
// resource, dimension and bot filters as Query: interactions ([]Event) for
// clicks, scans and views (all three when event is empty), conversions
// ([]ConversionEvent) for leads and sales. page is 1-based. Raw interactions
// older than the server's --interactions-retention are pruned, so this only
// reaches back that far (analytics counts stay, from the rollups).
func (s *Service) Events(ctx context.Context, projectID string, p Params, page, pageSize int) (any, error) {
	w, err := p.resolve(s.now())
	if err != nil {
		return nil, err
	}
	if err := s.checkResources(ctx, projectID, p); err != nil {
		return nil, err
	}
	res, err := s.resourceSet(ctx, projectID, p)
	if err != nil {
		return nil, err
	}
	if res != nil && len(res) == 0 {
		if p.Event == EventLeads || p.Event == EventSales {
			return []ConversionEvent{}, nil
		}
		return []Event{}, nil
	}
	if p.Event == EventLeads || p.Event == EventSales {
		return s.conversionEvents(ctx, projectID, p, w, res, page, pageSize)
	}
	var b whereBuilder
	b.add("i.project_id = ?", projectID)
	if p.Event != "" {
		b.add("i.kind = ?", kindOf[p.Event])
	}
	if p.IncludeBots {
		b.cond = append(b.cond, "(i.counted OR i.bot)")
	} else {
		b.cond = append(b.cond, "i.counted")
	}
	eventFilters(&b, "i", w, res, p.Filters)
	q := fmt.Sprintf("SELECT %s FROM interactions i WHERE %s ORDER BY i.created_at DESC, i.click_id DESC LIMIT %d OFFSET %d",
		eventColumns, b.sql(), pageSize, (page-1)*pageSize)
	rows, err := s.st.Read().QueryContext(ctx, q, b.args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("analytics: events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: events: %w", err)
	}
	return out, nil
}

// eventFilters adds the window, the resource set (src is the table holding
// the resource columns) and the dimension filters as SQL conditions on the
// interaction i.
func eventFilters(b *whereBuilder, src string, w window, res []string, filters []Filter) {
	if w.start > 0 {
		b.add(src+".created_at >= ?", w.start)
	}
	b.add(src+".created_at < ?", w.end)
	if res != nil {
		b.cond = append(b.cond, b.in("COALESCE("+src+".link_id, "+src+".qrcode_id, "+src+".page_id)", res))
	}
	for _, f := range filters {
		switch f.Dim {
		case rollups.Trigger:
			b.add("i.qr = ?", f.Value == "qr")
		case rollups.Region:
			b.add("i.region = ?", f.Value)
		case rollups.City:
			b.add("i.city = ?", f.Value)
		default:
			b.add("i."+sqlFilterable[f.Dim]+" = ?", f.Value)
		}
	}
}

// ConversionEvent is one lead or sale of GET /api/events, with the
// interaction it is attributed to (click; null when there is none or its raw
// row was pruned) and, for sales, the sale.
type ConversionEvent struct {
	Event      string                `json:"event"` // "lead" or "sale"
	Timestamp  time.Time             `json:"timestamp"`
	EventID    string                `json:"eventId"`
	EventName  string                `json:"eventName"`
	CustomerID string                `json:"customerId"`
	ClickID    *string               `json:"clickId"`
	LinkID     *string               `json:"linkId"`
	QRCodeID   *string               `json:"qrcodeId"`
	PageID     *string               `json:"pageId"`
	Click      *tracking.Interaction `json:"click"`
	Sale       *SaleDetail           `json:"sale,omitempty"`
}

// SaleDetail is the sale part of a sale event.
type SaleDetail struct {
	Amount           int64   `json:"amount"`
	Currency         string  `json:"currency"`
	PaymentProcessor string  `json:"paymentProcessor"`
	InvoiceID        *string `json:"invoiceId"`
}

func (s *Service) conversionEvents(ctx context.Context, projectID string, p Params, w window, res []string, page, pageSize int) ([]ConversionEvent, error) {
	table, kind, extra := "leads", "lead", "0, '', '', NULL"
	if p.Event == EventSales {
		table, kind, extra = "sales", "sale", "c.amount, c.currency, c.payment_processor, c.invoice_id"
	}
	var b whereBuilder
	b.add("c.project_id = ?", projectID)
	eventFilters(&b, "c", w, res, p.Filters)
	var icols []string
	for _, c := range strings.Split(strings.TrimPrefix(eventColumns, "kind, link_id, qrcode_id, page_id, created_at, "), ",") {
		icols = append(icols, "i."+strings.TrimSpace(c))
	}
	q := fmt.Sprintf(`SELECT c.id, c.created_at, c.event_name, c.customer_id, c.click_id, c.link_id, c.qrcode_id, c.page_id, %s,
i.click_id IS NOT NULL, %s FROM %s c LEFT JOIN interactions i ON i.click_id = c.click_id WHERE %s
ORDER BY c.created_at DESC, c.id DESC LIMIT %d OFFSET %d`, extra, strings.Join(icols, ", "), table, b.sql(), pageSize, (page-1)*pageSize)
	rows, err := s.st.Read().QueryContext(ctx, q, b.args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: %s events: %w", kind, err)
	}
	defer rows.Close()
	out := []ConversionEvent{}
	for rows.Next() {
		var (
			e                   = ConversionEvent{Event: kind}
			at                  int64
			click, link, qr, pg sql.NullString
			sd                  SaleDetail
			invoice             sql.NullString
			found               bool
			in                  tracking.Interaction
			clickID, url, ip    sql.NullString
			lat, lon            sql.NullFloat64
			dims                [19]sql.NullString
			bot, isQR           sql.NullBool
		)
		dst := []any{&e.EventID, &at, &e.EventName, &e.CustomerID, &click, &link, &qr, &pg, &sd.Amount, &sd.Currency,
			&sd.PaymentProcessor, &invoice, &found, &clickID, &url, &ip}
		for i := 0; i < 4; i++ {
			dst = append(dst, &dims[i])
		}
		dst = append(dst, &lat, &lon)
		for i := 4; i < 15; i++ {
			dst = append(dst, &dims[i])
		}
		dst = append(dst, &bot, &isQR, &dims[15], &dims[16])
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("analytics: %s events: %w", kind, err)
		}
		e.Timestamp = store.FromMillis(at)
		e.ClickID, e.LinkID, e.QRCodeID, e.PageID = nullString(click), nullString(link), nullString(qr), nullString(pg)
		if kind == "sale" {
			sd.InvoiceID = nullString(invoice)
			e.Sale = &sd
		}
		if found {
			in = tracking.Interaction{ClickID: clickID.String, URL: url.String, IP: ip.String,
				Continent: dims[0].String, Country: dims[1].String, Region: dims[2].String, City: dims[3].String,
				Device: dims[4].String, DeviceVendor: dims[5].String, DeviceModel: dims[6].String, Browser: dims[7].String,
				BrowserVersion: dims[8].String, Engine: dims[9].String, EngineVersion: dims[10].String, OS: dims[11].String,
				OSVersion: dims[12].String, CPUArchitecture: dims[13].String, UA: dims[14].String, Bot: bot.Bool, QR: isQR.Bool,
				Referer: dims[15].String, RefererURL: dims[16].String}
			if lat.Valid {
				in.Latitude = &lat.Float64
			}
			if lon.Valid {
				in.Longitude = &lon.Float64
			}
			// The interaction's own time is not selected: the lead's is the event's.
			in.Timestamp = e.Timestamp
			e.Click = &in
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: %s events: %w", kind, err)
	}
	return out, nil
}

func scanEvent(rows *sql.Rows) (Event, error) {
	var (
		e            Event
		link, qr, pg sql.NullString
		at           int64
		lat, lon     sql.NullFloat64
		in           = &e.Interaction
	)
	err := rows.Scan(&e.Kind, &link, &qr, &pg, &at, &in.ClickID, &in.URL, &in.IP, &in.Continent, &in.Country,
		&in.Region, &in.City, &lat, &lon, &in.Device, &in.DeviceVendor, &in.DeviceModel, &in.Browser,
		&in.BrowserVersion, &in.Engine, &in.EngineVersion, &in.OS, &in.OSVersion, &in.CPUArchitecture, &in.UA,
		&in.Bot, &in.QR, &in.Referer, &in.RefererURL)
	if err != nil {
		return Event{}, err
	}
	e.LinkID, e.QRCodeID, e.PageID = nullString(link), nullString(qr), nullString(pg)
	in.Timestamp = store.FromMillis(at)
	if lat.Valid {
		in.Latitude = &lat.Float64
	}
	if lon.Valid {
		in.Longitude = &lon.Float64
	}
	return e, nil
}

func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}
