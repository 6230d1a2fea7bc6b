package conversions_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tracking"
)

type customerJSON struct {
	ID         string    `json:"id"`
	ExternalID string    `json:"externalId"`
	Name       *string   `json:"name"`
	Email      *string   `json:"email"`
	Avatar     *string   `json:"avatar"`
	Country    *string   `json:"country"`
	CreatedAt  time.Time `json:"createdAt"`
}

type counters struct {
	ID              string `json:"id"`
	Clicks          int64  `json:"clicks"`
	Scans           int64  `json:"scans"`
	Leads           int64  `json:"leads"`
	Sales           int64  `json:"sales"`
	SaleAmount      int64  `json:"saleAmount"`
	TrackConversion bool   `json:"trackConversion"`
	ProjectID       string `json:"projectId"`
}

type eventData struct {
	EventName   string                `json:"eventName"`
	Customer    customerJSON          `json:"customer"`
	Interaction *tracking.Interaction `json:"interaction"`
	Link        *counters             `json:"link"`
	QRCode      *counters             `json:"qrcode"`
	Page        *counters             `json:"page"`
	Sale        *struct {
		Amount           int64   `json:"amount"`
		Currency         string  `json:"currency"`
		PaymentProcessor string  `json:"paymentProcessor"`
		InvoiceID        *string `json:"invoiceId"`
	} `json:"sale"`
	Metadata json.RawMessage `json:"metadata"`
}

type envelope struct {
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	CreatedAt time.Time `json:"createdAt"`
	Data      eventData `json:"data"`
	raw       map[string]any
}

func decodeEnvelope(t *testing.T, payload string) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(payload), &e.raw)
	return e
}

// wantKeys checks that data carries exactly the documented fields.
func wantKeys(t *testing.T, e envelope, keys ...string) {
	t.Helper()
	data, _ := e.raw["data"].(map[string]any)
	if len(data) != len(keys) {
		t.Fatalf("%s data keys %v, want %v", e.Event, data, keys)
	}
	for _, k := range keys {
		if _, ok := data[k]; !ok {
			t.Fatalf("%s data lacks %q", e.Event, k)
		}
	}
}

type leadJSON struct {
	ID        string          `json:"id"`
	EventName string          `json:"eventName"`
	Quantity  int64           `json:"quantity"`
	Customer  customerJSON    `json:"customer"`
	ClickID   *string         `json:"clickId"`
	LinkID    *string         `json:"linkId"`
	QRCodeID  *string         `json:"qrcodeId"`
	Metadata  json.RawMessage `json:"metadata"`
}

type saleJSON struct {
	ID               string       `json:"id"`
	Customer         customerJSON `json:"customer"`
	LeadID           *string      `json:"leadId"`
	Amount           int64        `json:"amount"`
	Currency         string       `json:"currency"`
	PaymentProcessor string       `json:"paymentProcessor"`
	InvoiceID        *string      `json:"invoiceId"`
	ClickID          *string      `json:"clickId"`
	LinkID           *string      `json:"linkId"`
	QRCodeID         *string      `json:"qrcodeId"`
}

type customerDetailJSON struct {
	customerJSON
	Attribution struct {
		ClickID     *string               `json:"clickId"`
		Kind        *string               `json:"kind"`
		LinkID      *string               `json:"linkId"`
		QRCodeID    *string               `json:"qrcodeId"`
		PageID      *string               `json:"pageId"`
		Interaction *tracking.Interaction `json:"interaction"`
	} `json:"attribution"`
	Leads      int64 `json:"leads"`
	Sales      int64 `json:"sales"`
	SaleAmount int64 `json:"saleAmount"`
}

func clickIDFrom(t *testing.T, resp *http.Response) string {
	t.Helper()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	id := u.Query().Get("cq_id")
	if len(id) != 16 {
		t.Fatalf("Location %q has no cq_id", resp.Header.Get("Location"))
	}
	return id
}

func str(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestLinkFunnel: link with trackConversion → click through the public
// handler → lead with the cq_id of the redirect (while the click is still
// buffered) → sale; payloads checked field by field from the events table.
func TestLinkFunnel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		var link counters
		e.mustAPI(t, "POST", "/api/links", e.key1, `{"url":"https://shop.example.com/spring?utm_source=newsletter","key":"spring","trackConversion":true}`, 200, &link)
		resp := e.open(t, "/spring")
		clickID := clickIDFrom(t, resp)
		if e.pipe.Pending() != 1 {
			t.Fatalf("pending = %d: the click should still be buffered", e.pipe.Pending())
		}

		leadBody := fmt.Sprintf(`{"clickId":%q,"eventName":"Sign up","customerExternalId":"user_48213","customerName":"Jane Doe","customerEmail":"jane@example.com","metadata":{"plan":"trial"}}`, clickID)
		var lead leadJSON
		first := e.mustAPI(t, "POST", "/api/track/lead", e.key1, leadBody, 200, &lead)
		if lead.EventName != "Sign up" || lead.Quantity != 1 || str(lead.ClickID) != clickID || str(lead.LinkID) != link.ID ||
			lead.Customer.ExternalID != "user_48213" || !strings.HasPrefix(lead.Customer.ID, "cus_") || !strings.HasPrefix(lead.ID, "lead_") ||
			string(lead.Metadata) != `{"plan":"trial"}` {
			t.Fatalf("lead answer %s", first)
		}
		click := e.recorded(t, clickID)
		if click.URL != resp.Header.Get("Location") || click.OS != "iOS" || click.QR || click.Bot {
			t.Fatalf("recorded click %+v", click)
		}

		leads := e.payloads(t, e.p1, events.LeadCreated)
		if len(leads) != 1 {
			t.Fatalf("%d lead.created events", len(leads))
		}
		le := decodeEnvelope(t, leads[0])
		wantKeys(t, le, "eventName", "customer", "interaction", "link", "qrcode", "page", "metadata")
		var wantCountry *string
		if click.Country != tracking.Unknown {
			wantCountry = &click.Country
		}
		name, email := "Jane Doe", "jane@example.com"
		wantCustomer := customerJSON{ID: lead.Customer.ID, ExternalID: "user_48213", Name: &name, Email: &email, Country: wantCountry,
			CreatedAt: lead.Customer.CreatedAt}
		if le.Event != "lead.created" || le.Data.EventName != "Sign up" || string(le.Data.Metadata) != `{"plan":"trial"}` {
			t.Fatalf("lead.created %s", leads[0])
		}
		jsonEq(t, "lead.created customer", le.Data.Customer, wantCustomer)
		jsonEq(t, "lead.created interaction", le.Data.Interaction, click)
		if l := le.Data.Link; l == nil || l.ID != link.ID || l.Clicks != 1 || l.Leads != 1 || l.Sales != 0 || l.SaleAmount != 0 ||
			!l.TrackConversion || l.ProjectID != e.p1 || le.Data.QRCode != nil || le.Data.Page != nil {
			t.Fatalf("lead.created resources %s", leads[0])
		}

		// The same (customer, eventName) again: 200, same answer, nothing new.
		if status, again := e.api(t, "POST", "/api/track/lead", e.key1, leadBody); status != 200 {
			t.Fatalf("repeat lead: %d %s", status, again)
		} else {
			var a, b any
			_ = json.Unmarshal([]byte(first), &a)
			_ = json.Unmarshal([]byte(again), &b)
			jsonEq(t, "repeated lead answer", b, a)
		}
		// A lead for the known customer needs no clickId: attributed to the first click.
		var lead2 leadJSON
		e.mustAPI(t, "POST", "/api/track/lead", e.key1, `{"eventName":"Activated","customerExternalId":"user_48213","eventQuantity":2}`, 200, &lead2)
		if str(lead2.ClickID) != clickID || str(lead2.LinkID) != link.ID || lead2.Quantity != 2 {
			t.Fatalf("lead without clickId: %+v", lead2)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM leads WHERE project_id = $1", e.p1); n != 2 {
			t.Fatalf("%d leads", n)
		}
		if n := len(e.payloads(t, e.p1, events.LeadCreated)); n != 2 {
			t.Fatalf("%d lead.created", n)
		}

		var sl saleJSON
		e.mustAPI(t, "POST", "/api/track/sale", e.key1, `{"customerExternalId":"user_48213","amount":4999,"currency":"EUR","paymentProcessor":"stripe","invoiceId":"inv_1","metadata":{"order":"o1"}}`, 200, &sl)
		if sl.Amount != 4999 || sl.Currency != "eur" || sl.PaymentProcessor != "stripe" || str(sl.InvoiceID) != "inv_1" ||
			str(sl.LeadID) != lead.ID || str(sl.ClickID) != clickID || str(sl.LinkID) != link.ID || sl.Customer.ID != lead.Customer.ID {
			t.Fatalf("sale answer %+v", sl)
		}
		sales := e.payloads(t, e.p1, events.SaleCreated)
		if len(sales) != 1 {
			t.Fatalf("%d sale.created", len(sales))
		}
		se := decodeEnvelope(t, sales[0])
		wantKeys(t, se, "eventName", "customer", "interaction", "link", "qrcode", "page", "sale", "metadata")
		if se.Event != "sale.created" || se.Data.EventName != "Purchase" || string(se.Data.Metadata) != `{"order":"o1"}` ||
			se.Data.Sale == nil || se.Data.Sale.Amount != 4999 || se.Data.Sale.Currency != "eur" ||
			se.Data.Sale.PaymentProcessor != "stripe" || str(se.Data.Sale.InvoiceID) != "inv_1" {
			t.Fatalf("sale.created %s", sales[0])
		}
		jsonEq(t, "sale.created customer", se.Data.Customer, wantCustomer)
		jsonEq(t, "sale.created interaction", se.Data.Interaction, click)
		if l := se.Data.Link; l == nil || l.ID != link.ID || l.Leads != 3 || l.Sales != 1 || l.SaleAmount != 4999 || se.Data.QRCode != nil {
			t.Fatalf("sale.created link %s", sales[0])
		}
		var got counters
		e.mustAPI(t, "GET", "/api/links/"+link.ID, e.key1, "", 200, &got)
		if got.Clicks != 1 || got.Leads != 3 || got.Sales != 1 || got.SaleAmount != 4999 {
			t.Fatalf("link counters %+v", got)
		}

		// Customers: list with filters, get with attribution and totals; other project sees nothing.
		var list []customerDetailJSON
		e.mustAPI(t, "GET", "/api/customers?externalId=user_48213", e.key1, "", 200, &list)
		if len(list) != 1 {
			t.Fatalf("list %+v", list)
		}
		e.mustAPI(t, "GET", "/api/customers?email=jane@example.com&page=1&pageSize=10", e.key1, "", 200, &list)
		if len(list) != 1 {
			t.Fatalf("list by email %+v", list)
		}
		var c customerDetailJSON
		e.mustAPI(t, "GET", "/api/customers/"+lead.Customer.ID, e.key1, "", 200, &c)
		if str(c.Attribution.ClickID) != clickID || str(c.Attribution.Kind) != "link" || str(c.Attribution.LinkID) != link.ID ||
			c.Attribution.QRCodeID != nil || c.Leads != 3 || c.Sales != 1 || c.SaleAmount != 4999 {
			t.Fatalf("customer %+v", c)
		}
		jsonEq(t, "customer attribution interaction", c.Attribution.Interaction, click)
		jsonEq(t, "listed customer", list[0], c)
		e.mustAPI(t, "GET", "/api/customers/"+lead.Customer.ID, e.key2, "", 404, nil)
		e.mustAPI(t, "GET", "/api/customers?externalId=user_48213", e.key2, "", 200, &list)
		if len(list) != 0 {
			t.Fatalf("other project lists %+v", list)
		}
		e.mustAPI(t, "GET", "/api/customers", e.keyNoConvert, "", 403, nil)
		e.mustAPI(t, "POST", "/api/track/lead", e.keyNoConvert, leadBody, 403, nil)
	})
}

// TestQRCodeFunnel: a scan of a dynamic QR code, then a first sale with its
// clickId, which creates the customer and the lead too.
func TestQRCodeFunnel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		var qr counters
		e.mustAPI(t, "POST", "/api/qrcodes", e.key1, `{"type":"url","url":"https://example.com/menu","key":"menu"}`, 201, &qr)
		e.open(t, "/menu")
		if err := e.pipe.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		var clickID string
		if err := st.Read().QueryRowContext(t.Context(), "SELECT click_id FROM interactions WHERE qrcode_id = $1", qr.ID).Scan(&clickID); err != nil {
			t.Fatal(err)
		}
		scan := e.recorded(t, clickID)
		var sl saleJSON
		e.mustAPI(t, "POST", "/api/track/sale", e.key1, fmt.Sprintf(`{"customerExternalId":"u_qr","clickId":%q,"amount":1000,"currency":"usd","invoiceId":"inv_qr"}`, clickID), 200, &sl)
		if sl.LeadID == nil || str(sl.QRCodeID) != qr.ID || sl.LinkID != nil || sl.PaymentProcessor != "custom" {
			t.Fatalf("sale %+v", sl)
		}
		leads, sales := e.payloads(t, e.p1, events.LeadCreated), e.payloads(t, e.p1, events.SaleCreated)
		if len(leads) != 1 || len(sales) != 1 {
			t.Fatalf("%d lead.created, %d sale.created", len(leads), len(sales))
		}
		le, se := decodeEnvelope(t, leads[0]), decodeEnvelope(t, sales[0])
		jsonEq(t, "lead interaction", le.Data.Interaction, scan)
		jsonEq(t, "sale interaction", se.Data.Interaction, scan)
		if !scan.QR || le.Data.EventName != "Sign up" || le.Data.Link != nil || le.Data.QRCode == nil ||
			le.Data.QRCode.ID != qr.ID || le.Data.QRCode.Scans != 1 || le.Data.QRCode.Leads != 1 || le.Data.QRCode.Sales != 0 {
			t.Fatalf("lead.created %s", leads[0])
		}
		if se.Data.QRCode == nil || se.Data.QRCode.Leads != 1 || se.Data.QRCode.Sales != 1 || se.Data.QRCode.SaleAmount != 1000 ||
			se.Data.Sale.Currency != "usd" || se.Data.Customer.ID != sl.Customer.ID || le.Data.Customer.ID != sl.Customer.ID {
			t.Fatalf("sale.created %s", sales[0])
		}
		var c customerDetailJSON
		e.mustAPI(t, "GET", "/api/customers/"+sl.Customer.ID, e.key1, "", 200, &c)
		if str(c.Attribution.Kind) != "qrcode" || str(c.Attribution.QRCodeID) != qr.ID || c.Leads != 1 || c.Sales != 1 || c.SaleAmount != 1000 {
			t.Fatalf("customer %+v", c)
		}
		// A second sale without clickId and without invoiceId: no new lead.
		e.mustAPI(t, "POST", "/api/track/sale", e.key1, `{"customerExternalId":"u_qr","amount":0}`, 200, &sl)
		if n := e.count(t, "SELECT COUNT(*) FROM leads"); n != 1 {
			t.Fatalf("%d leads", n)
		}
		if n := e.count(t, "SELECT sales FROM qrcodes WHERE id = $1", qr.ID); n != 2 {
			t.Fatalf("qr sales %d", n)
		}
	})
}

// TestConcurrentIdenticalSales: 50 identical requests for a new customer with
// a clickId and one invoiceId → one customer, one lead, one sale, one event each.
func TestConcurrentIdenticalSales(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		var link counters
		e.mustAPI(t, "POST", "/api/links", e.key1, `{"url":"https://shop.example.com/","key":"c","trackConversion":true}`, 200, &link)
		clickID := clickIDFrom(t, e.open(t, "/c"))
		body := fmt.Sprintf(`{"customerExternalId":"u_c","clickId":%q,"amount":2500,"currency":"gbp","invoiceId":"inv_c"}`, clickID)
		const n = 50
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			saleIDs = map[string]bool{}
			fails   []string
		)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				status, resp := e.api(t, "POST", "/api/track/sale", e.key1, body)
				var sl saleJSON
				_ = json.Unmarshal([]byte(resp), &sl)
				mu.Lock()
				defer mu.Unlock()
				if status != 200 { // Dub's status, for the new sale and its repeats alike
					fails = append(fails, fmt.Sprintf("%d %s", status, resp))
				}
				saleIDs[sl.ID] = true
			})
		}
		close(start)
		wg.Wait()
		if len(fails) > 0 || len(saleIDs) != 1 {
			t.Fatalf("sale ids=%v failures=%v", saleIDs, fails)
		}
		for q, want := range map[string]int{
			"SELECT COUNT(*) FROM sales":                              1,
			"SELECT COUNT(*) FROM leads":                              1,
			"SELECT COUNT(*) FROM customers":                          1,
			"SELECT COUNT(*) FROM events WHERE type = 'sale.created'": 1,
			"SELECT COUNT(*) FROM events WHERE type = 'lead.created'": 1,
			"SELECT sales FROM customers":                             1,
			"SELECT sale_amount FROM customers":                       2500,
		} {
			if got := e.count(t, q); got != want {
				t.Errorf("%s = %d, want %d", q, got, want)
			}
		}
		if got := e.count(t, "SELECT sale_amount FROM links WHERE id = $1", link.ID); got != 2500 {
			t.Errorf("link sale_amount %d", got)
		}
		// Repeated leads, also concurrent: one lead.
		lb := `{"eventName":"Trial","customerExternalId":"u_c"}`
		var wg2 sync.WaitGroup
		for range 10 {
			wg2.Go(func() {
				if status, resp := e.api(t, "POST", "/api/track/lead", e.key1, lb); status != 200 && status != 201 {
					t.Errorf("lead: %d %s", status, resp)
				}
			})
		}
		wg2.Wait()
		if got := e.count(t, "SELECT COUNT(*) FROM leads WHERE event_name = 'Trial'"); got != 1 {
			t.Errorf("%d Trial leads", got)
		}
		if got := e.count(t, "SELECT leads FROM links WHERE id = $1", link.ID); got != 2 {
			t.Errorf("link leads %d, want 2", got)
		}
	})
}

// TestBadInput: every refusal is clear and writes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.mustAPI(t, "POST", "/api/links", e.key1, `{"url":"https://shop.example.com/","key":"b","trackConversion":true}`, 200, nil)
		clickID := clickIDFrom(t, e.open(t, "/b"))
		big := `{"k":"` + strings.Repeat("x", 10_000) + `"}`
		cases := []struct {
			name, path, key, body string
			status                int
			msg                   string
		}{
			{"negative amount", "sale", e.key1, `{"customerExternalId":"u","clickId":"` + clickID + `","amount":-1}`, 422, "negative"},
			{"fractional amount", "sale", e.key1, `{"customerExternalId":"u","clickId":"` + clickID + `","amount":19.99}`, 422, "integer"},
			{"string amount", "sale", e.key1, `{"customerExternalId":"u","clickId":"` + clickID + `","amount":"100"}`, 422, "integer"},
			{"missing amount", "sale", e.key1, `{"customerExternalId":"u","clickId":"` + clickID + `"}`, 422, "amount is required"},
			{"unknown currency", "sale", e.key1, `{"customerExternalId":"u","clickId":"` + clickID + `","amount":1,"currency":"xyz"}`, 422, "ISO 4217"},
			{"bad processor", "sale", e.key1, `{"customerExternalId":"u","clickId":"` + clickID + `","amount":1,"paymentProcessor":"cash"}`, 422, "paymentProcessor"},
			{"oversized sale metadata", "sale", e.key1, `{"customerExternalId":"u","clickId":"` + clickID + `","amount":1,"metadata":` + big + `}`, 422, "10000"},
			{"missing customer on sale", "sale", e.key1, `{"clickId":"` + clickID + `","amount":1}`, 422, "customerExternalId is required"},
			{"unknown customer, no clickId", "sale", e.key1, `{"customerExternalId":"nobody","amount":1}`, 404, "clickId"},
			{"foreign clickId on sale", "sale", e.key2, `{"customerExternalId":"u","clickId":"` + clickID + `","amount":1}`, 404, "clickId " + clickID + " not found"},
			{"oversized lead metadata", "lead", e.key1, `{"clickId":"` + clickID + `","eventName":"x","customerExternalId":"u","metadata":` + big + `}`, 422, "10000"},
			{"metadata not an object", "lead", e.key1, `{"clickId":"` + clickID + `","eventName":"x","customerExternalId":"u","metadata":[1]}`, 422, "object"},
			{"missing customer on lead", "lead", e.key1, `{"clickId":"` + clickID + `","eventName":"x"}`, 422, "customerExternalId is required"},
			{"long external id", "lead", e.key1, `{"clickId":"` + clickID + `","eventName":"x","customerExternalId":"` + strings.Repeat("u", 101) + `"}`, 422, "100"},
			{"missing event name", "lead", e.key1, `{"clickId":"` + clickID + `","customerExternalId":"u"}`, 422, "eventName is required"},
			{"long event name", "lead", e.key1, `{"clickId":"` + clickID + `","eventName":"` + strings.Repeat("e", 256) + `","customerExternalId":"u"}`, 422, "255"},
			{"quantity", "lead", e.key1, `{"clickId":"` + clickID + `","eventName":"x","customerExternalId":"u","eventQuantity":101}`, 422, "eventQuantity"},
			{"unknown clickId", "lead", e.key1, `{"clickId":"AAAAAAAAAAAAAAAA","eventName":"x","customerExternalId":"u"}`, 404, "not found"},
			{"malformed clickId", "lead", e.key1, `{"clickId":"short","eventName":"x","customerExternalId":"u"}`, 422, "clickId"},
			{"foreign clickId on lead", "lead", e.key2, `{"clickId":"` + clickID + `","eventName":"x","customerExternalId":"u"}`, 404, "not found"},
			{"new customer, no clickId", "lead", e.key1, `{"eventName":"x","customerExternalId":"u"}`, 404, "clickId"},
			{"unknown field", "lead", e.key1, `{"clickId":"` + clickID + `","eventName":"x","customerExternalId":"u","foo":1}`, 400, "unknown field"},
		}
		for _, c := range cases {
			status, resp := e.api(t, "POST", "/api/track/"+c.path, c.key, c.body)
			if status != c.status || !strings.Contains(resp, c.msg) || !strings.Contains(resp, `"error"`) {
				t.Errorf("%s: %d %s; want %d containing %q", c.name, status, resp, c.status, c.msg)
			}
		}
		for _, table := range []string{"customers", "leads", "sales", "events WHERE type IN ('lead.created', 'sale.created')"} {
			if n := e.count(t, "SELECT COUNT(*) FROM "+table); n != 0 {
				t.Errorf("%s: %d rows after refused requests", table, n)
			}
		}
		if n := e.count(t, "SELECT leads + sales + sale_amount FROM links"); n != 0 {
			t.Errorf("link counters moved: %d", n)
		}
	})
}
