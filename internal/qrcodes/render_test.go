package qrcodes

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/qrcodes/qrtest"
)

// sample is one code of each type, with characters that need escaping, and
// the exact static payload it must encode.
type sample struct {
	typ     Type
	url     string
	content string
	want    string
}

func samples() []sample {
	return []sample{
		{TypeURL, "https://example.com/a?b=1&c=%C3%BC", "", "https://example.com/a?b=1&c=%C3%BC"},
		{TypeText, "", `{"text":"Hello, world; a:b \"q\" — ünï ✓\nline 2"}`, "Hello, world; a:b \"q\" — ünï ✓\nline 2"},
		{TypeEmail, "", `{"to":"sales@example.com","subject":"Hi & welcome?","body":"Line 1\nLine 2"}`,
			"mailto:sales@example.com?subject=Hi%20%26%20welcome%3F&body=Line%201%0ALine%202"},
		{TypePhone, "", `{"number":"+1 (555) 010-9999"}`, "tel:+15550109999"},
		{TypeSMS, "", `{"number":"+44 20 7946 0000","message":"Code: 42; ok"}`, "SMSTO:+442079460000:Code: 42; ok"},
		{TypeWiFi, "", `{"ssid":"My;Net,\"x\":\\","password":"pa;ss:word\\","encryption":"WPA","hidden":true}`,
			`WIFI:T:WPA;S:My\;Net\,\"x\"\:\\;P:pa\;ss\:word\\;H:true;;`},
		{TypeVCard, "", `{"firstName":"Ada","lastName":"Lovelace, Countess","organization":"Analytical; Engines","title":"Mathematician","phone":"+44 20 7946 0001","email":"ada@example.com","url":"https://example.com/ada","address":"12 St James's Square, London","note":"First programmer\nTwo lines"}`,
			"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lovelace\\, Countess;Ada;;;\r\nFN:Ada Lovelace\\, Countess\r\nORG:Analytical\\; Engines\r\nTITLE:Mathematician\r\nTEL:+442079460001\r\nEMAIL:ada@example.com\r\nURL:https://example.com/ada\r\nADR:;;12 St James's Square\\, London;;;;\r\nNOTE:First programmer\\nTwo lines\r\nEND:VCARD"},
		{TypeWhatsApp, "", `{"number":"+49 151 2345678","message":"Hallo & tschüss"}`, "https://wa.me/491512345678?text=Hallo%20%26%20tsch%C3%BCss"},
		{TypeGeo, "", `{"latitude":52.52,"longitude":-13.405}`, "geo:52.52,-13.405"},
	}
}

// input is the create body of a sample.
func (s sample) input(static bool) Input {
	in := Input{Type: Some(s.typ), Static: Some(static)}
	if s.url != "" {
		in.URL = Some(s.url)
	} else {
		in.Content = Some(json.RawMessage(s.content))
	}
	return in
}

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

func testConfig() config.Config {
	return config.Config{BaseURL: "http://qr.test", WebhooksAllowHTTP: true, WebhooksAllowPrivate: true}.WithDefaults()
}

func TestStaticPayloads(t *testing.T) {
	t.Parallel()
	for _, s := range samples() {
		t.Run(string(s.typ), func(t *testing.T) {
			t.Parallel()
			d := newDraft()
			if err := d.apply(s.input(true)); err != nil {
				t.Fatalf("apply: %v", err)
			}
			q := (&Service{cfg: testConfig()}).toQRCode(d, "qr_x", "p", nil, testNow, testNow)
			if got := Payload(q); got != s.want {
				t.Fatalf("Payload = %q, want %q", got, s.want)
			}
			if q.Domain != nil || q.Key != nil || q.ShortLink != nil {
				t.Fatalf("static code has a short link: %+v", q)
			}
			png, err := RenderPNG(Payload(q), q.Design(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := qrtest.DecodePNG(t, png, q.Size); got != s.want {
				t.Fatalf("PNG decodes to %q, want %q", got, s.want)
			}
			svg, err := RenderSVG(Payload(q), q.Design(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := qrtest.DecodeSVG(t, svg, q.Size); got != s.want {
				t.Fatalf("SVG decodes to %q, want %q", got, s.want)
			}
		})
	}
}

func TestRenderDesigns(t *testing.T) {
	t.Parallel()
	payload := "https://qr.test/abc1234"
	for _, d := range []Design{
		{FgColor: "#1a237e", BgColor: "#fff8e1", Size: 333, Level: "L", Margin: 0},
		{FgColor: "#000000", BgColor: "#ffffff", Size: 2048, Level: "H", Margin: 16},
		{FgColor: "#004d40", BgColor: "#e0f2f1", Size: 101, Level: "Q", Margin: 2},
	} {
		png, err := RenderPNG(payload, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := qrtest.DecodePNG(t, png, d.Size); got != payload {
			t.Fatalf("%+v: PNG decodes to %q", d, got)
		}
		svg, err := RenderSVG(payload, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(svg), `fill="`+d.FgColor+`"`) || !strings.Contains(string(svg), `fill="`+d.BgColor+`"`) {
			t.Fatalf("SVG lacks its colours")
		}
		if got := qrtest.DecodeSVG(t, svg, d.Size); got != payload {
			t.Fatalf("%+v: SVG decodes to %q", d, got)
		}
	}
}

func TestRenderWithLogo(t *testing.T) {
	t.Parallel()
	logo := qrtest.LogoPNG(t, 120, 80)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/logo.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(logo)
		case "/huge":
			_, _ = w.Write(make([]byte, MaxLogoBytes+10))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	s := NewService(nil, nil, nil, testConfig(), nil, nil)
	ctx := context.Background()
	for _, s2 := range samples() {
		d := newDraft()
		if err := d.apply(s2.input(true)); err != nil {
			t.Fatal(err)
		}
		l := srv.URL + "/logo.png"
		d.Design.Logo = &l
		d.Design, _ = d.Design.Normalize()
		if d.Design.Level != "Q" {
			t.Fatalf("level with logo = %s, want Q", d.Design.Level)
		}
		q := s.toQRCode(d, "qr_x", "p", nil, testNow, testNow)
		png, err := s.Render(ctx, Payload(q), q.Design(), FormatPNG)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := RenderPNG(Payload(q), q.Design(), nil)
		if string(plain) == string(png) {
			t.Fatalf("%s: logo was not drawn", s2.typ)
		}
		if got := qrtest.DecodePNG(t, png, q.Size); got != s2.want {
			t.Fatalf("%s: PNG with logo decodes to %q, want %q", s2.typ, got, s2.want)
		}
		svg, err := s.Render(ctx, Payload(q), q.Design(), FormatSVG)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(svg), "data:image/png;base64,") {
			t.Fatalf("SVG lacks the logo")
		}
		if got := qrtest.DecodeSVG(t, svg, q.Size); got != s2.want {
			t.Fatalf("%s: SVG with logo decodes to %q", s2.typ, got)
		}
	}
	// A logo that fails renders without it.
	for _, bad := range []string{srv.URL + "/missing.png", srv.URL + "/huge"} {
		d := DefaultDesign()
		d.Logo = &bad
		d, _ = d.Normalize()
		png, err := s.Render(ctx, "hello", d, FormatPNG)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := RenderPNG("hello", d, nil)
		if string(png) != string(plain) {
			t.Fatalf("%s: want a logo-less image", bad)
		}
	}
	// Without AllowPrivate the guard refuses the loopback logo server.
	strict := NewService(nil, nil, nil, config.Config{BaseURL: "http://qr.test", WebhooksAllowHTTP: true}.WithDefaults(), nil, nil)
	before := hits.Load()
	l := srv.URL + "/logo.png"
	d := DefaultDesign()
	d.Logo = &l
	d, _ = d.Normalize()
	if _, err := strict.Render(ctx, "hello", d, FormatPNG); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != before {
		t.Fatalf("the guarded client reached a loopback server")
	}
}

func TestDesignValidation(t *testing.T) {
	t.Parallel()
	bad := []Design{
		{FgColor: "#000", BgColor: "#ffffff", Size: 600, Level: "M", Margin: 4},
		{FgColor: "#000000", BgColor: "#000000", Size: 600, Level: "M", Margin: 4},
		{FgColor: "#777777", BgColor: "#888888", Size: 600, Level: "M", Margin: 4},
		{FgColor: "#000000", BgColor: "#ffffff", Size: 63, Level: "M", Margin: 4},
		{FgColor: "#000000", BgColor: "#ffffff", Size: 2049, Level: "M", Margin: 4},
		{FgColor: "#000000", BgColor: "#ffffff", Size: 600, Level: "X", Margin: 4},
		{FgColor: "#000000", BgColor: "#ffffff", Size: 600, Level: "M", Margin: 17},
		{FgColor: "#000000", BgColor: "#ffffff", Size: 600, Level: "M", Margin: -1},
	}
	for _, d := range bad {
		if _, err := d.Normalize(); err == nil {
			t.Errorf("%+v accepted", d)
		}
	}
	ftp := "ftp://example.com/logo.png"
	d := DefaultDesign()
	d.Logo = &ftp
	if _, err := d.Normalize(); err == nil {
		t.Errorf("ftp logo accepted")
	}
}

func TestContentValidation(t *testing.T) {
	t.Parallel()
	bad := map[Type][]string{
		TypeText:     {`{}`, `{"text":""}`, `{"text":"x","extra":1}`, `{"text":` + strings.Repeat(`"`, 1) + strings.Repeat("x", 2001) + `"}`, `[]`, `"text"`},
		TypeEmail:    {`{"to":"not-an-email"}`, `{"to":"A <a@b.c>"}`, `{"to":"a@b.c","subject":` + `"` + strings.Repeat("s", 201) + `"}`},
		TypePhone:    {`{"number":"abc"}`, `{"number":"12"}`, `{}`},
		TypeSMS:      {`{"number":"+1555","message":"` + strings.Repeat("m", 501) + `"}`},
		TypeWiFi:     {`{"ssid":""}`, `{"ssid":"x","encryption":"WPA3","password":"12345678"}`, `{"ssid":"x","encryption":"WPA","password":"short"}`, `{"ssid":"x","encryption":"nopass","password":"p"}`, `{"ssid":"x","hidden":"yes"}`},
		TypeVCard:    {`{"note":"only a note"}`, `{"firstName":"A","email":"nope"}`, `{"firstName":"A","url":"javascript:alert(1)"}`},
		TypeWhatsApp: {`{"number":"x"}`},
		TypeGeo:      {`{"latitude":91,"longitude":0}`, `{"latitude":0,"longitude":-181}`, `{"latitude":0}`, `{"latitude":"1","longitude":2}`},
	}
	for typ, list := range bad {
		for _, c := range list {
			if _, err := normalizeContent(typ, json.RawMessage(c)); err == nil {
				t.Errorf("%s %s accepted", typ, c)
			}
		}
	}
}

// A logo URL naming loopback through an IPv6 zone id is never fetched: the
// public renderer takes logos from anyone, so the guard must hold here too.
func TestLogoFetchRefusesZonedLoopback(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(qrtest.LogoPNG(t, 8, 8))
	}))
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := NewService(nil, nil, nil, config.Config{WebhooksAllowHTTP: true}, nil, nil)
	for _, zone := range []string{"lo", "1", "eth0"} {
		raw := "http://[::1%25" + zone + "]:" + port + "/l.png"
		if _, err := s.fetchLogo(context.Background(), raw); err == nil {
			t.Errorf("%s: fetched", raw)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server was reached %d times", n)
	}
}
