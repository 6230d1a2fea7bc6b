package conversions_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// Dub's shapes and modes: track.lead answers click and link, mode=deferred
// keeps the customer and writes no lead (nor event) until a later call, and
// customers can be read and updated by ext_<externalId>.
func TestDubLeadModesAndCustomers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		var link struct{ ID string }
		e.mustAPI(t, "POST", "/api/links", e.key1, `{"url":"https://shop.example.com/","key":"d","trackConversion":true}`, 200, &link)
		clickID := clickIDFrom(t, e.open(t, "/d"))

		var deferred struct {
			ID    *string
			Click struct{ ID string }
			Link  *struct{ ID string }
		}
		e.mustAPI(t, "POST", "/api/track/lead", e.key1,
			fmt.Sprintf(`{"clickId":%q,"eventName":"Sign up","customerExternalId":"u_d","mode":"deferred"}`, clickID), 200, &deferred)
		if deferred.ID != nil || deferred.Click.ID != clickID || deferred.Link == nil || deferred.Link.ID != link.ID {
			t.Fatalf("deferred answer %+v", deferred)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM leads"); n != 0 || len(e.payloads(t, e.p1, events.LeadCreated)) != 0 {
			t.Fatalf("a deferred lead was written (%d rows)", n)
		}
		var later struct {
			ID    *string
			Click struct{ ID string }
		}
		e.mustAPI(t, "POST", "/api/track/lead", e.key1, `{"clickId":"","eventName":"Sign up","customerExternalId":"u_d","mode":"wait"}`, 200, &later)
		if later.ID == nil || later.Click.ID != clickID || e.count(t, "SELECT COUNT(*) FROM leads") != 1 ||
			len(e.payloads(t, e.p1, events.LeadCreated)) != 1 {
			t.Fatalf("the lead after a deferred one: %+v", later)
		}
		if code, body := e.api(t, "POST", "/api/track/lead", e.key1, `{"eventName":"x","customerExternalId":"u_d","mode":"later"}`); code != 422 || !strings.Contains(body, "mode") {
			t.Fatalf("bad mode: %d %s", code, body)
		}

		var c struct {
			ID, ExternalID string
			Name           *string
			Link           *struct{ ID string }
		}
		e.mustAPI(t, "GET", "/api/customers/ext_u_d", e.key1, "", 200, &c)
		if c.ExternalID != "u_d" || c.Link == nil || c.Link.ID != link.ID {
			t.Fatalf("customer by ext_: %+v", c)
		}
		e.mustAPI(t, "PATCH", "/api/customers/"+c.ID, e.key1, `{"name":"Ada","country":"fr"}`, 200, &c)
		if c.Name == nil || *c.Name != "Ada" {
			t.Fatalf("updated customer %+v", c)
		}
		for _, bad := range []string{`{"email":"nope"}`, `{"externalId":null}`, `{"stripeCustomerId":"cus_x"}`, `{"country":"France"}`} {
			if code, body := e.api(t, "PATCH", "/api/customers/"+c.ID, e.key1, bad); code != 422 {
				t.Errorf("%s: %d %s", bad, code, body)
			}
		}
		if code, _ := e.api(t, "PATCH", "/api/customers/"+c.ID, e.key2, `{"name":"x"}`); code != 404 {
			t.Fatalf("other project's key updated a customer: %d", code)
		}
	})
}
