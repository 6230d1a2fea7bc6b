package links

import (
	"net/url"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/tags"
)

// Sample returns a realistic link, as link events carry it, for test events:
// the webhook's first selected link id, if any, on the server's short domain.
func Sample(in events.SampleInput) Link {
	prefix, domain := in.ShortBase()
	short := prefix + "/spring"
	dest := "https://shop.example.com/spring?utm_source=newsletter"
	created := in.Now.Add(-6 * 24 * time.Hour)
	return Link{
		ID: events.FirstOr(in.LinkIDs, ids.New("link")), Domain: domain, Key: "spring", URL: dest, ShortLink: short,
		QRCode:    prefix + "/api/qr?url=" + url.QueryEscape(short+"?qr=1"),
		Tags:      []tags.Tag{{ID: ids.New("tag"), Name: "spring", Color: "green"}},
		UTMSource: ref("newsletter"), TrackConversion: true, ProjectID: in.ProjectID,
		Clicks: 42, Leads: 3, Sales: 1, SaleAmount: 4900, LastClicked: ref(in.Now),
		CreatedAt: created, UpdatedAt: in.Now.Add(-24 * time.Hour),
	}
}

// ref returns a pointer to v: the optional fields of a sample.
func ref[T any](v T) *T { return &v }
