package analytics

import (
	"context"
	"database/sql"
	"fmt"

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

// Events lists interactions newest first (ties by clickId), with the same
// window, resource and bot filters as Query. page is 1-based.
func (s *Service) Events(ctx context.Context, projectID string, p Params, page, pageSize int) ([]Event, error) {
	w, err := p.resolve(s.now())
	if err != nil {
		return nil, err
	}
	if err := s.checkResources(ctx, projectID, p); err != nil {
		return nil, err
	}
	f := filter{projectID: projectID, w: w, p: p}
	var kinds []string
	if p.Event != "" {
		kinds = []string{kindOf[p.Event]}
	}
	where, args := f.interactions(kinds...)
	q := fmt.Sprintf("SELECT %s FROM interactions WHERE %s ORDER BY created_at DESC, click_id DESC LIMIT %d OFFSET %d",
		eventColumns, where, pageSize, (page-1)*pageSize)
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
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
