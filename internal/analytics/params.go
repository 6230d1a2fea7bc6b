package analytics

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	// Embedded zone database: `timezone` works on hosts without
	// /usr/share/zoneinfo (distroless images, Windows).
	_ "time/tzdata"

	"github.com/codeqr/codeqr/internal/errs"
)

// Events that can be asked for, and the interaction kind each one counts.
const (
	EventClicks = "clicks"
	EventScans  = "scans"
	EventViews  = "views"
	EventLeads  = "leads"
	EventSales  = "sales"
)

// kindOf maps an interaction event to the interactions.kind it stores.
var kindOf = map[string]string{EventClicks: "click", EventScans: "scan", EventViews: "view"}

var allEvents = []string{EventClicks, EventScans, EventViews, EventLeads, EventSales}

// GroupBy values.
const (
	GroupCount      = "count"
	GroupTimeseries = "timeseries"
)

// dimension is a group-by over one interactions column.
type dimension struct {
	column string // interactions column
	key    string // JSON name of the group value
	// extra columns reported beside the key (cities also say their country).
	extraColumn, extraKey string
	// conversions is true when leads and sales can be grouped this way too
	// (their tables carry only the resource ids).
	conversions bool
}

var dimensions = map[string]dimension{
	"countries":   {column: "country", key: "country"},
	"cities":      {column: "city", key: "city", extraColumn: "country", extraKey: "country"},
	"continents":  {column: "continent", key: "continent"},
	"devices":     {column: "device", key: "device"},
	"browsers":    {column: "browser", key: "browser"},
	"os":          {column: "os", key: "os"},
	"referers":    {column: "referer", key: "referer"},
	"top_links":   {column: "link_id", key: "linkId", conversions: true},
	"top_qrcodes": {column: "qrcode_id", key: "qrcodeId", conversions: true},
	"top_pages":   {column: "page_id", key: "pageId", conversions: true},
}

var allGroupBys = []string{GroupCount, GroupTimeseries, "countries", "cities", "continents", "devices",
	"browsers", "os", "referers", "top_links", "top_qrcodes", "top_pages"}

// intervals are the preset windows ending now; "all" has no start.
var intervals = []string{"24h", "7d", "30d", "90d", "1y", "all"}

// MaxRange bounds an explicit start/end window (longer scans are costly and
// monthly buckets already cover them via interval=all).
const MaxRange = 5 // years

// maxTimezoneLen bounds the timezone parameter before it reaches LoadLocation.
const maxTimezoneLen = 64

// Params is one analytics or events request, validated.
type Params struct {
	Event    string // one of the Event constants; "" only for Events (all three kinds)
	GroupBy  string
	Interval string
	// Start and End, when set, override Interval (RFC 3339).
	Start, End *time.Time
	Location   *time.Location
	LinkID     string
	QRCodeID   string
	PageID     string
	// IncludeBots adds bot interactions. Repeats of a human visitor inside the
	// dedupe window stay excluded either way: they are not new visits, bot or
	// not. Bot rows carry no separate repeat flag, so with IncludeBots every
	// bot interaction is included, repeats too.
	IncludeBots bool
}

// ParseParams reads the query string of GET /api/analytics. Unreadable values
// (times, booleans) are BadInput (400); readable values outside the allowed set
// (event, groupBy, interval, timezone) are Invalid (422). Window rules that need
// the current time (start after end, range) are checked by the Service.
func ParseParams(v url.Values) (Params, error) {
	p, err := parseCommon(v)
	if err != nil {
		return Params{}, err
	}
	p.Event = v.Get("event")
	if p.Event == "" {
		p.Event = EventClicks
	}
	if !slices.Contains(allEvents, p.Event) {
		return Params{}, errs.Invalid("event must be one of %s", strings.Join(allEvents, ", "))
	}
	p.GroupBy = v.Get("groupBy")
	if p.GroupBy == "" {
		p.GroupBy = GroupCount
	}
	if !slices.Contains(allGroupBys, p.GroupBy) {
		return Params{}, errs.Invalid("groupBy must be one of %s", strings.Join(allGroupBys, ", "))
	}
	if d, ok := dimensions[p.GroupBy]; ok && !d.conversions && (p.Event == EventLeads || p.Event == EventSales) {
		return Params{}, errs.Invalid("groupBy %s is not available for %s; use count, timeseries, top_links, top_qrcodes or top_pages", p.GroupBy, p.Event)
	}
	return p, nil
}

// ParseEventParams reads the query string of GET /api/events: the same time,
// resource and bot filters, and event limited to the interaction kinds
// (empty means all three).
func ParseEventParams(v url.Values) (Params, error) {
	p, err := parseCommon(v)
	if err != nil {
		return Params{}, err
	}
	p.Event = v.Get("event")
	if p.Event != "" && kindOf[p.Event] == "" {
		return Params{}, errs.Invalid("event must be clicks, scans or views")
	}
	return p, nil
}

func parseCommon(v url.Values) (Params, error) {
	p := Params{Interval: v.Get("interval"), LinkID: v.Get("linkId"), QRCodeID: v.Get("qrcodeId"), PageID: v.Get("pageId")}
	if p.Interval == "" {
		p.Interval = "24h"
	}
	if !slices.Contains(intervals, p.Interval) {
		return Params{}, errs.Invalid("interval must be one of %s", strings.Join(intervals, ", "))
	}
	var err error
	if p.Start, err = parseTime(v, "start"); err != nil {
		return Params{}, err
	}
	if p.End, err = parseTime(v, "end"); err != nil {
		return Params{}, err
	}
	if p.Location, err = parseTimezone(v.Get("timezone")); err != nil {
		return Params{}, err
	}
	if s := v.Get("includeBots"); s != "" {
		if p.IncludeBots, err = strconv.ParseBool(s); err != nil {
			return Params{}, errs.BadInput("includeBots must be true or false")
		}
	}
	return p, nil
}

func parseTime(v url.Values, name string) (*time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, errs.BadInput("%s must be an RFC 3339 time such as 2026-11-27T00:00:00Z", name)
	}
	return &t, nil
}

func parseTimezone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	// "Local" would be the server's zone, which means nothing to a client.
	if len(name) > maxTimezoneLen || name == "Local" {
		return nil, errs.Invalid("timezone must be an IANA time zone name such as Europe/Berlin")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errs.Invalid("timezone %q is not an IANA time zone name such as Europe/Berlin", name)
	}
	return loc, nil
}

// granularity is the size of timeseries buckets.
type granularity int

const (
	hourly granularity = iota
	daily
	monthly
)

// window is the resolved time range [start, end) in Unix ms; start 0 means
// "from the beginning" (interval=all).
type window struct {
	start, end int64
	gran       granularity
}

// resolve turns Interval/Start/End into a window as of now. Explicit times
// override the interval: a missing end is now, a missing start is end minus
// the interval.
func (p Params) resolve(now time.Time) (window, error) {
	end := now
	if p.End != nil {
		end = *p.End
	}
	var start time.Time
	all := false
	if p.Start != nil {
		start = *p.Start
	} else {
		switch p.Interval {
		case "24h":
			start = end.Add(-24 * time.Hour)
		case "7d":
			start = end.AddDate(0, 0, -7)
		case "30d":
			start = end.AddDate(0, 0, -30)
		case "90d":
			start = end.AddDate(0, 0, -90)
		case "1y":
			start = end.AddDate(-1, 0, 0)
		default: // all
			all = true
		}
	}
	if !all && !start.Before(end) {
		return window{}, errs.Invalid("start must be before end")
	}
	if (p.Start != nil || p.End != nil) && !all && start.AddDate(MaxRange, 0, 0).Before(end) {
		return window{}, errs.Invalid("the time range must not be longer than %d years", MaxRange)
	}
	w := window{end: end.UnixMilli()}
	if all {
		w.gran = monthly
		return w, nil
	}
	w.start = start.UnixMilli()
	w.gran = granularityOf(p, end.Sub(start))
	return w, nil
}

// granularityOf follows the presets (24h hourly, 7d–90d daily, 1y and all
// monthly) and, for explicit ranges, the range length.
func granularityOf(p Params, d time.Duration) granularity {
	if p.Start == nil && p.End == nil {
		switch p.Interval {
		case "24h":
			return hourly
		case "1y", "all":
			return monthly
		}
		return daily
	}
	switch {
	case d <= 48*time.Hour:
		return hourly
	case d <= 180*24*time.Hour:
		return daily
	}
	return monthly
}
