package qrcodes

import (
	"net/url"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/tags"
)

// Sample returns a realistic dynamic QR code, as QR code events carry it, for
// test events: the webhook's first selected QR code id, if any.
func Sample(in events.SampleInput) QRCode {
	prefix, domain := in.ShortBase()
	short := prefix + "/menu"
	return QRCode{
		ID: events.FirstOr(in.QRCodeIDs, ids.New("qr")), Type: TypeURL, Static: false,
		URL: ref("https://restaurant.example.com/menu"), Content: nil,
		Domain: ref(domain), Key: ref("menu"), ShortLink: ref(short),
		Image:   prefix + "/api/qr?url=" + url.QueryEscape(short),
		FgColor: "#000000", BgColor: "#ffffff", Size: 600, Level: "M", Margin: 4,
		Title: ref("Table menu"), Tags: []tags.Tag{}, ProjectID: in.ProjectID,
		Scans: 17, LastScanned: ref(in.Now), Leads: 0, Sales: 0, SaleAmount: 0,
		CreatedAt: in.Now.Add(-3 * 24 * time.Hour), UpdatedAt: in.Now.Add(-2 * time.Hour),
	}
}

// SampleEvent is the data of a sample qrcode.created, .updated or .deleted.
func SampleEvent(in events.SampleInput) any { return map[string]any{"qrcode": Sample(in)} }

// ref returns a pointer to v: the optional fields of a sample.
func ref[T any](v T) *T { return &v }
