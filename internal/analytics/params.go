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
	"github.com/codeqr/codeqr/internal/rollups"
)

// Events that can be asked for, and the interaction kind each one counts.
const (
	EventClicks    = "clicks"
	EventScans     = "scans"
	EventViews     = "views"
	EventLeads     = "leads"
	EventSales     = "sales"
	EventComposite = "composite" // every count at once: clicks, scans, views, leads, sales, saleAmount
)

// kindOf maps an event to the rollup kind it counts.
var kindOf = map[string]string{EventClicks: rollups.KindClick, EventScans: rollups.KindScan, EventViews: rollups.KindView,
	EventLeads: rollups.KindLead, EventSales: rollups.KindSale}

// eventOfKind is the reverse of kindOf.
var eventOfKind = map[string]string{rollups.KindClick: EventClicks, rollups.KindScan: EventScans, rollups.KindView: EventViews,
	rollups.KindLead: EventLeads, rollups.KindSale: EventSales}

// allKinds are the kinds of the composite answer and of groupBy=count.
var allKinds = []string{rollups.KindClick, rollups.KindScan, rollups.KindView, rollups.KindLead, rollups.KindSale}

var allEvents = []string{EventClicks, EventScans, EventViews, EventLeads, EventSales, EventComposite}

// GroupBy values.
const (
	GroupCount      = "count"
	GroupTimeseries = "timeseries"
)

// dimension is a group-by: the rollup dimension it reads and how a value
// becomes the fields of a row.
type dimension struct {
	dim    string   // rollups dimension
	fields []string // JSON names of the value's parts (rollups.Sep-joined)
	// via, for top_tags and top_partners: the value is a link (or QR code)
	// id, mapped to tags or partners by their current assignment.
	via string
}

var dimensions = map[string]dimension{
	"continents":    {dim: rollups.Continent, fields: []string{"continent"}},
	"countries":     {dim: rollups.Country, fields: []string{"country"}},
	"regions":       {dim: rollups.Region, fields: []string{"country", "region"}},
	"cities":        {dim: rollups.City, fields: []string{"country", "region", "city"}},
	"devices":       {dim: rollups.Device, fields: []string{"device"}},
	"browsers":      {dim: rollups.Browser, fields: []string{"browser"}},
	"os":            {dim: rollups.OS, fields: []string{"os"}},
	"referers":      {dim: rollups.Referer, fields: []string{"referer"}},
	"referer_urls":  {dim: rollups.RefererURL, fields: []string{"refererUrl"}},
	"top_urls":      {dim: rollups.URL, fields: []string{"url"}},
	"triggers":      {dim: rollups.Trigger, fields: []string{"trigger"}},
	"utm_sources":   {dim: rollups.UTMSource, fields: []string{"utm_source"}},
	"utm_mediums":   {dim: rollups.UTMMedium, fields: []string{"utm_medium"}},
	"utm_campaigns": {dim: rollups.UTMCamp, fields: []string{"utm_campaign"}},
	"utm_terms":     {dim: rollups.UTMTerm, fields: []string{"utm_term"}},
	"utm_contents":  {dim: rollups.UTMContent, fields: []string{"utm_content"}},
	"top_links":     {dim: rollups.LinkID, fields: []string{"linkId"}},
	"top_qrcodes":   {dim: rollups.QRCodeID, fields: []string{"qrcodeId"}},
	"top_pages":     {dim: rollups.PageID, fields: []string{"pageId"}},
	"top_tags":      {dim: rollups.LinkID, fields: []string{"tagId"}, via: "tags"},
	"top_partners":  {dim: rollups.LinkID, fields: []string{"partnerId"}, via: "partners"},
}

var allGroupBys = []string{GroupCount, GroupTimeseries, "continents", "countries", "regions", "cities", "devices",
	"browsers", "os", "referers", "referer_urls", "top_urls", "triggers", "utm_sources", "utm_mediums", "utm_campaigns",
	"utm_terms", "utm_contents", "top_links", "top_qrcodes", "top_pages", "top_tags", "top_partners"}

// Filter is one dimension filter: only rows whose Dim is Value. For the
// composite dimensions (region, city) Value is matched against the part the
// parameter names (the region or the city), not the whole composite value.
type Filter struct {
	Param string // query parameter
	Dim   string // rollups dimension
	Value string
}

// filterParams are the dimension filters of GET /api/analytics and
// GET /api/events, by query parameter.
var filterParams = []struct{ param, dim string }{
	{"continent", rollups.Continent}, {"country", rollups.Country}, {"region", rollups.Region},
	{"city", rollups.City}, {"device", rollups.Device}, {"browser", rollups.Browser}, {"os", rollups.OS},
	{"referer", rollups.Referer}, {"refererUrl", rollups.RefererURL}, {"url", rollups.URL},
	{"trigger", rollups.Trigger}, {"utm_source", rollups.UTMSource}, {"utm_medium", rollups.UTMMedium},
	{"utm_campaign", rollups.UTMCamp}, {"utm_term", rollups.UTMTerm}, {"utm_content", rollups.UTMContent},
}

// maxFilterLen bounds a filter value.
const maxFilterLen = 2048

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
	// Filters are the dimension filters, all of which must hold.
	Filters []Filter
	// TagID and Domain restrict to the links and QR codes that carry the tag
	// or live on the domain now (and the pages on the domain).
	TagID, Domain string
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
		return Params{}, errs.Invalid("event must be clicks, scans, views, leads or sales")
	}
	for _, f := range p.Filters {
		if _, utm := rollups.UTMParams[f.Dim]; utm {
			return Params{}, errs.Invalid("%s is not a filter of /api/events (it is one of /api/analytics)", f.Param)
		}
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
	for _, f := range filterParams {
		val := v.Get(f.param)
		if val == "" {
			continue
		}
		if len(val) > maxFilterLen {
			return Params{}, errs.Invalid("%s must be at most %d bytes", f.param, maxFilterLen)
		}
		if f.dim == rollups.Trigger && val != "qr" && val != "link" {
			return Params{}, errs.Invalid("trigger must be qr or link")
		}
		p.Filters = append(p.Filters, Filter{Param: f.param, Dim: f.dim, Value: val})
	}
	if s := v.Get("qr"); s != "" {
		qr, err := strconv.ParseBool(s)
		if err != nil {
			return Params{}, errs.BadInput("qr must be true or false")
		}
		trig := "link"
		if qr {
			trig = "qr"
		}
		p.Filters = append(p.Filters, Filter{Param: "qr", Dim: rollups.Trigger, Value: trig})
	}
	p.TagID, p.Domain = v.Get("tagId"), v.Get("domain")
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
