package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// apiCall sends a JSON request with key and returns the status and body.
func apiCall(t *testing.T, e *env, method, path, key, body string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, e.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// rowOf is the table row carrying attr="id".
func rowOf(t *testing.T, body, attr, id string) string {
	t.Helper()
	i := strings.Index(body, attr+`="`+id+`"`)
	if i < 0 {
		t.Fatalf("no row %s=%s\n%s", attr, id, body)
	}
	row := body[i:]
	return row[:strings.Index(row, "</tr>")]
}

func TestCustomerLeadsAndSales(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, err := e.Links.Create(ctx, e.P1.ID, links.CreateRequest{URL: "https://shop.example/", Key: ptr("buy"), TrackConversion: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		click, _ := http.NewRequest(http.MethodGet, e.URL+"/buy", nil)
		click.Host = "go.test"
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(click)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		cqID := loc.Query().Get("cq_id")
		if cqID == "" {
			t.Fatalf("click: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		for _, c := range []struct{ path, body string }{
			{"/api/track/lead", fmt.Sprintf(`{"clickId":%q,"eventName":"Sign up","customerExternalId":"c-7","customerName":"Ada"}`, cqID)},
			{"/api/track/lead", `{"eventName":"Newsletter","customerExternalId":"c-7","eventQuantity":3}`},
			{"/api/track/sale", `{"customerExternalId":"c-7","amount":1250,"currency":"eur","invoiceId":"inv-1"}`},
			{"/api/track/sale", `{"customerExternalId":"c-7","amount":500,"currency":"eur","eventName":"Upgrade"}`},
		} {
			if s, b := apiCall(t, e, http.MethodPost, c.path, e.Key1, c.body); s/100 != 2 {
				t.Fatalf("%s: %d %s", c.path, s, b)
			}
		}

		// The API route: every lead and sale, newest first, attributed.
		s, body := apiCall(t, e, http.MethodGet, "/api/customers/ext_c-7/activity", e.Key1, "")
		if s != http.StatusOK {
			t.Fatalf("activity: %d %s", s, body)
		}
		var a conversions.Activity
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		if a.Customer.ExternalID != "c-7" || a.Customer.Leads != 4 || // quantities: 1 + 3
			a.Customer.Sales != 2 || a.Customer.SaleAmount != 1750 {
			t.Fatalf("customer totals: %+v", a.Customer)
		}
		if len(a.Leads) != 2 || len(a.Sales) != 2 {
			t.Fatalf("activity: %d leads, %d sales", len(a.Leads), len(a.Sales))
		}
		names := map[string]bool{}
		for _, ld := range a.Leads {
			names[ld.EventName] = true
			if ld.LinkID == nil || *ld.LinkID != l.ID {
				t.Fatalf("lead %s not attributed to the link: %+v", ld.EventName, ld)
			}
		}
		if !names["Sign up"] || !names["Newsletter"] {
			t.Fatalf("leads: %+v", a.Leads)
		}
		if a.Sales[0].CreatedAt.Before(a.Sales[1].CreatedAt) || a.Leads[0].CreatedAt.Before(a.Leads[1].CreatedAt) {
			t.Fatal("activity is not newest first")
		}
		var inv conversions.Sale
		for _, sl := range a.Sales {
			if sl.InvoiceID != nil && *sl.InvoiceID == "inv-1" {
				inv = sl
			}
		}
		if inv.Amount != 1250 || inv.LinkID == nil || *inv.LinkID != l.ID {
			t.Fatalf("sale inv-1: %+v", inv)
		}

		// The dashboard shows the same leads and sales.
		b := e.login("one@test.example")
		p := b.get("/app/customers/" + a.Customer.ID)
		must(t, p, http.StatusOK, "Ada", "<h2>Leads</h2>", "<h2>Sales</h2>", "17.50")
		for _, ld := range a.Leads {
			row := rowOf(t, p.Body, "data-lead", *ld.ID)
			for _, want := range []string{ld.EventName, fmt.Sprint(ld.Quantity), `href="/app/links/` + l.ID + `"`, cqID} {
				if !strings.Contains(row, want) {
					t.Fatalf("lead row lacks %q: %s", want, row)
				}
			}
		}
		row := rowOf(t, p.Body, "data-sale", inv.ID)
		for _, want := range []string{"12.50", "inv-1", "Purchase", `href="/app/links/` + l.ID + `"`} {
			if !strings.Contains(row, want) {
				t.Fatalf("sale row lacks %q: %s", want, row)
			}
		}
		rowOf(t, p.Body, "data-sale", a.Sales[0].ID)

		// Another project sees none of it, in the dashboard or the API.
		two := e.login("two@test.example")
		must(t, two.get("/app/customers/"+a.Customer.ID), http.StatusNotFound)
		k2, err := e.Projects.CreateKey(ctx, e.P2.ID, projects.NewKey{Name: "two"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s, b := apiCall(t, e, http.MethodGet, "/api/customers/"+a.Customer.ID+"/activity", k2.Key, ""); s != http.StatusNotFound {
			t.Fatalf("project two reads the activity: %d %s", s, b)
		}
		// A customer without conversions: empty lists, said so.
		s, body = apiCall(t, e, http.MethodGet, "/api/customers/ext_nobody/activity", e.Key1, "")
		if s != http.StatusNotFound {
			t.Fatalf("unknown customer: %d %s", s, body)
		}
	})
}
