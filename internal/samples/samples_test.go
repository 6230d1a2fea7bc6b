package samples_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/samples"
)

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

func sorted(l ...string) []string { c := slices.Clone(l); slices.Sort(c); return c }

func readExample(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	return env["data"].(map[string]any)
}

func obj(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%q is %T, want an object", key, m[key])
	}
	return o
}

func checkKeys(t *testing.T, what string, got map[string]any, want []string) {
	t.Helper()
	if g := sortedKeys(got); !equal(g, sorted(want...)) {
		t.Errorf("%s: keys\n got %v\nwant %v", what, g, sorted(want...))
	}
}

// Field lists of the payload contract for the objects that have no whole
// example file.
var (
	qrcodeFields = []string{"id", "type", "static", "url", "content", "domain", "key", "shortLink", "image", "fgColor",
		"bgColor", "size", "level", "margin", "logo", "title", "description", "externalId", "archived", "tags", "comments",
		"scans", "lastScanned", "leads", "sales", "saleAmount", "projectId", "createdAt", "updatedAt"}
	pageFields = []string{"id", "slug", "url", "title", "description", "blocks", "form", "theme", "published", "views",
		"leads", "projectId", "createdAt", "updatedAt"}
	formFields      = []string{"fields", "submitLabel", "successMessage", "redirectUrl"}
	formFieldFields = []string{"name", "label", "type", "required"}
	themeFields     = []string{"background", "text", "accent"}
	blockFields     = map[string][]string{"heading": {"type", "text"}, "text": {"type", "text"}, "image": {"type", "url", "alt"}, "button": {"type", "label", "url"}}
	partnerFields   = []string{"id", "name", "email", "image", "country", "status", "programId", "createdAt"}
	summaryFields   = []string{"id", "domain", "key", "shortLink", "url", "clicks", "leads", "sales", "saleAmount"}
	saleFields      = []string{"amount", "currency", "paymentProcessor", "invoiceId"}
	customerFields  = []string{"id", "externalId", "name", "email", "avatar", "country", "createdAt"}
	leadDataFields  = []string{"eventName", "customer", "interaction", "link", "qrcode", "page", "metadata"}
)

func TestSamplesMatchContract(t *testing.T) {
	t.Parallel()
	clicked := readExample(t, "link.clicked.json")
	lead := readExample(t, "lead.created.json")
	linkFields := sortedKeys(obj(t, clicked, "link"))
	interactionFields := sortedKeys(obj(t, clicked, "interaction"))
	tagFields := sortedKeys(obj(t, clicked, "link")["tags"].([]any)[0].(map[string]any))
	if len(linkFields) != 39 || len(interactionFields) != 25 {
		t.Fatalf("example files changed: %d link fields, %d interaction fields", len(linkFields), len(interactionFields))
	}
	// The lead example abbreviates its link; its other objects are whole.
	checkKeys(t, "lead example data", lead, leadDataFields)
	checkKeys(t, "lead example customer", obj(t, lead, "customer"), customerFields)

	checkLink := func(what string, l map[string]any) {
		checkKeys(t, what, l, linkFields)
		for _, tag := range l["tags"].([]any) {
			checkKeys(t, what+".tags[]", tag.(map[string]any), tagFields)
		}
	}
	checkQR := func(what string, q map[string]any) { checkKeys(t, what, q, qrcodeFields) }
	checkPage := func(what string, p map[string]any) {
		checkKeys(t, what, p, pageFields)
		checkKeys(t, what+".theme", obj(t, p, "theme"), themeFields)
		if p["form"] != nil {
			f := obj(t, p, "form")
			checkKeys(t, what+".form", f, formFields)
			for _, ff := range f["fields"].([]any) {
				checkKeys(t, what+".form.fields[]", ff.(map[string]any), formFieldFields)
			}
		}
		for _, b := range p["blocks"].([]any) {
			bm := b.(map[string]any)
			want, ok := blockFields[bm["type"].(string)]
			if !ok {
				t.Errorf("%s: block type %v", what, bm["type"])
				continue
			}
			checkKeys(t, what+".blocks[]", bm, want)
		}
	}
	checkInteraction := func(what string, i map[string]any) { checkKeys(t, what, i, interactionFields) }

	in := events.SampleInput{ProjectID: "proj_x", BaseURL: "https://go.example.com", Now: time.Now().UTC().Truncate(time.Millisecond)}
	all := samples.All()
	if len(all) != len(events.AllTypes()) {
		t.Errorf("%d samples for %d event types", len(all), len(events.AllTypes()))
	}
	seen := 0
	for _, typ := range events.AllTypes() {
		seen++
		sample := all[typ]
		if sample == nil {
			t.Errorf("no sample for %s", typ)
			continue
		}
		raw, err := json.Marshal(sample(in))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var d map[string]any
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %s is not an object: %v", typ, raw, err)
		}
		name := string(typ)
		switch typ {
		case events.LinkCreated, events.LinkUpdated, events.LinkDeleted:
			checkLink(name, d)
		case events.QRCodeCreated, events.QRCodeUpdated, events.QRCodeDeleted:
			checkKeys(t, name, d, []string{"qrcode"})
			checkQR(name+".qrcode", obj(t, d, "qrcode"))
		case events.PageCreated, events.PageUpdated, events.PageDeleted:
			checkKeys(t, name, d, []string{"page"})
			checkPage(name+".page", obj(t, d, "page"))
		case events.LinkClicked:
			checkKeys(t, name, d, sortedKeys(clicked))
			checkInteraction(name+".interaction", obj(t, d, "interaction"))
			checkLink(name+".link", obj(t, d, "link"))
		case events.QRCodeScanned:
			checkKeys(t, name, d, []string{"interaction", "qrcode"})
			checkInteraction(name+".interaction", obj(t, d, "interaction"))
			checkQR(name+".qrcode", obj(t, d, "qrcode"))
			if obj(t, d, "interaction")["qr"] != true {
				t.Errorf("%s: interaction.qr is not true", name)
			}
		case events.PageVisited:
			checkKeys(t, name, d, []string{"interaction", "page"})
			checkInteraction(name+".interaction", obj(t, d, "interaction"))
			checkPage(name+".page", obj(t, d, "page"))
		case events.LeadCreated:
			checkKeys(t, name, d, sortedKeys(lead))
			checkKeys(t, name+".customer", obj(t, d, "customer"), sortedKeys(obj(t, lead, "customer")))
			checkInteraction(name+".interaction", obj(t, d, "interaction"))
			checkLink(name+".link", obj(t, d, "link"))
		case events.SaleCreated:
			checkKeys(t, name, d, append(slices.Clone(leadDataFields), "sale"))
			checkKeys(t, name+".customer", obj(t, d, "customer"), customerFields)
			checkKeys(t, name+".sale", obj(t, d, "sale"), saleFields)
			checkInteraction(name+".interaction", obj(t, d, "interaction"))
			checkLink(name+".link", obj(t, d, "link"))
			if c := obj(t, d, "sale")["currency"].(string); c != "usd" {
				t.Errorf("currency %q, want lower-case ISO 4217", c)
			}
		case events.PartnerEnrolled:
			checkKeys(t, name, d, []string{"partner", "links"})
			checkKeys(t, name+".partner", obj(t, d, "partner"), partnerFields)
			links, _ := d["links"].([]any)
			if len(links) == 0 {
				t.Errorf("%s: no links", name)
			}
			for _, l := range links {
				checkKeys(t, name+".links[]", l.(map[string]any), summaryFields)
			}
		default:
			t.Errorf("no check for %s", typ)
		}
	}
	if seen != 15 {
		t.Fatalf("%d types, want 15", seen)
	}
}

// The interaction samples use the ids a webhook selected, so a test delivery
// names a resource the receiver knows.
func TestSampleUsesSelectedResource(t *testing.T) {
	t.Parallel()
	in := events.SampleInput{ProjectID: "proj_x", Now: time.Now(), LinkIDs: []string{"link_mine"}}
	raw, _ := json.Marshal(samples.All()[events.LinkClicked](in))
	var d struct {
		Link struct {
			ID        string `json:"id"`
			ShortLink string `json:"shortLink"`
			ProjectID string `json:"projectId"`
		} `json:"link"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Link.ID != "link_mine" || d.Link.ProjectID != "proj_x" || d.Link.ShortLink != "https://go.example.com/spring" {
		t.Fatalf("sample link %+v", d.Link)
	}
	if samples.All()["nope"] != nil {
		t.Fatal("sample for an unknown type")
	}
}
