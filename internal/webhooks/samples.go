package webhooks

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/tracking"
)

// The samples are built from the very types the emitting packages put into
// real events (links.Link, qrcodes.QRCode, pages.Page, tracking.Interaction,
// conversions.LeadEventData/SaleEventData, partners.Enrolled), so a test
// delivery has exactly the shape of a real one and follows those types when
// they change. samples_test.go pins the resulting key sets to webhooks.md §3.
// None of those packages imports webhooks, so there is no import cycle.

// SampleInput personalises a sample: the project, the server's short domain,
// the time, and the webhook (its selected resources become the sample's ids).
type SampleInput struct {
	ProjectID string
	BaseURL   string
	Now       time.Time
	Webhook   Webhook
}

func ptr[T any](v T) *T { return &v }

// base returns the scheme-and-host prefix of short links and their domain.
func (in SampleInput) base() (prefix, domain string) {
	u, err := url.Parse(strings.TrimSpace(in.BaseURL))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "https://go.example.com", "go.example.com"
	}
	return u.Scheme + "://" + u.Host, u.Host
}

func firstOr(list []string, fallback string) string {
	if len(list) > 0 {
		return list[0]
	}
	return fallback
}

func (in SampleInput) link() links.Link {
	prefix, domain := in.base()
	short := prefix + "/spring"
	dest := "https://shop.example.com/spring?utm_source=newsletter"
	created := in.Now.Add(-6 * 24 * time.Hour)
	tag := tags.Tag{ID: ids.New("tag"), Name: "spring", Color: "green"}
	webhookIDs := []string{}
	if len(in.Webhook.LinkIDs) > 0 && in.Webhook.ID != "" {
		webhookIDs = []string{in.Webhook.ID}
	}
	return links.Link{
		ID: firstOr(in.Webhook.LinkIDs, ids.New("link")), Domain: domain, Key: "spring", URL: dest, ShortLink: short,
		QRCode: prefix + "/api/qr?url=" + url.QueryEscape(short+"?qr=1"),
		Tags:   []tags.Tag{tag}, TagID: &tag.ID,
		UTMSource: ptr("newsletter"), TrackConversion: true, ProjectID: in.ProjectID, WorkspaceID: in.ProjectID,
		Clicks: 42, Leads: 3, Sales: 1, SaleAmount: 4900, Conversions: 1, LastClicked: ptr(in.Now), WebhookIDs: webhookIDs,
		CreatedAt: created, UpdatedAt: in.Now.Add(-24 * time.Hour),
	}
}

func (in SampleInput) qrcode() qrcodes.QRCode {
	prefix, domain := in.base()
	short := prefix + "/menu"
	return qrcodes.QRCode{
		ID: firstOr(in.Webhook.QRCodeIDs, ids.New("qr")), Type: qrcodes.TypeURL, Static: false,
		URL: ptr("https://restaurant.example.com/menu"), Content: nil,
		Domain: ptr(domain), Key: ptr("menu"), ShortLink: ptr(short),
		Image:   prefix + "/api/qr?url=" + url.QueryEscape(short),
		FgColor: "#000000", BgColor: "#ffffff", Size: 600, Level: "M", Margin: 4,
		Title: ptr("Table menu"), Tags: []tags.Tag{}, ProjectID: in.ProjectID,
		Scans: 17, LastScanned: ptr(in.Now), Leads: 0, Sales: 0, SaleAmount: 0,
		CreatedAt: in.Now.Add(-3 * 24 * time.Hour), UpdatedAt: in.Now.Add(-2 * time.Hour),
	}
}

func (in SampleInput) page() pages.Page {
	prefix, _ := in.base()
	return pages.Page{
		ID: firstOr(in.Webhook.PageIDs, ids.New("page")), Slug: "spring-launch", URL: prefix + "/p/spring-launch",
		Title: "Spring launch", Description: ptr("Be first to hear about the spring collection."),
		Blocks: []pages.Block{
			{Type: pages.BlockHeading, Text: ptr("Spring is here")},
			{Type: pages.BlockText, Text: ptr("New colours, new fabrics.\nOut on Monday.")},
			{Type: pages.BlockImage, URL: ptr("https://shop.example.com/img/spring.jpg"), Alt: ptr("The spring collection")},
			{Type: pages.BlockButton, Label: ptr("Shop now"), URL: ptr("https://shop.example.com/spring")},
		},
		Form: &pages.Form{
			Fields: []pages.FormField{
				{Name: "name", Label: "Your name", Type: "text", Required: false},
				{Name: "email", Label: "E-mail", Type: "email", Required: true},
			},
			SubmitLabel: "Notify me", SuccessMessage: "Thanks! We will be in touch.", RedirectURL: nil,
		},
		Theme:     pages.Theme{Background: "#ffffff", Text: "#111827", Accent: "#16a34a"},
		Published: true, Views: 311, Leads: 12, ProjectID: in.ProjectID,
		CreatedAt: in.Now.Add(-10 * 24 * time.Hour), UpdatedAt: in.Now.Add(-5 * time.Hour),
	}
}

func (in SampleInput) interaction(qr bool, dest string) tracking.Interaction {
	return tracking.Interaction{
		Timestamp: in.Now, ClickID: ids.ClickID(), URL: dest, IP: "8.8.8.8",
		Continent: "NA", Country: "US", Region: "CA", City: "Mountain View",
		Latitude: ptr(37.386), Longitude: ptr(-122.0838),
		Device: "Mobile", DeviceVendor: "Apple", DeviceModel: "iPhone",
		Browser: "Mobile Safari", BrowserVersion: "17.5", Engine: "WebKit", EngineVersion: "605.1.15",
		OS: "iOS", OSVersion: "17.5", CPUArchitecture: "Unknown",
		UA:  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		Bot: false, QR: qr, Referer: "twitter.com", RefererURL: "https://www.twitter.com/someone/status/1",
	}
}

func (in SampleInput) customer() conversions.Customer {
	return conversions.Customer{
		ID: ids.New("cus"), ExternalID: "user_48213", Name: ptr("Jane Doe"), Email: ptr("jane@example.com"),
		Avatar: nil, Country: ptr("US"), CreatedAt: in.Now,
	}
}

// Sample returns the data of a realistic event of type t, shaped exactly as
// webhooks.md §1 and §3 say (nil for an unknown type).
func Sample(t events.Type, in SampleInput) any {
	in.Now = in.Now.UTC().Truncate(time.Millisecond)
	if in.Now.IsZero() {
		in.Now = time.Now().UTC().Truncate(time.Millisecond)
	}
	switch t {
	case events.LinkCreated, events.LinkUpdated, events.LinkDeleted:
		return in.link()
	case events.QRCodeCreated, events.QRCodeUpdated, events.QRCodeDeleted:
		return map[string]any{"qrcode": in.qrcode()}
	case events.PageCreated, events.PageUpdated, events.PageDeleted:
		return map[string]any{"page": in.page()}
	case events.LinkClicked:
		l := in.link()
		return map[string]any{"interaction": in.interaction(false, l.URL), "link": l}
	case events.QRCodeScanned:
		q := in.qrcode()
		return map[string]any{"interaction": in.interaction(true, *q.URL), "qrcode": q}
	case events.PageVisited:
		p := in.page()
		return map[string]any{"interaction": in.interaction(false, p.URL), "page": p}
	case events.LeadCreated:
		l := in.link()
		it := in.interaction(false, l.URL)
		it.Timestamp = in.Now.Add(-5 * time.Minute)
		return conversions.LeadEventData{EventName: "Sign up", Customer: in.customer(), Interaction: &it, Link: l,
			Metadata: json.RawMessage(`{"plan":"trial"}`)}
	case events.SaleCreated:
		l := in.link()
		it := in.interaction(false, l.URL)
		it.Timestamp = in.Now.Add(-time.Hour)
		return conversions.SaleEventData{EventName: "Purchase", Customer: in.customer(), Interaction: &it, Link: l,
			Sale:     conversions.SaleObject{Amount: 4900, Currency: "usd", PaymentProcessor: "stripe", InvoiceID: ptr("in_1QxSample")},
			Metadata: json.RawMessage(`{"order":"A-1042"}`)}
	case events.PartnerEnrolled:
		l := in.link()
		return partners.Enrolled{
			Partner: partners.Partner{ID: ids.New("pn"), Name: "Acme Affiliates", Email: "partners@acme.example",
				Image: nil, Country: ptr("US"), Status: partners.StatusApproved, ProgramID: ids.New("prog"), CreatedAt: in.Now},
			Links: []partners.LinkSummary{{ID: l.ID, Domain: l.Domain, Key: "acme", ShortLink: strings.TrimSuffix(l.ShortLink, "/spring") + "/acme",
				URL: l.URL, Clicks: 0, Leads: 0, Sales: 0, SaleAmount: 0}},
		}
	}
	return nil
}
