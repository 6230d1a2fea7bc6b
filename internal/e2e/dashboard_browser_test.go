package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/codeqr/codeqr/internal/qrcodes/qrtest"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// The dashboard's browser test drives Debian's Chromium (never a downloaded
// browser) with chromedp, checks every screen with axe-core (from npm, pinned
// in internal/dashboard/testdata/axe) and takes screenshots. Without Chromium
// or axe it skips loudly, unless CODEQR_TEST_BROWSER=required (CI), which
// makes that a failure.
const (
	chromiumPath = "/usr/bin/chromium"
	axePath      = "../dashboard/testdata/axe/node_modules/axe-core/axe.min.js"
	// A desktop Chrome user agent: the headless one is (rightly) a bot, and
	// bots are not counted nor sent to webhooks by default.
	browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"
)

func needBrowser(t *testing.T) string {
	t.Helper()
	missing := ""
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = chromiumPath + " (apt-get install -y chromium)"
	} else if _, err := os.Stat(axePath); err != nil {
		missing = axePath + " (npm ci in internal/dashboard/testdata/axe)"
	}
	if missing != "" {
		if os.Getenv("CODEQR_TEST_BROWSER") == "required" {
			t.Fatalf("CODEQR_TEST_BROWSER=required but %s is missing", missing)
		}
		t.Skipf("SKIPPED: the dashboard browser test needs %s", missing)
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(axe)
}

// screenshotDir is where screenshots go: CODEQR_SCREENSHOT_DIR, else
// internal/e2e/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("CODEQR_SCREENSHOT_DIR")
	if dir == "" {
		dir = "screenshots"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type ui struct {
	t    *testing.T
	ctx  context.Context
	base string
	axe  string
	dir  string
	// violations found on every screen, by screen name.
	violations map[string][]string
	axeRuns    int
	// quick checks a screen with axe once (desktop, light) and takes no
	// screenshots: the second run of the scenario, on PostgreSQL, whose
	// pages are the first run's.
	quick bool
}

func (u *ui) do(steps ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		html, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		loc, _ := chromedp.Run(u.ctx, chromedp.Location())
		u.t.Fatalf("browser: %v\nat %s:\n%s", err, loc, html)
	}
}

func (u *ui) eval(js string, out any) {
	u.t.Helper()
	raw, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("evaluate %q: %v", js, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			u.t.Fatalf("evaluate %q: %v (%s)", js, err, raw)
		}
	}
}

func (u *ui) text() string {
	var s string
	u.eval(`document.body.innerText`, &s)
	return s
}

func (u *ui) open(path string) { u.t.Helper(); u.do(chromedp.Navigate(u.base + path)) }

// waitText reloads nothing: it waits until the page (after a navigation)
// shows s.
func (u *ui) waitText(s string) {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(u.text(), s) {
		if time.Now().After(deadline) {
			u.t.Fatalf("page never showed %q:\n%s", s, u.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reloadUntil reloads path until the page shows s.
func (u *ui) reloadUntil(path, s string) {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		u.open(path)
		if strings.Contains(u.text(), s) {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("%s never showed %q:\n%s", path, s, u.text())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// reloadUntilJS reloads path until the expression is true.
func (u *ui) reloadUntilJS(path, cond string) {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		u.open(path)
		var ok bool
		u.eval(cond, &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("%s: never %s:\n%s", path, cond, u.text())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// reloadPreview waits until the designer's preview image has loaded with
// a query that contains want.
func (u *ui) reloadPreview(want string) {
	u.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		u.eval(fmt.Sprintf(`(() => { const i = document.querySelector("[data-qr-preview]"); return i.complete && i.naturalWidth > 0 && i.src.includes(%q); })()`, want), &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatal("the QR preview never showed the typed text")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill types into the input labelled by id.
func (u *ui) fill(id, value string) {
	u.t.Helper()
	u.do(chromedp.SetValue(chromedp.CSS("#"+strings.ReplaceAll(id, ".", `\.`)), value))
}

// typeInto sets the input's value as typing does: with an input event, which
// the dashboard's scripts follow.
func (u *ui) typeInto(id, value string) {
	u.t.Helper()
	u.fill(id, value)
	u.eval(fmt.Sprintf(`document.getElementById(%q).dispatchEvent(new Event("input", {bubbles: true})), true`, id), nil)
}

// evalString is the string an expression gives.
func (u *ui) evalString(js string) string {
	u.t.Helper()
	var s string
	u.eval(js, &s)
	return s
}

// acceptConfirms makes the page's confirmation questions answer yes (the
// dialogs a destructive button asks with).
func (u *ui) acceptConfirms() { u.t.Helper(); u.eval(`window.confirm = () => true, true`, nil) }

// press clicks the button with this text and waits for the next page.
func (u *ui) press(label string) {
	u.t.Helper()
	var before string
	u.eval(`String(performance.timeOrigin)`, &before)
	// Whitespace is folded: a visually hidden part of a name (class "sr")
	// comes as a line of its own in innerText.
	sel := fmt.Sprintf(`[...document.querySelectorAll("button")].find(b => b.innerText.replace(/\s+/g, " ").trim() === %q)`, label)
	var found bool
	u.eval(sel+` !== undefined`, &found)
	if !found {
		u.t.Fatalf("no button %q on:\n%s", label, u.text())
	}
	u.eval(`(`+sel+`).click(), true`, nil)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var now, state string
		raw, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]byte](`[String(performance.timeOrigin), document.readyState]`))
		if err == nil {
			var pair []string
			if json.Unmarshal(raw, &pair) == nil && len(pair) == 2 {
				now, state = pair[0], pair[1]
			}
		}
		if now != "" && now != before && state == "complete" {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("pressing %q did not load a new page", label)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// check runs axe-core on the page and takes the four screenshots (desktop
// and 375 px wide, light and dark). axe runs in light and in dark mode, so
// both colour schemes are checked for contrast.
func (u *ui) check(name string) {
	u.t.Helper()
	u.perf(name)
	if u.quick {
		u.do(chromedp.EmulateViewport(1280, 900))
		u.axeRun(name + " desktop-light")
		return
	}
	for _, v := range []struct {
		label string
		width int64
		dark  bool
	}{{"desktop-light", 1280, false}, {"mobile-light", 375, false}, {"desktop-dark", 1280, true}, {"mobile-dark", 375, true}} {
		scheme := "light"
		if v.dark {
			scheme = "dark"
		}
		u.do(chromedp.EmulateViewport(v.width, 900, chromedp.EmulateScale(1)),
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
				return err
			}))
		if v.label == "desktop-light" || v.label == "mobile-dark" {
			u.axeRun(name + " " + v.label)
		}
		if v.width == 375 {
			var wide int
			u.eval(`document.documentElement.scrollWidth`, &wide)
			if wide > 375 {
				u.t.Errorf("%s is %d px wide at a 375 px viewport (scrolls sideways)", name, wide)
			}
		}
		png, err := chromedp.Run(u.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			u.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(u.dir, name+"-"+v.label+".png"), png, 0o644); err != nil {
			u.t.Fatal(err)
		}
	}
	u.do(chromedp.EmulateViewport(1280, 900))
}

// perf logs the screen's first contentful paint and transfer size (HTML and
// every resource, as the browser counted them): figures for the lead to read
// on a quiet machine, not assertions.
func (u *ui) perf(name string) {
	u.t.Helper()
	var p struct {
		FCP   float64 `json:"fcp"`
		Bytes int64   `json:"bytes"`
	}
	// The paint entry can arrive after the page is ready for the test: wait
	// for it (buffered, so one already recorded counts) up to 2 s.
	u.eval(`(async () => {
		const paint = () => performance.getEntriesByName("first-contentful-paint")[0];
		let fcp = paint();
		if (!fcp) {
			fcp = await new Promise(resolve => {
				const t = setTimeout(() => resolve(paint()), 2000);
				new PerformanceObserver((list, obs) => {
					const e = list.getEntriesByName("first-contentful-paint")[0];
					if (e) { clearTimeout(t); obs.disconnect(); resolve(e); }
				}).observe({type: "paint", buffered: true});
			});
		}
		const nav = performance.getEntriesByType("navigation")[0];
		let bytes = nav ? nav.transferSize : 0;
		performance.getEntriesByType("resource").forEach(r => bytes += r.transferSize);
		return {fcp: fcp ? fcp.startTime : -1, bytes: bytes};
	})()`, &p)
	u.t.Logf("perf %s: first contentful paint %.0f ms (-1: not reported by headless Chromium), %d bytes transferred", name, p.FCP, p.Bytes)
}

func (u *ui) axeRun(name string) {
	u.t.Helper()
	var loaded bool
	u.eval(`typeof axe !== "undefined"`, &loaded)
	if !loaded {
		if _, err := chromedp.Run(u.ctx, chromedp.Evaluate[chromedp.Void](u.axe)); err != nil {
			u.t.Fatalf("inject axe: %v", err)
		}
	}
	var res struct {
		Passes     int `json:"passes"`
		Violations []struct {
			ID     string   `json:"id"`
			Impact string   `json:"impact"`
			Help   string   `json:"help"`
			Nodes  []string `json:"nodes"`
		} `json:"violations"`
	}
	u.eval(`axe.run(document).then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)}))}))`, &res)
	if res.Passes == 0 {
		u.t.Fatalf("axe on %s checked nothing", name)
	}
	u.axeRuns++
	for _, v := range res.Violations {
		msg := fmt.Sprintf("%s [%s] %s: %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "))
		u.t.Logf("axe on %s: %s", name, msg)
		if v.Impact == "serious" || v.Impact == "critical" {
			u.violations[name] = append(u.violations[name], msg)
		}
	}
}

// TestDashboardInBrowser runs the scenario on SQLite, then on a fresh
// PostgreSQL schema (where PostgreSQL is required, its absence fails).
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	axe := needBrowser(t)
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		browserScenario(t, axe, databaseURL, dataDir, databaseURL != "")
	})
}

// browserScenario is the main flow and the other screens against a server
// on a fresh database; quick is the second database's run (see ui.quick).
func browserScenario(t *testing.T, axe, databaseURL, dataDir string, quick bool) {
	landing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>Landing</title><h1>You landed</h1></html>`)
	}))
	t.Cleanup(landing.Close)
	rcv := newReceiver(t)
	srv := startServer(t, databaseURL, dataDir, "--dedupe-window", "0")
	setup := ""
	for _, l := range strings.Split(srv.stdout.String(), "\n") {
		if strings.Contains(l, "/app/setup?token=") {
			setup = strings.TrimSpace(l)
		}
	}
	if setup == "" {
		t.Fatalf("no set-up address printed on the first start:\n%s", srv.stdout.String())
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.UserAgent(browserUA), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	u := &ui{t: t, ctx: ctx, base: srv.URL(), axe: axe, dir: screenshotDir(t), violations: map[string][]string{}, quick: quick}
	// A fixed time zone (UTC+9, no summer time) for the times entered in the
	// browser's own zone.
	u.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
		return err
	}))

	// Set-up address → owner account.
	u.do(chromedp.Navigate(setup))
	u.waitText("Create the owner account")
	u.check("setup")
	u.fill("f-email", "owner@example.com")
	u.fill("f-password", "a long passphrase")
	u.fill("f-password2", "a long passphrase")
	u.press("Create account")
	u.waitText("Welcome! Your account is ready.")
	u.check("links-empty")
	u.press("Log out")

	// Log in.
	u.waitText("Log in")
	u.check("login")
	u.fill("f-email", "owner@example.com")
	u.fill("f-password", "a long passphrase")
	u.press("Log in")
	u.waitText("No links yet")

	// Create a link through the form; its short URL is in the list.
	u.open("/app/links/new")
	u.check("link-new")
	u.typeInto("f-url", landing.URL+"/spring-sale")
	u.fill("f-key", "spring")
	u.fill("f-tagNames", "launch")
	// The UTM builder shows the final URL as it is typed.
	u.typeInto("f-utm_source", "newsletter")
	u.typeInto("f-utm_campaign", "spring sale")
	finalURL := landing.URL + "/spring-sale?utm_source=newsletter&utm_campaign=spring+sale"
	if got := u.evalString(`document.getElementById("utm-final").textContent`); got != finalURL {
		t.Fatalf("the UTM builder's final URL is %q, want %q", got, finalURL)
	}
	// The expiry is entered in the browser's time zone (Tokyo) and sent in UTC.
	if got := u.evalString(`document.querySelector('label[for="f-expiresAt"]').textContent`); got != "Expires at (your time, Asia/Tokyo)" {
		t.Fatalf("the expiry's label is %q", got)
	}
	u.typeInto("f-expiresAt", "2030-06-01T09:00")
	if got := u.evalString(`document.querySelector('input[type="hidden"][name="expiresAt"]').value`); got != "2030-06-01T00:00" {
		t.Fatalf("the expiry is sent as %q, want 2030-06-01T00:00 (UTC)", got)
	}
	u.waitText("Saved in UTC: 2030-06-01 00:00 UTC.")
	u.check("link-new-filled")
	u.press("Create link")
	short := srv.URL() + "/spring"
	u.waitText(short)
	u.check("links")

	// Open the short link: the browser lands on the destination.
	u.open("/spring")
	u.waitText("You landed")

	// The click shows in analytics.
	var linkID string
	u.open("/app/links")
	u.eval(`document.querySelector('input[name="id"]').value`, &linkID)
	u.reloadUntilJS("/app/analytics?linkId="+linkID+"&timezone=UTC", `document.querySelector('[data-total="clicks"]').textContent === "1"`)
	u.check("analytics")

	// A webhook scoped to that link, chosen with the picker.
	u.open("/app/webhooks")
	u.check("webhooks-empty")
	u.open("/app/webhooks/new")
	u.check("webhook-new")
	u.fill("f-name", "Clicks to my app")
	u.fill("f-url", rcv.URL())
	u.do(chromedp.Click(chromedp.CSS(`#t-link\.clicked`)))
	u.do(chromedp.SendKeys(chromedp.CSS("#picker-search"), "spring"))
	u.do(chromedp.Click(chromedp.CSS("#l-" + linkID)))
	u.press("Create webhook")
	u.waitText("Signing secret of Clicks to my app")
	var secret string
	u.eval(`document.getElementById("secret").value`, &secret)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown after create: %q", secret)
	}
	var webhookPath string
	u.eval(`new URL(document.querySelector('a.button').href).pathname`, &webhookPath)

	// Click again: the delivery arrives and appears in the log.
	u.open("/spring")
	u.waitText("You landed")
	clicked := waitDeliveries(t, rcv, "link.clicked", 1)
	u.reloadUntil(webhookPath, "success")
	u.check("webhook")
	u.open("/app/webhooks")
	u.check("webhooks")

	// Open the attempt, redeliver: the receiver gets it again.
	var attemptPath string
	u.open(webhookPath)
	u.eval(`new URL(document.querySelector('a[href*="/deliveries/"]').href).pathname`, &attemptPath)
	u.open(attemptPath)
	u.waitText("Delivery attempt 1 of link.clicked")
	u.waitText("Request body")
	u.waitText(`"event": "link.clicked"`)
	u.check("attempt")
	u.press("Redeliver")
	u.waitText("Redelivery queued")
	again := waitDeliveries(t, rcv, "link.clicked", 2)
	if a, b := clicked[0].Header.Get("webhook-id"), again[1].Header.Get("webhook-id"); a == "" || a != b {
		t.Fatalf("redelivery webhook-id %q, first %q: want the same event", b, a)
	}

	// The QR designer: a static text code, made in the form; its PNG
	// download decodes to the text.
	u.open("/app/qrcodes/new")
	u.waitText("Content type")
	u.do(chromedp.SetValue(chromedp.CSS("#f-type"), "text"))
	u.eval(`document.getElementById("f-type").dispatchEvent(new Event("change", {bubbles: true})), true`, nil)
	u.do(chromedp.Click(chromedp.CSS("#f-static")))
	u.do(chromedp.SendKeys(chromedp.CSS(`#f-text\.text`), "Hello from the designer"))
	u.reloadPreview("text.text=Hello")
	u.check("qrcode-designer")
	u.press("Create QR code")
	u.waitText("QR code created.")
	u.check("qrcode")
	var pngB64 string
	u.eval(`fetch(document.querySelector('a[href$="format=png"]').href).then(r => r.arrayBuffer()).then(b => {
		let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, &pngB64)
	png, err := base64.StdEncoding.DecodeString(pngB64)
	if err != nil {
		t.Fatal(err)
	}
	if got := qrtest.DecodePNG(t, png, 600); got != "Hello from the designer" {
		t.Fatalf("the designer's download decodes to %q", got)
	}
	// Edit the saved code: new text and colour, the live preview follows,
	// the download decodes to the new text.
	qrPath := u.evalString(`location.pathname`)
	u.open(qrPath + "/edit")
	u.waitText("Edit QR code")
	if got := u.evalString(`document.getElementById("f-text.text").value`); got != "Hello from the designer" {
		t.Fatalf("the edit form holds %q", got)
	}
	u.typeInto("f-text.text", "Hello again")
	u.reloadPreview("text.text=Hello+again")
	u.check("qrcode-edit")
	u.press("Save QR code")
	u.waitText("QR code saved.")
	u.eval(`fetch(document.querySelector('a[href$="format=png"]').href).then(r => r.arrayBuffer()).then(b => {
		let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, &pngB64)
	if png, err = base64.StdEncoding.DecodeString(pngB64); err != nil {
		t.Fatal(err)
	}
	if got := qrtest.DecodePNG(t, png, 600); got != "Hello again" {
		t.Fatalf("the edited code decodes to %q", got)
	}

	// A page built in the editor renders publicly with its form.
	u.open("/app/pages/new")
	u.waitText("Block 1: heading")
	u.fill("f-title", "Spring launch")
	u.fill("f-slug", "spring-launch")
	u.fill("b0-text", "Hello spring")
	u.press("Add form field")
	u.waitText("Form field 1")
	var formOn bool
	u.eval(`document.getElementById("f-form").checked`, &formOn)
	if !formOn {
		t.Fatal("adding a form field did not turn the lead form on")
	}
	u.fill("ff0-label", "Your e-mail")
	u.fill("ff0-name", "email")
	u.check("page-editor")
	u.press("Save page")
	u.waitText("Page saved.")
	u.press("Publish")
	u.waitText("Page published")
	u.open("/p/spring-launch")
	u.waitText("Hello spring")
	var hasForm bool
	u.eval(`document.querySelector('form input[name="email"]') !== null`, &hasForm)
	if !hasForm {
		t.Fatalf("the public page has no form:\n%s", u.text())
	}
	u.open("/app/pages")
	u.check("pages")

	// The link's expiry came back in UTC and shows in the browser's zone;
	// its final URL is the saved URL.
	u.open("/app/links/" + linkID)
	u.waitText("Save link")
	if got := u.evalString(`document.getElementById("f-expiresAt").value + " " + document.querySelector('input[type="hidden"][name="expiresAt"]').value`); got != "2030-06-01T09:00 2030-06-01T00:00" {
		t.Fatalf("the saved expiry (local, UTC) is %q", got)
	}
	if got := u.evalString(`document.getElementById("f-url").value`); got != finalURL {
		t.Fatalf("the saved URL is %q, want the final URL %q", got, finalURL)
	}

	// Tags: the link's tag, renamed.
	u.open("/app/tags")
	u.waitText("New tag")
	u.check("tags")
	u.do(chromedp.SetValue(chromedp.CSS(`.tags-list input[name="name"]`), "launch-2030"))
	u.press("Save tag launch")
	u.waitText("Tag saved.")
	u.waitText("launch-2030")

	// Settings → API keys: create (shown once), use, see its last use, revoke
	// after the question: /api refuses it at once.
	u.open("/app/settings")
	u.fill("k-name", "browser key")
	u.press("Create API key")
	u.waitText("shown once")
	key := u.evalString(`document.getElementById("newkey").value`)
	if !strings.HasPrefix(key, "codeqr_") {
		t.Fatalf("new key %q", key)
	}
	u.check("settings-key-created")
	apiStatus := func(path, body string) int {
		t.Helper()
		var st int
		method := "GET"
		if body != "" {
			method = "POST"
		}
		u.eval(fmt.Sprintf(`fetch(%q, {method: %q, headers: {"Authorization": "Bearer " + %q, "Content-Type": "application/json"}, body: %s}).then(r => r.status)`,
			path, method, key, map[bool]string{true: "null", false: fmt.Sprintf("%q", body)}[body == ""]), &st)
		return st
	}
	if st := apiStatus("/api/links", ""); st != http.StatusOK {
		t.Fatalf("the new key: /api/links answered %d", st)
	}
	// A customer with a lead and a sale, tracked with the key: a link with
	// conversion tracking, a visit (its cq_id), then the lead and the sale.
	if st := apiStatus("/api/links", fmt.Sprintf(`{"url":%q,"key":"tracked","trackConversion":true}`, landing.URL+"/shop")); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("create a tracked link: %d", st)
	}
	u.open("/tracked")
	u.waitText("You landed")
	cqID := u.evalString(`new URLSearchParams(location.search).get("cq_id") || ""`)
	if cqID == "" {
		t.Fatalf("the tracked link's visit has no cq_id: %s", u.evalString(`location.href`))
	}
	u.open("/app/settings")
	if st := apiStatus("/api/track/lead", fmt.Sprintf(`{"clickId":%q,"eventName":"Sign up","customerExternalId":"cust-1","customerName":"Dana Browser"}`, cqID)); st/100 != 2 {
		t.Fatalf("track lead: %d", st)
	}
	if st := apiStatus("/api/track/sale", `{"customerExternalId":"cust-1","amount":4200,"currency":"eur","invoiceId":"inv-9"}`); st/100 != 2 {
		t.Fatalf("track sale: %d", st)
	}
	u.reloadUntilJS("/app/settings", `(() => { const r = document.querySelector("tr[data-key]"); return r !== null && r.cells[0].innerText === "browser key" && r.cells[4].innerText.endsWith("UTC"); })()`)
	u.acceptConfirms()
	u.press("Revoke key browser key")
	u.waitText("API key revoked")
	u.check("settings-key-revoked")
	if st := apiStatus("/api/links", ""); st != http.StatusUnauthorized {
		t.Fatalf("the revoked key: /api/links answered %d, want 401", st)
	}

	// The customer's detail: each lead and sale, with the totals.
	u.open("/app/customers")
	u.waitText("Dana Browser")
	u.open(u.evalString(`new URL(document.querySelector('a[href^="/app/customers/"]').href).pathname`))
	u.waitText("inv-9")
	u.waitText("42.00 eur")
	u.waitText("Sign up")
	u.check("customer")

	// Members: another account joins; the owner makes it owner, then member
	// again; the only owner cannot become a member.
	srv.createUser("member@example.com", "another passphrase", "default", "member")
	u.open("/app/settings")
	u.waitText("member@example.com")
	u.press("Make owner member@example.com")
	u.waitText("Role changed.")
	u.check("settings-members")
	u.press("Make member member@example.com")
	u.waitText("Role changed.")
	u.press("Make member owner@example.com")
	u.waitText("the last owner of a project cannot become a member")

	// The other screens, for axe and screenshots.
	for _, s := range []struct{ path, name, text string }{
		{"/app/settings", "settings", "API keys"},
		{"/app/qrcodes", "qrcodes", "QR codes"},
		{"/app/customers", "customers", "Dana Browser"},
		{"/app/partners", "partners", "Enroll a partner"},
		{"/app/account", "account", "Change password"},
		{"/app/projects/new", "project-new", "Create a project"},
		{"/app/links/" + linkID, "link-edit", "Save link"},
	} {
		u.open(s.path)
		u.waitText(s.text)
		u.check(s.name)
	}
	if quick {
		t.Logf("axe ran on %d screens (desktop, light; no screenshots)", u.axeRuns)
	} else {
		t.Logf("axe ran %d times on %d screens; screenshots in %s", u.axeRuns, u.axeRuns/2, u.dir)
	}
	for name, vs := range u.violations {
		t.Errorf("axe: %d serious or critical violation(s) on %s:\n  %s", len(vs), name, strings.Join(vs, "\n  "))
	}
}

// waitDeliveries waits until the receiver has n deliveries of event type typ
// and returns them in arrival order.
func waitDeliveries(t *testing.T, r *receiver, typ string, n int) []delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got []delivery
		for _, d := range r.all() {
			var e struct {
				Event string `json:"event"`
			}
			if json.Unmarshal(d.Body, &e) == nil && e.Event == typ {
				got = append(got, d)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d %s deliveries within 20s, want %d", len(got), typ, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
