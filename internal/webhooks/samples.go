package webhooks

import (
	"net/url"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
)

// The sample objects below mirror webhooks.md §3 field for field, so that a
// test delivery has exactly the shape of a real one. They are separate types
// from the links/qrcodes/pages packages on purpose: the sample test pins them
// to the contract, which then also catches drift in those packages' objects.

type sampleTag struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color"`
}

type sampleLink struct {
	ID                string            `json:"id"`
	Domain            string            `json:"domain"`
	Key               string            `json:"key"`
	URL               string            `json:"url"`
	ShortLink         string            `json:"shortLink"`
	QRCode            string            `json:"qrCode"`
	ExternalID        *string           `json:"externalId"`
	Archived          bool              `json:"archived"`
	ExpiresAt         *time.Time        `json:"expiresAt"`
	ExpiredURL        *string           `json:"expiredUrl"`
	PasswordProtected bool              `json:"passwordProtected"`
	Proxy             bool              `json:"proxy"`
	Title             *string           `json:"title"`
	Description       *string           `json:"description"`
	Image             *string           `json:"image"`
	Video             *string           `json:"video"`
	Rewrite           bool              `json:"rewrite"`
	DoIndex           bool              `json:"doIndex"`
	IOS               *string           `json:"ios"`
	Android           *string           `json:"android"`
	Geo               map[string]string `json:"geo"`
	PublicStats       bool              `json:"publicStats"`
	TrackConversion   bool              `json:"trackConversion"`
	Tags              []sampleTag       `json:"tags"`
	Comments          *string           `json:"comments"`
	UTMSource         *string           `json:"utm_source"`
	UTMMedium         *string           `json:"utm_medium"`
	UTMCampaign       *string           `json:"utm_campaign"`
	UTMTerm           *string           `json:"utm_term"`
	UTMContent        *string           `json:"utm_content"`
	PartnerID         *string           `json:"partnerId"`
	ProjectID         string            `json:"projectId"`
	Clicks            int64             `json:"clicks"`
	Leads             int64             `json:"leads"`
	Sales             int64             `json:"sales"`
	SaleAmount        int64             `json:"saleAmount"`
	LastClicked       *time.Time        `json:"lastClicked"`
	CreatedAt         time.Time         `json:"createdAt"`
	UpdatedAt         time.Time         `json:"updatedAt"`
}

type sampleQRCode struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Static      bool           `json:"static"`
	URL         *string        `json:"url"`
	Content     map[string]any `json:"content"`
	Domain      *string        `json:"domain"`
	Key         *string        `json:"key"`
	ShortLink   *string        `json:"shortLink"`
	Image       string         `json:"image"`
	FgColor     string         `json:"fgColor"`
	BgColor     string         `json:"bgColor"`
	Size        int            `json:"size"`
	Level       string         `json:"level"`
	Margin      int            `json:"margin"`
	Logo        *string        `json:"logo"`
	Title       *string        `json:"title"`
	Description *string        `json:"description"`
	ExternalID  *string        `json:"externalId"`
	Archived    bool           `json:"archived"`
	Tags        []sampleTag    `json:"tags"`
	Comments    *string        `json:"comments"`
	Scans       int64          `json:"scans"`
	LastScanned *time.Time     `json:"lastScanned"`
	Leads       int64          `json:"leads"`
	Sales       int64          `json:"sales"`
	SaleAmount  int64          `json:"saleAmount"`
	ProjectID   string         `json:"projectId"`
	CreatedAt   time.Time      `json:"createdAt"`
	UpdatedAt   time.Time      `json:"updatedAt"`
}

type samplePage struct {
	ID          string           `json:"id"`
	Slug        string           `json:"slug"`
	URL         string           `json:"url"`
	Title       string           `json:"title"`
	Description *string          `json:"description"`
	Blocks      []map[string]any `json:"blocks"`
	Form        *sampleForm      `json:"form"`
	Theme       sampleTheme      `json:"theme"`
	Published   bool             `json:"published"`
	Views       int64            `json:"views"`
	Leads       int64            `json:"leads"`
	ProjectID   string           `json:"projectId"`
	CreatedAt   time.Time        `json:"createdAt"`
	UpdatedAt   time.Time        `json:"updatedAt"`
}

type sampleForm struct {
	Fields         []sampleFormField `json:"fields"`
	SubmitLabel    string            `json:"submitLabel"`
	SuccessMessage string            `json:"successMessage"`
	RedirectURL    *string           `json:"redirectUrl"`
}

type sampleFormField struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

type sampleTheme struct {
	Background string `json:"background"`
	Text       string `json:"text"`
	Accent     string `json:"accent"`
}

type sampleInteraction struct {
	Timestamp       time.Time `json:"timestamp"`
	ClickID         string    `json:"clickId"`
	URL             string    `json:"url"`
	IP              string    `json:"ip"`
	Continent       string    `json:"continent"`
	Country         string    `json:"country"`
	Region          string    `json:"region"`
	City            string    `json:"city"`
	Latitude        *float64  `json:"latitude"`
	Longitude       *float64  `json:"longitude"`
	Device          string    `json:"device"`
	DeviceVendor    string    `json:"deviceVendor"`
	DeviceModel     string    `json:"deviceModel"`
	Browser         string    `json:"browser"`
	BrowserVersion  string    `json:"browserVersion"`
	Engine          string    `json:"engine"`
	EngineVersion   string    `json:"engineVersion"`
	OS              string    `json:"os"`
	OSVersion       string    `json:"osVersion"`
	CPUArchitecture string    `json:"cpuArchitecture"`
	UA              string    `json:"ua"`
	Bot             bool      `json:"bot"`
	QR              bool      `json:"qr"`
	Referer         string    `json:"referer"`
	RefererURL      string    `json:"refererUrl"`
}

type sampleCustomer struct {
	ID         string    `json:"id"`
	ExternalID *string   `json:"externalId"`
	Name       *string   `json:"name"`
	Email      *string   `json:"email"`
	Avatar     *string   `json:"avatar"`
	Country    *string   `json:"country"`
	CreatedAt  time.Time `json:"createdAt"`
}

type sampleLead struct {
	EventName   string             `json:"eventName"`
	Customer    sampleCustomer     `json:"customer"`
	Interaction *sampleInteraction `json:"interaction"`
	Link        *sampleLink        `json:"link"`
	QRCode      *sampleQRCode      `json:"qrcode"`
	Page        *samplePage        `json:"page"`
	Metadata    map[string]any     `json:"metadata"`
}

type sampleSaleData struct {
	EventName   string             `json:"eventName"`
	Customer    sampleCustomer     `json:"customer"`
	Interaction *sampleInteraction `json:"interaction"`
	Link        *sampleLink        `json:"link"`
	QRCode      *sampleQRCode      `json:"qrcode"`
	Page        *samplePage        `json:"page"`
	Sale        sampleSale         `json:"sale"`
	Metadata    map[string]any     `json:"metadata"`
}

type sampleSale struct {
	Amount           int64   `json:"amount"`
	Currency         string  `json:"currency"`
	PaymentProcessor string  `json:"paymentProcessor"`
	InvoiceID        *string `json:"invoiceId"`
}

type samplePartner struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Image     *string   `json:"image"`
	Country   *string   `json:"country"`
	Status    string    `json:"status"`
	ProgramID string    `json:"programId"`
	CreatedAt time.Time `json:"createdAt"`
}

type sampleLinkSummary struct {
	ID         string `json:"id"`
	Domain     string `json:"domain"`
	Key        string `json:"key"`
	ShortLink  string `json:"shortLink"`
	URL        string `json:"url"`
	Clicks     int64  `json:"clicks"`
	Leads      int64  `json:"leads"`
	Sales      int64  `json:"sales"`
	SaleAmount int64  `json:"saleAmount"`
}

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

func (in SampleInput) link() sampleLink {
	prefix, domain := in.base()
	short := prefix + "/spring"
	dest := "https://shop.example.com/spring?utm_source=newsletter"
	created := in.Now.Add(-6 * 24 * time.Hour)
	return sampleLink{
		ID: firstOr(in.Webhook.LinkIDs, ids.New("link")), Domain: domain, Key: "spring", URL: dest, ShortLink: short,
		QRCode:    prefix + "/api/qr?url=" + url.QueryEscape(short+"?qr=1"),
		Tags:      []sampleTag{{ID: ids.New("tag"), Name: "spring", Color: "green"}},
		UTMSource: ptr("newsletter"), TrackConversion: true, ProjectID: in.ProjectID,
		Clicks: 42, Leads: 3, Sales: 1, SaleAmount: 4900, LastClicked: ptr(in.Now),
		CreatedAt: created, UpdatedAt: in.Now.Add(-24 * time.Hour),
	}
}

func (in SampleInput) qrcode() sampleQRCode {
	prefix, domain := in.base()
	short := prefix + "/menu"
	return sampleQRCode{
		ID: firstOr(in.Webhook.QRCodeIDs, ids.New("qr")), Type: "url", Static: false,
		URL: ptr("https://restaurant.example.com/menu"), Content: nil,
		Domain: ptr(domain), Key: ptr("menu"), ShortLink: ptr(short),
		Image:   prefix + "/api/qr?url=" + url.QueryEscape(short),
		FgColor: "#000000", BgColor: "#ffffff", Size: 600, Level: "M", Margin: 4,
		Title: ptr("Table menu"), Tags: []sampleTag{}, ProjectID: in.ProjectID,
		Scans: 17, LastScanned: ptr(in.Now), Leads: 0, Sales: 0, SaleAmount: 0,
		CreatedAt: in.Now.Add(-3 * 24 * time.Hour), UpdatedAt: in.Now.Add(-2 * time.Hour),
	}
}

func (in SampleInput) page() samplePage {
	prefix, _ := in.base()
	return samplePage{
		ID: firstOr(in.Webhook.PageIDs, ids.New("page")), Slug: "spring-launch", URL: prefix + "/p/spring-launch",
		Title: "Spring launch", Description: ptr("Be first to hear about the spring collection."),
		Blocks: []map[string]any{
			{"type": "heading", "text": "Spring is here"},
			{"type": "text", "text": "New colours, new fabrics.\nOut on Monday."},
			{"type": "image", "url": "https://shop.example.com/img/spring.jpg", "alt": "The spring collection"},
			{"type": "button", "label": "Shop now", "url": "https://shop.example.com/spring"},
		},
		Form: &sampleForm{
			Fields: []sampleFormField{
				{Name: "name", Label: "Your name", Type: "text", Required: false},
				{Name: "email", Label: "E-mail", Type: "email", Required: true},
			},
			SubmitLabel: "Notify me", SuccessMessage: "Thanks! We will be in touch.", RedirectURL: nil,
		},
		Theme:     sampleTheme{Background: "#ffffff", Text: "#111827", Accent: "#16a34a"},
		Published: true, Views: 311, Leads: 12, ProjectID: in.ProjectID,
		CreatedAt: in.Now.Add(-10 * 24 * time.Hour), UpdatedAt: in.Now.Add(-5 * time.Hour),
	}
}

func (in SampleInput) interaction(qr bool, dest string) sampleInteraction {
	return sampleInteraction{
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

func (in SampleInput) customer() sampleCustomer {
	return sampleCustomer{
		ID: ids.New("cus"), ExternalID: ptr("user_48213"), Name: ptr("Jane Doe"), Email: ptr("jane@example.com"),
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
		return sampleLead{EventName: "Sign up", Customer: in.customer(), Interaction: &it, Link: &l,
			Metadata: map[string]any{"plan": "trial"}}
	case events.SaleCreated:
		l := in.link()
		it := in.interaction(false, l.URL)
		it.Timestamp = in.Now.Add(-time.Hour)
		return sampleSaleData{EventName: "Purchase", Customer: in.customer(), Interaction: &it, Link: &l,
			Sale:     sampleSale{Amount: 4900, Currency: "usd", PaymentProcessor: "stripe", InvoiceID: ptr("in_1QxSample")},
			Metadata: map[string]any{"order": "A-1042"}}
	case events.PartnerEnrolled:
		l := in.link()
		return map[string]any{
			"partner": samplePartner{ID: ids.New("pn"), Name: "Acme Affiliates", Email: "partners@acme.example",
				Image: nil, Country: ptr("US"), Status: "approved", ProgramID: ids.New("prog"), CreatedAt: in.Now},
			"links": []sampleLinkSummary{{ID: l.ID, Domain: l.Domain, Key: "acme", ShortLink: strings.TrimSuffix(l.ShortLink, "/spring") + "/acme",
				URL: l.URL, Clicks: 0, Leads: 0, Sales: 0, SaleAmount: 0}},
		}
	}
	return nil
}
