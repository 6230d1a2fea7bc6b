package dashboard_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/qrcodes/qrtest"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// apiQR is the code as GET /api/qrcodes/{id} answers it.
func apiQR(t *testing.T, e *env, id string) qrcodes.QRCode {
	t.Helper()
	s, body := apiCall(t, e, http.MethodGet, "/api/qrcodes/"+id, e.Key1, "")
	if s != http.StatusOK {
		t.Fatalf("GET /api/qrcodes/%s: %d %s", id, s, body)
	}
	var q qrcodes.QRCode
	if err := json.Unmarshal(body, &q); err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQREdit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		design := url.Values{"fgColor": {"#000000"}, "bgColor": {"#ffffff"}, "size": {"300"}, "margin": {"4"}, "level": {"M"}}
		form := func(extra url.Values) url.Values {
			v := url.Values{}
			for k, x := range design {
				v[k] = x
			}
			for k, x := range extra {
				v[k] = x
			}
			return v
		}
		p := b.post("/app/qrcodes", form(url.Values{"type": {"url"}, "url": {"https://menu.example/"}, "domain": {"go.test"}, "key": {"menu"}, "title": {"Menu"}}))
		if p.Status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", p.Status, p.Body)
		}
		id := strings.TrimPrefix(strings.SplitN(p.Location, "?", 2)[0], "/app/qrcodes/")
		must(t, b.get("/app/qrcodes/"+id), http.StatusOK, `href="/app/qrcodes/`+id+`/edit"`, "Edit QR code")

		// The edit form holds the saved values and posts to the code.
		p = b.get("/app/qrcodes/" + id + "/edit")
		must(t, p, http.StatusOK, `action="/app/qrcodes/`+id+`"`, `value="https://menu.example/"`, `value="menu"`, `value="Menu"`,
			"Save QR code", `formaction="/app/qrcodes/`+id+`/edit"`, "Preview of the QR code")
		// The live preview draws the saved code; without JavaScript, Preview
		// redraws it from the form's values.
		if !strings.Contains(p.Body, `src="/app/qrcodes/preview.svg?`) || !strings.Contains(html.UnescapeString(p.Body), "url=https%3A%2F%2Fmenu.example%2F") {
			t.Fatal("the edit form's preview is not the saved code")
		}
		must(t, b.get("/app/qrcodes/"+id+"/edit?"+form(url.Values{"type": {"url"}, "url": {"https://menu.example/lunch"}}).Encode()),
			http.StatusOK, `value="https://menu.example/lunch"`)

		// Design and destination change; a dynamic code keeps its short link.
		p = b.post("/app/qrcodes/"+id, form(url.Values{"type": {"url"}, "url": {"https://menu.example/dinner"}, "domain": {"go.test"},
			"key": {"menu"}, "fgColor": {"#aa0000"}, "level": {"H"}, "title": {""}}))
		if p.Status != http.StatusSeeOther || p.Location != "/app/qrcodes/"+id+"?done=qr-saved" {
			t.Fatalf("save: %d %q\n%s", p.Status, p.Location, p.Body)
		}
		q := apiQR(t, e, id)
		if str(q.URL) != "https://menu.example/dinner" || q.FgColor != "#aa0000" || q.Level != "H" || q.Static || str(q.Key) != "menu" || q.Title != nil {
			t.Fatalf("after the edit: %+v", q)
		}
		must(t, b.get("/app/qrcodes/"+id+"?done=qr-saved"), http.StatusOK, "QR code saved.", "#aa0000")

		// A bad value: the service's message beside the field, nothing changed.
		must(t, b.post("/app/qrcodes/"+id, form(url.Values{"type": {"url"}, "url": {"not a url"}, "key": {"menu"}})),
			http.StatusUnprocessableEntity, `id="e-url"`, `value="not a url"`, "Save QR code")
		if q := apiQR(t, e, id); str(q.URL) != "https://menu.example/dinner" {
			t.Fatalf("a refused edit changed the code: %+v", q)
		}
		// Without the CSRF token: refused.
		v := form(url.Values{"type": {"url"}, "url": {"https://evil.example/"}, "csrf": {"nope"}})
		must(t, b.post("/app/qrcodes/"+id, v), http.StatusForbidden)

		// Made static (and a text code): the short link goes, the symbol holds the text.
		p = b.post("/app/qrcodes/"+id, form(url.Values{"type": {"text"}, "static": {"on"}, "text.text": {"Today: soup"}}))
		if p.Status != http.StatusSeeOther {
			t.Fatalf("make static: %d\n%s", p.Status, p.Body)
		}
		q = apiQR(t, e, id)
		if !q.Static || q.Key != nil || q.Domain != nil || q.Type != qrcodes.TypeText {
			t.Fatalf("static: %+v", q)
		}
		png := b.get("/app/qrcodes/" + id + "/image?format=png")
		if got := qrtest.DecodePNG(t, []byte(png.Body), 300); got != "Today: soup" {
			t.Fatalf("the static code decodes to %q", got)
		}
		must(t, b.get("/app/qrcodes/"+id+"/edit"), http.StatusOK, `Today: soup`, `id="f-static" name="static" checked`)
		// And dynamic again: a new short link with a random key.
		p = b.post("/app/qrcodes/"+id, form(url.Values{"type": {"url"}, "url": {"https://menu.example/"}, "domain": {"go.test"}}))
		if p.Status != http.StatusSeeOther {
			t.Fatalf("make dynamic: %d\n%s", p.Status, p.Body)
		}
		if q = apiQR(t, e, id); q.Static || q.Key == nil || *q.Key == "" || q.ShortLink == nil {
			t.Fatalf("dynamic again: %+v", q)
		}

		// Another project: 404 on the form and the save, nothing changed.
		two := e.login("two@test.example")
		must(t, two.get("/app/qrcodes/"+id+"/edit"), http.StatusNotFound)
		must(t, two.post("/app/qrcodes/"+id, form(url.Values{"type": {"url"}, "url": {"https://evil.example/"}})), http.StatusNotFound)
		if q := apiQR(t, e, id); str(q.URL) != "https://menu.example/" {
			t.Fatalf("project two changed the code: %+v", q)
		}
	})
}
