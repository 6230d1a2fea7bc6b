package api_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testserver"
)

// analyticsNow is the pinned "now" of the analytics tests.
var analyticsNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type analyticsEnv struct {
	*linkEnv
	p1, p2         string // project ids
	l1, l2, p2Link string // link ids (l1, l2 in p1)
	page           string // page id in p1
}

func newAnalyticsEnv(t *testing.T, st *store.Store) *analyticsEnv {
	t.Helper()
	ctx := context.Background()
	cfg := config.Config{BaseURL: "https://go.test"}.WithDefaults()
	a, srv := testserver.Run(t, st, cfg, app.Options{Clock: func() time.Time { return analyticsNow }})
	ps := a.Projects
	proj1, key, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, ro, _, err := ps.EnsureWithKey(ctx, "p1", "ro", []string{projects.ScopeLinksRead})
	if err != nil {
		t.Fatal(err)
	}
	proj2, other, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	ls := a.Links
	newLink := func(project string) string {
		l, err := ls.Create(ctx, project, links.CreateRequest{URL: "https://shop.example/" + ids.Random(6)})
		if err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	pg, err := a.Pages.Create(ctx, proj1.ID, pages.CreateRequest{Title: "Hello", Published: true})
	if err != nil {
		t.Fatal(err)
	}
	return &analyticsEnv{
		linkEnv: &linkEnv{srv: srv, st: st, key: key, ro: ro, other: other},
		p1:      proj1.ID, p2: proj2.ID, l1: newLink(proj1.ID), l2: newLink(proj1.ID), p2Link: newLink(proj2.ID), page: pg.ID,
	}
}

// row is one interactions row; zero fields get plausible defaults.
type row struct {
	project, kind, link, qr, page    string
	country, city, continent, device string
	browser, os, referer             string
	bot, repeat                      bool
	at                               time.Time
}

func insertRows(t *testing.T, st *store.Store, rows ...row) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for _, r := range rows {
			or := func(s, d string) string {
				if s == "" {
					return d
				}
				return s
			}
			nullable := func(s string) any {
				if s == "" {
					return nil
				}
				return s
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO interactions (click_id, project_id, kind, link_id, qrcode_id, page_id,
url, ip, continent, country, region, city, latitude, longitude, device, device_vendor, device_model, browser,
browser_version, engine, engine_version, os, os_version, cpu_architecture, ua, bot, qr, referer, referer_url, counted, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 'https://shop.example/', '203.0.113.7', $7, $8, 'Unknown', $9, NULL, NULL, $10, 'Apple', 'iPhone',
$11, '18.0', 'WebKit', '605.1.15', $12, '18.0', 'Unknown', 'test-agent', $13, FALSE, $14, $15, $16, $17)`,
				ids.Random(16), r.project, or(r.kind, "click"), nullable(r.link), nullable(r.qr), nullable(r.page),
				or(r.continent, "NA"), or(r.country, "US"), or(r.city, "Unknown"), or(r.device, "Mobile"),
				or(r.browser, "Safari"), or(r.os, "iOS"), r.bot, or(r.referer, "(direct)"), "https://"+or(r.referer, "(direct)")+"/",
				!r.bot && !r.repeat, store.Millis(r.at))
			if err != nil {
				return err
			}
		}
		return rebuildRollups(ctx, tx, rows)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rebuildRollups recounts the rollups of the rows' projects: the rows are
// written with plain SQL here, not through the interactions pipeline.
func rebuildRollups(ctx context.Context, tx *store.Tx, rows []row) error {
	done := map[string]bool{}
	for _, r := range rows {
		if !done[r.project] {
			done[r.project] = true
			if err := rollups.Rebuild(ctx, tx, r.project); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *analyticsEnv) get(t *testing.T, path, key string, dst any) {
	t.Helper()
	code, b := e.do(t, "GET", path, key, "")
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatalf("GET %s: %s: %v", path, b, err)
	}
}

// jsonRows is a group-by answer decoded generically, numbers as float64.
type jsonRows = []map[string]any

func wantRows(t *testing.T, e *analyticsEnv, path string, want jsonRows) {
	t.Helper()
	var got jsonRows
	e.get(t, path, e.key, &got)
	if strings.Contains(path, "top_links") {
		// Each row also carries the link's own fields (Dub's shape).
		for _, r := range got {
			if r["link"] != r["linkId"] || r["id"] != r["linkId"] || r["shortLink"] == nil || r["domain"] == nil || r["createdAt"] == nil {
				t.Fatalf("GET %s: row without the link's fields: %v", path, r)
			}
			for _, k := range []string{"link", "id", "domain", "key", "shortLink", "url", "title", "comments", "folderId", "partnerId", "createdAt"} {
				delete(r, k)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		t.Fatalf("GET %s:\n got %s\nwant %s", path, gb, wb)
	}
}

func TestAnalytics(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAnalyticsEnv(t, st)
		h := func(d time.Duration) time.Time { return analyticsNow.Add(-d) }
		insertRows(t, st,
			row{project: e.p1, link: e.l1, referer: "google.com", at: h(time.Hour)},
			row{project: e.p1, link: e.l1, device: "Desktop", browser: "Chrome", os: "Windows", at: h(2 * time.Hour)},
			row{project: e.p1, link: e.l2, country: "DE", city: "Berlin", continent: "EU", browser: "Chrome", os: "Android", at: h(3 * time.Hour)},
			row{project: e.p1, link: e.l1, bot: true, device: "Bot", at: h(time.Hour)},
			row{project: e.p1, link: e.l1, repeat: true, at: h(time.Hour)},
			row{project: e.p1, kind: "scan", qr: "qr_x", country: "FR", continent: "EU", at: h(5 * time.Hour)},
			row{project: e.p1, kind: "view", page: e.page, country: "GB", continent: "EU", at: h(30 * time.Hour)},
			row{project: e.p1, link: e.l1, at: h(24*time.Hour + time.Millisecond)}, // just outside 24h
			row{project: e.p1, link: e.l1, at: analyticsNow},                       // end is exclusive
			row{project: e.p2, link: e.p2Link, country: "JP", at: h(time.Hour)},
			row{project: e.p2, link: e.p2Link, country: "JP", at: h(time.Hour)},
		)

		t.Run("count", func(t *testing.T) {
			var c analytics.Counts
			e.get(t, "/api/analytics", e.key, &c)
			if want := (analytics.Counts{Clicks: 3, Scans: 1}); c != want {
				t.Fatalf("default count %+v, want %+v", c, want)
			}
			e.get(t, "/api/analytics?groupBy=count&includeBots=true", e.key, &c)
			if c.Clicks != 4 { // the bot, not the human repeat
				t.Fatalf("includeBots clicks %d, want 4", c.Clicks)
			}
			e.get(t, "/api/analytics?groupBy=count&interval=7d", e.key, &c)
			if c.Clicks != 4 || c.Views != 1 || c.Scans != 1 {
				t.Fatalf("7d count %+v", c)
			}
			e.get(t, "/api/analytics?groupBy=count&linkId="+e.l1, e.key, &c)
			if want := (analytics.Counts{Clicks: 2}); c != want {
				t.Fatalf("linkId count %+v, want %+v", c, want)
			}
			e.get(t, "/api/analytics?groupBy=count&interval=all&pageId="+e.page, e.key, &c)
			if want := (analytics.Counts{Views: 1}); c != want {
				t.Fatalf("pageId count %+v, want %+v", c, want)
			}
			e.get(t, "/api/analytics?groupBy=count", e.other, &c)
			if want := (analytics.Counts{Clicks: 2}); c != want {
				t.Fatalf("other project's count %+v, want %+v", c, want)
			}
			// The exact key set of the wire object.
			var m map[string]any
			e.get(t, "/api/analytics", e.key, &m)
			if want := map[string]any{"clicks": 3.0, "scans": 1.0, "views": 0.0, "leads": 0.0, "sales": 0.0, "saleAmount": 0.0}; !reflect.DeepEqual(m, want) {
				t.Fatalf("count object %v", m)
			}
		})

		t.Run("groupBy", func(t *testing.T) {
			wantRows(t, e, "/api/analytics?event=clicks&groupBy=countries", jsonRows{
				{"country": "US", "clicks": 2.0}, {"country": "DE", "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?event=clicks&groupBy=countries&includeBots=true", jsonRows{
				{"country": "US", "clicks": 3.0}, {"country": "DE", "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=cities", jsonRows{
				{"city": "Unknown", "region": "Unknown", "country": "US", "clicks": 2.0}, {"city": "Berlin", "region": "Unknown", "country": "DE", "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=continents&interval=7d&event=views", jsonRows{
				{"continent": "EU", "views": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=devices", jsonRows{
				{"device": "Mobile", "clicks": 2.0}, {"device": "Desktop", "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=browsers", jsonRows{
				{"browser": "Chrome", "clicks": 2.0}, {"browser": "Safari", "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=os", jsonRows{
				{"os": "Android", "clicks": 1.0}, {"os": "Windows", "clicks": 1.0}, {"os": "iOS", "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=referers", jsonRows{
				{"referer": "(direct)", "clicks": 2.0}, {"referer": "google.com", "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=top_links", jsonRows{
				{"linkId": e.l1, "clicks": 2.0}, {"linkId": e.l2, "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=top_links&linkId="+e.l2, jsonRows{{"linkId": e.l2, "clicks": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=top_qrcodes&event=scans", jsonRows{{"qrcodeId": "qr_x", "scans": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=top_pages&event=views&interval=30d", jsonRows{{"pageId": e.page, "views": 1.0}})
			wantRows(t, e, "/api/analytics?groupBy=countries&event=views", jsonRows{})
			wantRows(t, e, "/api/analytics?groupBy=top_links&event=leads", jsonRows{})
		})

		t.Run("timeseries", func(t *testing.T) {
			var got jsonRows
			e.get(t, "/api/analytics?groupBy=timeseries", e.key, &got)
			if len(got) != 24 || got[0]["start"] != "2026-11-26T12:00:00Z" || got[23]["start"] != "2026-11-27T11:00:00Z" {
				t.Fatalf("24h buckets: %d, first %v, last %v", len(got), got[0], got[len(got)-1])
			}
			wantCounts := make([]float64, 24)
			wantCounts[21], wantCounts[22], wantCounts[23] = 1, 1, 1 // 09:00, 10:00, 11:00
			for i, r := range got {
				if r["clicks"] != wantCounts[i] {
					t.Fatalf("bucket %d %v, want %v clicks", i, r, wantCounts[i])
				}
			}
			e.get(t, "/api/analytics?groupBy=timeseries&interval=7d&timezone=America/New_York&event=views", e.key, &got)
			// 7 days back from 07:00 EST is Nov 20 07:00: buckets Nov 20 … Nov 27 local.
			if len(got) != 8 || got[0]["start"] != "2026-11-20T00:00:00-05:00" || got[6]["views"] != 1.0 {
				t.Fatalf("7d New York: %v", got)
			}
			e.get(t, "/api/analytics?groupBy=timeseries&interval=1y&timezone=Europe/Berlin", e.key, &got)
			if len(got) != 13 || got[0]["start"] != "2025-11-01T00:00:00+01:00" || got[12]["start"] != "2026-11-01T00:00:00+01:00" || got[12]["clicks"] != 4.0 {
				t.Fatalf("1y Berlin: %v", got)
			}
			e.get(t, "/api/analytics?groupBy=timeseries&interval=all&event=scans", e.key, &got)
			if len(got) != 1 || got[0]["start"] != "2026-11-01T00:00:00Z" || got[0]["scans"] != 1.0 {
				t.Fatalf("all scans: %v", got)
			}
		})

		t.Run("events", func(t *testing.T) {
			var got []map[string]any
			e.get(t, "/api/events?event=clicks", e.key, &got)
			if len(got) != 3 {
				t.Fatalf("%d events, want 3: %v", len(got), got)
			}
			first := got[0]
			click, _ := first["click"].(map[string]any)
			link, _ := first["link"].(map[string]any)
			if first["event"] != "click" || first["kind"] != "click" || first["linkId"] != e.l1 || first["link_id"] != e.l1 ||
				first["qrcodeId"] != nil || first["pageId"] != nil || link["id"] != e.l1 || first["domain"] != link["domain"] ||
				first["timestamp"] != h(time.Hour).Format(time.RFC3339) || first["country"] != "US" || click["referer"] != "google.com" ||
				first["referer"] != "google.com" || click["latitude"] != nil || click["bot"] != false || click["qr"] != false || first["qr"] != 0.0 ||
				len(click["clickId"].(string)) != 16 || click["id"] != click["clickId"] || first["click_id"] != click["id"] || first["clickId"] != click["id"] {
				t.Fatalf("first event %v", first)
			}
			for _, k := range []string{"timestamp", "clickId", "url", "ip", "continent", "country", "region", "city", "latitude",
				"longitude", "device", "deviceVendor", "deviceModel", "browser", "browserVersion", "engine", "engineVersion",
				"os", "osVersion", "cpuArchitecture", "ua", "bot", "qr", "referer", "refererUrl"} {
				if _, ok := click[k]; !ok {
					t.Fatalf("event's click lacks %s: %v", k, first)
				}
				if _, ok := first[k]; !ok {
					t.Fatalf("event lacks %s: %v", k, first)
				}
			}
			if len(first) != 36 { // the 25 interaction fields, kind and the 3 resource ids, and Dub's 7
				t.Fatalf("event has %d fields, want 36: %v", len(first), first)
			}
			if got[1]["device"] != "Desktop" || got[2]["country"] != "DE" {
				t.Fatalf("events not newest first: %v", got)
			}
			e.get(t, "/api/events?event=clicks&page=2&pageSize=1", e.key, &got)
			if len(got) != 1 || got[0]["device"] != "Desktop" {
				t.Fatalf("page 2: %v", got)
			}
			e.get(t, "/api/events?includeBots=true", e.key, &got)
			if len(got) != 5 { // 4 clicks with the bot + 1 scan
				t.Fatalf("%d events with bots, want 5", len(got))
			}
			e.get(t, "/api/events?event=views&interval=7d&pageId="+e.page, e.key, &got)
			if len(got) != 1 || got[0]["kind"] != "view" || got[0]["pageId"] != e.page || got[0]["linkId"] != nil {
				t.Fatalf("views: %v", got)
			}
			e.get(t, "/api/events", e.other, &got)
			if len(got) != 2 || got[0]["country"] != "JP" {
				t.Fatalf("other project's events: %v", got)
			}
		})

		t.Run("errors", func(t *testing.T) {
			for _, c := range []struct {
				path, key string
				status    int
				code      string
				mention   string
			}{
				{"/api/analytics?event=taps", e.key, 422, "unprocessable_entity", "event"},
				{"/api/analytics?groupBy=planets", e.key, 422, "unprocessable_entity", "groupBy"},
				{"/api/analytics?interval=2d", e.key, 422, "unprocessable_entity", "interval"},
				{"/api/analytics?timezone=Mars/Olympus", e.key, 422, "unprocessable_entity", "timezone"},
				{"/api/analytics?timezone=Local", e.key, 422, "unprocessable_entity", "timezone"},
				{"/api/analytics?timezone=" + strings.Repeat("A/", 40), e.key, 422, "unprocessable_entity", "timezone"},
				{"/api/analytics?start=2026-11-02T00:00:00Z&end=2026-11-01T00:00:00Z", e.key, 422, "unprocessable_entity", "start"},
				{"/api/analytics?start=2026-11-01T00:00:00Z&end=2026-11-01T00:00:00Z", e.key, 422, "unprocessable_entity", "start"},
				{"/api/analytics?start=2020-01-01T00:00:00Z&end=2026-01-01T00:00:00Z", e.key, 422, "unprocessable_entity", "5 years"},
				{"/api/analytics?start=yesterday", e.key, 400, "bad_request", "start"},
				{"/api/analytics?end=2026-13-01T00:00:00Z", e.key, 400, "bad_request", "end"},
				{"/api/analytics?includeBots=maybe", e.key, 400, "bad_request", "includeBots"},
				{"/api/analytics?trigger=nfc", e.key, 422, "unprocessable_entity", "trigger"},
				{"/api/analytics?qr=perhaps", e.key, 400, "bad_request", "qr"},
				{"/api/analytics?tagId=tag_nope", e.key, 404, "not_found", "tag"},
				{"/api/analytics?linkId=" + e.l1, e.other, 404, "not_found", e.l1},
				{"/api/analytics?linkId=" + e.p2Link, e.key, 404, "not_found", "link"},
				{"/api/analytics?qrcodeId=qr_x", e.key, 404, "not_found", "QR code"},
				{"/api/analytics?pageId=" + e.page, e.other, 404, "not_found", "page"},
				{"/api/analytics", e.ro, 403, "forbidden", "analytics.read"},
				{"/api/analytics", "", 401, "unauthorized", ""},
				{"/api/events?event=taps", e.key, 422, "unprocessable_entity", "event"},
				{"/api/events?utm_source=x", e.key, 422, "unprocessable_entity", "utm_source"},
				{"/api/events?pageSize=1000", e.key, 400, "bad_request", "pageSize"},
				{"/api/events?linkId=" + e.l1, e.other, 404, "not_found", "link"},
				{"/api/events?start=2026-11-02T00:00:00Z&end=2026-11-01T00:00:00Z", e.key, 422, "unprocessable_entity", "start"},
				{"/api/events", e.ro, 403, "forbidden", "analytics.read"},
			} {
				code, b := e.do(t, "GET", c.path, c.key, "")
				wantLinkError(t, code, b, c.status, c.code, c.mention)
			}
		})
	})
}

// TestAnalyticsTimezoneBuckets checks bucket boundaries in a zone, across the
// end of summer time in Berlin (2026-10-25 03:00 CEST → 02:00 CET) and in a
// zone with a half-hour offset.
func TestAnalyticsTimezoneBuckets(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAnalyticsEnv(t, st)
		utc := func(s string) time.Time {
			v, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		insertRows(t, st,
			row{project: e.p1, link: e.l1, at: utc("2026-10-24T21:59:59.999Z")}, // Oct 24 23:59:59.999 CEST
			row{project: e.p1, link: e.l1, at: utc("2026-10-24T22:00:00Z")},     // Oct 25 00:00 CEST
			row{project: e.p1, link: e.l1, at: utc("2026-10-25T00:30:00Z")},     // Oct 25 02:30 CEST
			row{project: e.p1, link: e.l1, at: utc("2026-10-25T01:10:00Z")},     // Oct 25 02:10 CET (the repeated hour)
			row{project: e.p1, link: e.l1, at: utc("2026-10-25T22:59:00Z")},     // Oct 25 23:59 CET (a 25-hour day)
			row{project: e.p1, link: e.l1, at: utc("2026-10-25T23:00:00Z")},     // Oct 26 00:00 CET
			row{project: e.p1, link: e.l2, at: utc("2026-11-27T05:10:00Z")},     // 10:40 IST
			row{project: e.p1, link: e.l2, at: utc("2026-11-27T05:45:00Z")},     // 11:15 IST
		)
		wantRows(t, e, "/api/analytics?groupBy=timeseries&timezone=Europe/Berlin&linkId="+e.l1+
			"&start=2026-10-24T00:00:00%2B02:00&end=2026-10-27T00:00:00%2B01:00", jsonRows{
			{"start": "2026-10-24T00:00:00+02:00", "clicks": 1.0},
			{"start": "2026-10-25T00:00:00+02:00", "clicks": 4.0},
			{"start": "2026-10-26T00:00:00+01:00", "clicks": 1.0},
		})
		// The same rows in UTC days.
		wantRows(t, e, "/api/analytics?groupBy=timeseries&linkId="+e.l1+
			"&start=2026-10-24T00:00:00Z&end=2026-10-27T00:00:00Z", jsonRows{
			{"start": "2026-10-24T00:00:00Z", "clicks": 2.0},
			{"start": "2026-10-25T00:00:00Z", "clicks": 4.0},
			{"start": "2026-10-26T00:00:00Z", "clicks": 0.0},
		})
		// Hourly across the change: 02:00 CEST and 02:00 CET are two buckets.
		wantRows(t, e, "/api/analytics?groupBy=timeseries&timezone=Europe/Berlin&linkId="+e.l1+
			"&start=2026-10-25T00:00:00Z&end=2026-10-25T03:00:00Z", jsonRows{
			{"start": "2026-10-25T02:00:00+02:00", "clicks": 1.0},
			{"start": "2026-10-25T02:00:00+01:00", "clicks": 1.0},
			{"start": "2026-10-25T03:00:00+01:00", "clicks": 0.0},
		})
		// Half-hour offset: buckets start at :30 UTC.
		wantRows(t, e, "/api/analytics?groupBy=timeseries&timezone=Asia/Kolkata&linkId="+e.l2+
			"&start=2026-11-27T05:00:00Z&end=2026-11-27T07:00:00Z", jsonRows{
			{"start": "2026-11-27T10:00:00+05:30", "clicks": 1.0},
			{"start": "2026-11-27T11:00:00+05:30", "clicks": 1.0},
			{"start": "2026-11-27T12:00:00+05:30", "clicks": 0.0},
		})
		// Monthly in Berlin, from the first interaction on.
		wantRows(t, e, "/api/analytics?groupBy=timeseries&interval=all&timezone=Europe/Berlin", jsonRows{
			{"start": "2026-10-01T00:00:00+02:00", "clicks": 6.0},
			{"start": "2026-11-01T00:00:00+01:00", "clicks": 2.0},
		})
	})
}

// TestAnalyticsConversions checks that leads and sales are counted from their
// tables (migration 0009).
func TestAnalyticsConversions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAnalyticsEnv(t, st)
		var c analytics.Counts
		e.get(t, "/api/analytics?interval=all", e.key, &c)
		if c != (analytics.Counts{}) {
			t.Fatalf("counts before any conversion %+v", c)
		}
		at := store.Millis(analyticsNow.Add(-time.Hour))
		customer := func(project string) string {
			id := "cus_" + ids.Random(12)
			exec(t, st, "INSERT INTO customers (id, project_id, external_id, created_at, updated_at) VALUES ($1, $2, $1, $3, $3)", id, project, at)
			return id
		}
		lead := func(project, link string, at int64) {
			exec(t, st, "INSERT INTO leads (id, project_id, customer_id, event_name, quantity, link_id, created_at) VALUES ($1, $2, $3, 'Sign up', 1, $4, $5)",
				ids.Random(12), project, customer(project), link, at)
		}
		for i, l := range []string{e.l1, e.l1, e.l2} {
			lead(e.p1, l, at-int64(i))
		}
		lead(e.p2, e.p2Link, at)
		for _, amount := range []int64{1999, 500} {
			exec(t, st, "INSERT INTO sales (id, project_id, customer_id, event_name, amount, currency, payment_processor, link_id, created_at) VALUES ($1, $2, $3, 'Purchase', $4, 'usd', 'custom', $5, $6)",
				ids.Random(12), e.p1, customer(e.p1), amount, e.l1, at)
		}
		for _, p := range []string{e.p1, e.p2} {
			if err := st.InTx(context.Background(), func(tx *store.Tx) error { return rollups.Rebuild(context.Background(), tx, p) }); err != nil {
				t.Fatal(err)
			}
		}
		e.get(t, "/api/analytics", e.key, &c)
		if want := (analytics.Counts{Leads: 3, Sales: 2, SaleAmount: 2499}); c != want {
			t.Fatalf("counts %+v, want %+v", c, want)
		}
		e.get(t, "/api/analytics?linkId="+e.l2, e.key, &c)
		if want := (analytics.Counts{Leads: 1}); c != want {
			t.Fatalf("linkId counts %+v, want %+v", c, want)
		}
		wantRows(t, e, "/api/analytics?event=leads&groupBy=top_links", jsonRows{
			{"linkId": e.l1, "leads": 2.0}, {"linkId": e.l2, "leads": 1.0}})
		wantRows(t, e, "/api/analytics?event=sales&groupBy=top_links", jsonRows{
			{"linkId": e.l1, "sales": 2.0, "saleAmount": 2499.0}})
		var ts jsonRows
		e.get(t, "/api/analytics?event=sales&groupBy=timeseries", e.key, &ts)
		if len(ts) != 24 || ts[23]["sales"] != 2.0 || ts[23]["saleAmount"] != 2499.0 || ts[0]["saleAmount"] != 0.0 {
			t.Fatalf("sales timeseries %v", ts)
		}
	})
}

// exec runs one statement in a write transaction.
func exec(t *testing.T, st *store.Store, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
