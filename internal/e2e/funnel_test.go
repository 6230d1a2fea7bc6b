package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// funnelVisit is what one funnel starts from: the resource the visitor came
// through and the interaction of that visit as its webhook delivered it.
type funnelVisit struct {
	kind        string // "link", "qrcode" or "page"
	resourceID  string
	clickID     string
	interaction obj
}

// The whole conversion funnel through the real binary behind a trusted proxy,
// from a short link with trackConversion, a dynamic QR code scan and a hosted
// page view: the visit's clickId, a lead tracked with it, then a sale for the
// same customer. lead.created and sale.created carry the very interaction
// that was delivered for the visit, the customer, the sale and the referral
// resource with its counters already bumped, and are signed both ways.
func TestFunnelEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		rcv := newReceiver(t)
		srv := startServer(t, databaseURL, dataDir, "--trusted-proxies", "127.0.0.1/32")
		c := srv.client(srv.createKey("e2e"))

		link := c.must(http.MethodPost, "/api/links", map[string]any{"url": "https://example.com/pricing?ref=e2e", "trackConversion": true}, http.StatusOK)
		if tc, _ := link.get("trackConversion").v.(bool); !tc {
			t.Fatalf("link answered trackConversion false: %s", link)
		}
		qr := c.must(http.MethodPost, "/api/qrcodes", map[string]any{"type": "url", "url": "https://example.com/qr"}, http.StatusCreated)
		page := c.must(http.MethodPost, "/api/pages", map[string]any{
			"title": "Funnel page", "published": true,
			"blocks": []any{map[string]any{"type": "heading", "text": "Sign up today"}},
		}, http.StatusCreated)
		wh := c.must(http.MethodPost, "/api/webhooks", map[string]any{
			"name": "funnel", "url": rcv.URL(),
			"triggers": []string{"lead.created", "sale.created", "link.clicked", "qrcode.scanned", "page.visited"},
			"linkIds":  []string{link.str("id")}, "qrcodeIds": []string{qr.str("id")}, "pageIds": []string{page.str("id")},
		}, http.StatusCreated)
		secret := wh.str("secret")

		// From a click: cq_id comes back in the redirect's Location.
		resp, _ := visit(t, link.str("shortLink"), "8.8.8.8", iPhoneSafariUA)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("click: status %d", resp.StatusCode)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Host != "example.com" || loc.Path != "/pricing" || loc.Query().Get("ref") != "e2e" {
			t.Fatalf("click: Location %q (%v)", resp.Header.Get("Location"), err)
		}
		cqID := loc.Query().Get("cq_id")
		if len(cqID) != 16 {
			t.Fatalf("click: Location %q has no 16-character cq_id", loc)
		}
		clicked := waitEvent(t, rcv, secret, "link.clicked", func(d obj) bool { return d.str("interaction", "clickId") == cqID })
		// The destination actually used is the one with cq_id.
		checkVisitor(t, "link.clicked", clicked.get("interaction"), "8.8.8.8", false, resp.Header.Get("Location"))
		runFunnel(t, c, rcv, secret, funnelVisit{"link", link.str("id"), cqID, clicked.get("interaction")}, "user_1", "in_1")

		// From a dynamic QR code scan: the clickId is read from /api/events.
		resp, _ = visit(t, qr.str("shortLink"), "8.8.4.4", iPhoneSafariUA)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/qr" {
			t.Fatalf("scan: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		scanID := eventClickID(t, c, "scans", "qrcodeId", qr.str("id"))
		scanned := waitEvent(t, rcv, secret, "qrcode.scanned", func(d obj) bool { return d.str("interaction", "clickId") == scanID })
		checkVisitor(t, "qrcode.scanned", scanned.get("interaction"), "8.8.4.4", true, "https://example.com/qr")
		runFunnel(t, c, rcv, secret, funnelVisit{"qrcode", qr.str("id"), scanID, scanned.get("interaction")}, "user_2", "in_2")

		// From a hosted page view.
		resp, body := visit(t, page.str("url"), "8.8.8.8", iPhoneSafariUA)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Sign up today") {
			t.Fatalf("page view: %d\n%s", resp.StatusCode, body)
		}
		viewID := eventClickID(t, c, "views", "pageId", page.str("id"))
		viewed := waitEvent(t, rcv, secret, "page.visited", func(d obj) bool { return d.str("interaction", "clickId") == viewID })
		checkVisitor(t, "page.visited", viewed.get("interaction"), "8.8.8.8", false, page.str("url"))
		runFunnel(t, c, rcv, secret, funnelVisit{"page", page.str("id"), viewID, viewed.get("interaction")}, "user_3", "in_3")

		// Every request the receiver got was signed and answered once per event.
		for id, n := range rcv.eventIDs() {
			if n != 1 {
				t.Errorf("event %s delivered %d times", id, n)
			}
		}
		if n := len(rcv.eventIDs()); n != 9 {
			t.Errorf("receiver got %d events, want 9 (3 visits, 3 leads, 3 sales)", n)
		}
	})
}

// eventClickID polls GET /api/events until the one interaction of kind event
// on the resource shows up (interactions are buffered before they are
// written) and returns its clickId.
func eventClickID(t *testing.T, c *client, event, param, id string) string {
	t.Helper()
	var got []obj
	within(t, 10*time.Second, func() bool {
		got = c.must(http.MethodGet, "/api/events?event="+event+"&"+param+"="+id, nil, http.StatusOK).list()
		return len(got) > 0
	}, func() string { return fmt.Sprintf("GET /api/events?event=%s&%s=%s stayed empty", event, param, id) })
	if len(got) != 1 {
		t.Fatalf("GET /api/events?event=%s: %d events, want 1: %v", event, len(got), got)
	}
	ev := got[0]
	if want := map[string]string{"scans": "scan", "views": "view"}[event]; ev.str("kind") != want || ev.str(param) != id {
		t.Errorf("/api/events item %s: kind %q, %s %q", ev, ev.str("kind"), param, ev.str(param))
	}
	return ev.str("clickId")
}

// runFunnel tracks a lead with v's clickId, then a sale for the same customer,
// and checks both deliveries field by field.
func runFunnel(t *testing.T, c *client, rcv *receiver, secret string, v funnelVisit, externalID, invoiceID string) {
	t.Helper()
	email, name := externalID+"@example.com", "Customer "+externalID
	lead := c.must(http.MethodPost, "/api/track/lead", map[string]any{
		"clickId": v.clickID, "eventName": "Sign up", "customerExternalId": externalID,
		"customerEmail": email, "customerName": name, "metadata": map[string]any{"plan": "trial"},
	}, http.StatusOK)
	if lead.str("clickId") != v.clickID {
		t.Errorf("%s: lead answered clickId %q, want %q", v.kind, lead.str("clickId"), v.clickID)
	}
	c.must(http.MethodPost, "/api/track/sale", map[string]any{
		"customerExternalId": externalID, "amount": 4900, "currency": "USD",
		"paymentProcessor": "stripe", "invoiceId": invoiceID,
	}, http.StatusOK)

	byCustomer := func(d obj) bool { return d.str("customer", "externalId") == externalID }
	leadData := waitEvent(t, rcv, secret, "lead.created", byCustomer)
	saleData := waitEvent(t, rcv, secret, "sale.created", byCustomer)

	what := v.kind + " lead.created"
	if got := leadData.str("eventName"); got != "Sign up" {
		t.Errorf("%s: eventName %q", what, got)
	}
	checkCustomer(t, what, leadData.get("customer"), externalID, email, name)
	checkSameInteraction(t, what, leadData.get("interaction"), v)
	if got, want := leadData.get("metadata").String(), `{"plan":"trial"}`; got != want {
		t.Errorf("%s: metadata %s, want %s", what, got, want)
	}
	checkReferral(t, what, leadData, v, map[string]float64{"leads": 1})

	what = v.kind + " sale.created"
	if got := saleData.str("eventName"); got == "" {
		t.Errorf("%s: empty eventName", what)
	}
	checkCustomer(t, what, saleData.get("customer"), externalID, email, name)
	if saleData.str("customer", "id") != leadData.str("customer", "id") {
		t.Errorf("%s: customer %q, the lead's was %q", what, saleData.str("customer", "id"), leadData.str("customer", "id"))
	}
	checkSameInteraction(t, what, saleData.get("interaction"), v)
	sale := saleData.get("sale")
	want := map[string]any{"amount": float64(4900), "currency": "usd", "paymentProcessor": "stripe", "invoiceId": invoiceID}
	if !reflect.DeepEqual(sale.v, any(want)) {
		t.Errorf("%s: sale %s, want %v", what, sale, want)
	}
	counters := map[string]float64{"leads": 1, "sales": 1, "saleAmount": 4900}
	if v.kind == "page" {
		counters = map[string]float64{"leads": 1} // pages count leads only
	}
	checkReferral(t, what, saleData, v, counters)
}

func checkCustomer(t *testing.T, what string, cu obj, externalID, email, name string) {
	t.Helper()
	requireFields(t, what+" customer", cu, "id", "externalId", "name", "email", "avatar", "country", "createdAt")
	if !strings.HasPrefix(cu.str("id"), "cus_") || cu.str("externalId") != externalID ||
		cu.str("email") != email || cu.str("name") != name {
		t.Errorf("%s: customer %s, want %s / %s / %s", what, cu, externalID, email, name)
	}
}

// checkSameInteraction wants the interaction of a conversion to be, field for
// field, the one delivered for the visit.
func checkSameInteraction(t *testing.T, what string, in obj, v funnelVisit) {
	t.Helper()
	if in.str("clickId") != v.clickID {
		t.Errorf("%s: interaction.clickId %q, want %q", what, in.str("clickId"), v.clickID)
	}
	if !reflect.DeepEqual(in.v, v.interaction.v) {
		t.Errorf("%s: interaction differs from the delivered visit:\n got %s\nwant %s", what, in, v.interaction)
	}
	if in.str("country") != "US" || in.str("device") != "Mobile" {
		t.Errorf("%s: interaction country %q device %q", what, in.str("country"), in.str("device"))
	}
	if qr, _ := in.get("qr").v.(bool); qr != (v.kind == "qrcode") {
		t.Errorf("%s: interaction.qr %v", what, in.get("qr").v)
	}
}

// checkReferral wants exactly the resource of the visit (the other two null)
// with the given counters.
func checkReferral(t *testing.T, what string, data obj, v funnelVisit, counters map[string]float64) {
	t.Helper()
	for _, k := range []string{"link", "qrcode", "page"} {
		if !data.has(k) {
			t.Errorf("%s: no %q field", what, k)
			continue
		}
		if k != v.kind {
			if data.get(k).v != nil {
				t.Errorf("%s: %s is %s, want null", what, k, data.get(k))
			}
			continue
		}
		r := data.get(k)
		if r.str("id") != v.resourceID {
			t.Errorf("%s: %s.id %q, want %q", what, k, r.str("id"), v.resourceID)
		}
		for f, want := range counters {
			if got, _ := r.get(f).v.(float64); got != want {
				t.Errorf("%s: %s.%s %v, want %v", what, k, f, r.get(f).v, want)
			}
		}
	}
}

// waitEvent waits for the delivery of event whose data matches, verifies its
// signatures and envelope, and returns its data.
func waitEvent(t *testing.T, rcv *receiver, secret, event string, match func(obj) bool) obj {
	t.Helper()
	var found *delivery
	within(t, 10*time.Second, func() bool {
		for _, d := range rcv.all() {
			var env struct {
				Event string `json:"event"`
				Data  any    `json:"data"`
			}
			if json.Unmarshal(d.Body, &env) == nil && env.Event == event && match(obj{env.Data}) {
				found = &d
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("no matching %s among %d deliveries", event, rcv.count()) })
	_, data := checkDelivery(t, *found, secret)
	return data
}
