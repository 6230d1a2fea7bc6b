package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/qrcodes"
)

// bar is one bar of a chart, in the SVG's coordinates.
type bar struct {
	X, Y, W, H float64
	Label      string
	Value      int64
}

// chart is a server-drawn SVG bar chart with its data as a table beside it.
type chart struct {
	Bars          []bar
	Max           int64
	Width, Height float64
	First, Last   string
}

type breakdown struct {
	Title, Key string
	Rows       []breakdownRow
}

type breakdownRow struct {
	Label string
	Value int64
	Pct   int
}

type analyticsData struct {
	Event, Interval, Timezone     string
	From, To                      string
	LinkID, QRCodeID, PageID      string
	Counts                        analytics.Counts
	Chart                         chart
	Breakdowns                    []breakdown
	Links                         []links.Link
	QRCodes                       []qrcodes.QRCode
	Pages                         []pages.Page
	Events, Intervals             []string
	LinkNames, QRNames, PageNames map[string]string
}

var breakdownGroups = []struct{ group, title, key string }{
	{"top_links", "Top links", "linkId"}, {"top_qrcodes", "Top QR codes", "qrcodeId"}, {"top_pages", "Top pages", "pageId"},
	{"countries", "Countries", "country"}, {"cities", "Cities", "city"}, {"continents", "Continents", "continent"},
	{"devices", "Devices", "device"}, {"browsers", "Browsers", "browser"}, {"os", "Operating systems", "os"},
	{"referers", "Referers", "referer"},
}

// analyticsPage asks the analytics service exactly what GET /api/analytics
// asks it (same parameters, same parser), so the numbers are the API's.
func (d *Dashboard) analyticsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	ctx := r.Context()
	q := r.URL.Query()
	base := url.Values{}
	for _, k := range []string{"event", "interval", "timezone", "linkId", "qrcodeId", "pageId", "start", "end"} {
		if v := q.Get(k); v != "" {
			base.Set(k, v)
		}
	}
	// A custom range from the form's date-time fields (read as UTC).
	for _, f := range []struct{ form, param string }{{"from", "start"}, {"to", "end"}} {
		if v := strings.TrimSpace(q.Get(f.form)); v != "" {
			t, err := parseLocal(v)
			if err != nil {
				return errs.Invalid("%s must be a date and time such as 2030-01-31T12:00", f.form)
			}
			base.Set(f.param, t)
			base.Del("interval")
		}
	}
	if base.Get("interval") == "" && base.Get("start") == "" {
		base.Set("interval", "30d")
	}
	ask := func(group string) (any, error) {
		v := url.Values{}
		for k, x := range base {
			v[k] = x
		}
		v.Set("groupBy", group)
		p, err := analytics.ParseParams(v)
		if err != nil {
			return nil, err
		}
		return d.Analytics.Query(ctx, c.ProjectID(), p)
	}
	countsAny, err := ask(analytics.GroupCount)
	if err != nil {
		return err
	}
	data := analyticsData{Event: base.Get("event"), Interval: base.Get("interval"), Timezone: base.Get("timezone"),
		From: q.Get("from"), To: q.Get("to"),
		LinkID: base.Get("linkId"), QRCodeID: base.Get("qrcodeId"), PageID: base.Get("pageId"),
		Counts:    countsAny.(analytics.Counts),
		Events:    []string{analytics.EventClicks, analytics.EventScans, analytics.EventViews, analytics.EventLeads, analytics.EventSales},
		Intervals: []string{"24h", "7d", "30d", "90d", "1y", "all"}}
	if data.Event == "" {
		data.Event = analytics.EventClicks
	}
	tsAny, err := ask(analytics.GroupTimeseries)
	if err != nil {
		return err
	}
	data.Chart = drawChart(tsAny.([]analytics.Row), data.Event)

	if data.Links, err = d.Links.List(ctx, c.ProjectID(), links.ListOptions{PageSize: 100}); err != nil {
		return err
	}
	if data.QRCodes, err = d.QRCodes.List(ctx, c.ProjectID(), qrcodes.ListFilter{PageSize: 100}); err != nil {
		return err
	}
	if data.Pages, err = d.Pages.List(ctx, c.ProjectID(), pages.ListOptions{PageSize: 100}); err != nil {
		return err
	}
	names := map[string]string{}
	for _, l := range data.Links {
		names[l.ID] = l.ShortLink
	}
	for _, x := range data.QRCodes {
		names[x.ID] = qrName(x)
	}
	for _, p := range data.Pages {
		names[p.ID] = p.Title
	}
	for _, g := range breakdownGroups {
		rowsAny, err := ask(g.group)
		if errs.KindOf(err) == errs.KindInvalid {
			continue // a grouping this event does not offer (e.g. countries of sales)
		}
		if err != nil {
			return err
		}
		rows := rowsAny.([]analytics.Row)
		b := breakdown{Title: g.title, Key: g.key}
		var total int64
		for _, row := range rows {
			total += toInt(row[data.Event])
		}
		for i, row := range rows {
			if i == 10 {
				break
			}
			label := str(row[g.key])
			if n, ok := names[label]; ok {
				label = n
			}
			if label == "" {
				label = "(unknown)"
			}
			if g.key == "city" && row["country"] != nil {
				label += ", " + str(row["country"])
			}
			n := toInt(row[data.Event])
			pct := 0
			if total > 0 {
				pct = int(n * 100 / total)
			}
			b.Rows = append(b.Rows, breakdownRow{Label: label, Value: n, Pct: pct})
		}
		data.Breakdowns = append(data.Breakdowns, b)
	}
	return d.ok(w, r, c, "analytics", "Analytics", "analytics", data)
}

func qrName(x qrcodes.QRCode) string {
	if x.ShortLink != nil {
		return *x.ShortLink
	}
	return string(x.Type) + " " + x.ID
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

func drawChart(rows []analytics.Row, event string) chart {
	ch := chart{Width: 640, Height: 200}
	if len(rows) == 0 {
		return ch
	}
	for _, row := range rows {
		if n := toInt(row[event]); n > ch.Max {
			ch.Max = n
		}
	}
	slot := ch.Width / float64(len(rows))
	for i, row := range rows {
		n := toInt(row[event])
		h := 0.0
		if ch.Max > 0 {
			h = float64(n) / float64(ch.Max) * (ch.Height - 20)
		}
		label := str(row["start"])
		if t, err := time.Parse(time.RFC3339, label); err == nil {
			label = t.Format("2006-01-02 15:04")
		}
		ch.Bars = append(ch.Bars, bar{X: float64(i)*slot + slot*0.1, W: slot * 0.8, Y: ch.Height - h, H: h,
			Label: fmt.Sprintf("%s: %d", label, n), Value: n})
	}
	ch.First, ch.Last = rowLabel(rows[0]), rowLabel(rows[len(rows)-1])
	return ch
}

func rowLabel(r analytics.Row) string {
	s := str(r["start"])
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format("Jan 2 15:04")
	}
	return s
}
