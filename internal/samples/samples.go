// Package samples assembles the sample data of every event type, for the
// test events of POST /api/webhooks/{id}/test, from the domain packages that
// own the types: each builds its samples from the very types it puts into
// real events, so a test delivery has exactly the shape of a real one and
// follows those types when they change. The wiring hands All to the webhooks
// service, which thus imports no domain package.
package samples

import (
	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/tracking"
)

// All returns a Sampler for each event type.
func All() events.Samples {
	link := func(in events.SampleInput) any { return links.Sample(in) }
	return events.Samples{
		events.LinkCreated:   link,
		events.LinkUpdated:   link,
		events.LinkDeleted:   link,
		events.QRCodeCreated: qrcodes.SampleEvent,
		events.QRCodeUpdated: qrcodes.SampleEvent,
		events.QRCodeDeleted: qrcodes.SampleEvent,
		events.PageCreated:   pages.SampleEvent,
		events.PageUpdated:   pages.SampleEvent,
		events.PageDeleted:   pages.SampleEvent,
		// The interaction events carry the interaction and its resource,
		// under the keys the interaction pipeline writes.
		events.LinkClicked: func(in events.SampleInput) any {
			l := links.Sample(in)
			return map[string]any{"interaction": tracking.SampleInteraction(in.Now, false, l.URL), "link": l}
		},
		events.QRCodeScanned: func(in events.SampleInput) any {
			q := qrcodes.Sample(in)
			return map[string]any{"interaction": tracking.SampleInteraction(in.Now, true, *q.URL), "qrcode": q}
		},
		events.PageVisited: func(in events.SampleInput) any {
			p := pages.Sample(in)
			return map[string]any{"interaction": tracking.SampleInteraction(in.Now, false, p.URL), "page": p}
		},
		events.LeadCreated:     func(in events.SampleInput) any { return conversions.SampleLead(in) },
		events.SaleCreated:     func(in events.SampleInput) any { return conversions.SampleSale(in) },
		events.PartnerEnrolled: func(in events.SampleInput) any { return partners.SampleEnrolled(in) },
	}
}
