package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tracking"
)

// The DST changes of 2026 the data is spread around (US, EU, Lord Howe's
// half hour, southern hemisphere), and the zones queries are asked in: whole,
// half- and quarter-hour offsets, with and without DST.
var (
	dstChanges = []string{"2026-03-08T10:00:00Z", "2026-03-29T01:00:00Z", "2026-04-04T15:00:00Z",
		"2026-10-03T16:00:00Z", "2026-10-25T01:00:00Z", "2026-11-01T06:00:00Z"}
	propZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
		"Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Australia/Adelaide", "Africa/Monrovia"}
	pools = map[string][]string{
		"continent": {"EU", "NA", "AS"}, "country": {"DE", "US", "IN", "NP"}, "region": {"BE", "CA", "KA"},
		"city": {"Berlin", "Austin", "Bengaluru"}, "device": {"Mobile", "Desktop", "Tablet"},
		"browser": {"Chrome", "Safari", "Firefox"}, "os": {"iOS", "Android", "Windows"},
		"referer": {"(direct)", "google.com", "t.co"}, "utm_source": {"news", "ads"}, "utm_medium": {"email", "cpc"},
		"utm_campaign": {"bf", "spring sale"}, "utm_term": {"shoes"}, "utm_content": {"hero", "footer"},
	}
)

type propProject struct {
	id             string
	links, qrcodes []string
	pages          []string
	tag, domain    string
	clickIDs       []string
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func randomInteraction(r *rand.Rand, at time.Time) tracking.Interaction {
	u := "https://shop.example/p" + fmt.Sprint(r.IntN(3))
	q := url.Values{}
	for _, k := range []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"} {
		if r.IntN(2) == 0 {
			q.Set(k, pick(r, pools[k]))
		}
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ref := pick(r, pools["referer"])
	in := tracking.Interaction{Timestamp: at.UTC().Truncate(time.Millisecond), ClickID: ids.ClickID(), URL: u,
		IP: fmt.Sprintf("10.0.0.%d", r.IntN(40)), Continent: pick(r, pools["continent"]), Country: pick(r, pools["country"]),
		Region: pick(r, pools["region"]), City: pick(r, pools["city"]), Device: pick(r, pools["device"]),
		DeviceVendor: "V", DeviceModel: "M", Browser: pick(r, pools["browser"]), BrowserVersion: "1", Engine: "E",
		EngineVersion: "1", OS: pick(r, pools["os"]), OSVersion: "1", CPUArchitecture: "amd64", UA: fmt.Sprintf("ua%d", r.IntN(3)),
		Bot: r.IntN(10) == 0, QR: r.IntN(3) == 0, Referer: ref, RefererURL: "https://" + ref + "/x" + fmt.Sprint(r.IntN(2))}
	// Unknown parts of the location (country, region and city counts are
	// all read from the city rows, whose value joins the three).
	switch r.IntN(12) {
	case 0:
		in.Country, in.Region, in.City = "", "", ""
	case 1:
		in.Region = ""
	case 2:
		in.City = ""
	}
	return in
}

// randomTime is near one of the DST changes (within ±60 h), at any ms.
func randomTime(r *rand.Rand) time.Time {
	c, _ := time.Parse(time.RFC3339, pick(r, dstChanges))
	return c.Add(time.Duration(r.Int64N(int64(120*time.Hour))) - 60*time.Hour).Add(time.Duration(r.IntN(1000)) * time.Millisecond)
}

// TestRollupsEqualRawScan is the property the rollups rest on: for random
// interactions and conversions (several projects, resources, dimensions,
// timestamps across DST changes) and random queries (every groupBy and
// event, dimension and resource filters, windows, time zones with half- and
// quarter-hour offsets), the answer from the rollups equals the raw scan's.
func TestRollupsEqualRawScan(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		r := rand.New(rand.NewPCG(seed, 7))
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		projs := seedProperty(t, ctx, st, r)
		svc := NewService(st)
		queries := 0
		for queries < 280 {
			pr := pick(r, projs)
			v := randomQuery(r, pr)
			switch {
			case queries >= 220:
				countryQuery(r, v)
			case queries >= 160:
				geoQuery(r, v)
			}
			p, err := ParseParams(v)
			if err != nil {
				t.Fatalf("%s: %v", v.Encode(), err)
			}
			now := randomTime(r)
			got, gerr := svc.WithClock(func() time.Time { return now }).Query(ctx, pr.id, p)
			want, werr := svc.RawScan().WithClock(func() time.Time { return now }).Query(ctx, pr.id, p)
			if (gerr != nil) != (werr != nil) {
				t.Fatalf("%s: errors differ: %v vs %v", v.Encode(), gerr, werr)
			}
			if gerr != nil {
				continue // an invalid window: both refuse it
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if !reflect.DeepEqual(gb, wb) {
				t.Fatalf("%s (now %s):\nrollups %s\nraw     %s", v.Encode(), now.Format(time.RFC3339Nano), gb, wb)
			}
			queries++
		}
		// The rollup table itself equals a recount of the raw rows.
		for _, pr := range projs {
			got, err := rollups.Load(ctx, st.Read(), pr.id)
			if err != nil {
				t.Fatal(err)
			}
			want, err := rollups.Recount(ctx, st.Read(), pr.id)
			if err != nil {
				t.Fatal(err)
			}
			if d := rollups.Diff(want, got, 5); len(d) > 0 {
				t.Fatalf("rollups differ from a recount: %v", d)
			}
		}
	})
}

func seedProperty(t *testing.T, ctx context.Context, st *store.Store, r *rand.Rand) []*propProject {
	t.Helper()
	var projs []*propProject
	for i := range 3 {
		p, _, _, err := projects.NewService(st, nil).EnsureWithKey(ctx, fmt.Sprintf("prop%d", i), "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		pr := &propProject{id: p.ID, tag: ids.New("tag"), domain: "d" + fmt.Sprint(i) + ".example"}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			storetest.MustExec(t, tx, "INSERT INTO tags (id, project_id, name, color, created_at, updated_at) VALUES ($1, $2, 't', 'red', 0, 0)", pr.tag, pr.id)
			for j := range 4 {
				id := ids.New("link")
				dom := pr.domain
				if j == 3 {
					dom = "other.example"
				}
				key := ids.Random(8)
				storetest.MustExec(t, tx, "INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ($1, $2, $3, 'link', $4)", dom, key, pr.id, id)
				storetest.MustExec(t, tx, "INSERT INTO links (id, project_id, domain, key, url, partner_id, created_at, updated_at) VALUES ($1, $2, $3, $4, 'https://shop.example/', $5, 0, 0)",
					id, pr.id, dom, key, []any{"pn_a", "pn_b", nil, "pn_a"}[j])
				if j%2 == 0 {
					storetest.MustExec(t, tx, "INSERT INTO link_tags (link_id, tag_id) VALUES ($1, $2)", id, pr.tag)
				}
				pr.links = append(pr.links, id)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		pr.qrcodes = []string{ids.New("qr"), ids.New("qr")}
		pr.pages = []string{ids.New("page")}
		projs = append(projs, pr)
	}
	pipe := interactions.New(st, events.NewWriter(nil, nil), interactions.Options{FlushInterval: time.Hour, MaxBatch: 1 + r.IntN(400)})
	// Not started: Flush (whenever the buffer is full, so Record never waits
	// for room) and Stop write the buffer in batches of MaxBatch, the same
	// batch writer the flusher uses.
	for range 2500 {
		if pipe.Pending() >= pipe.Limit() {
			if err := pipe.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		pr := pick(r, projs)
		rec := interactions.Record{ProjectID: pr.id, Interaction: randomInteraction(r, randomTime(r))}
		switch n := r.IntN(10); {
		case n < 7:
			rec.Kind, rec.ResourceID = interactions.KindClick, pick(r, pr.links)
		case n < 9:
			rec.Kind, rec.ResourceID = interactions.KindScan, pick(r, pr.qrcodes)
		default:
			rec.Kind, rec.ResourceID = interactions.KindView, pick(r, pr.pages)
		}
		pr.clickIDs = append(pr.clickIDs, rec.Interaction.ClickID)
		pipe.Record(rec)
	}
	if err := pipe.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var clock time.Time
	conv := conversions.NewService(st, events.NewWriter(nil, nil), conversions.Options{Now: func() time.Time { return clock }})
	for _, pr := range projs {
		for i := range 40 {
			clock = randomTime(r)
			click := pick(r, pr.clickIDs)
			cust := fmt.Sprintf("c%d", i)
			if _, _, err := conv.TrackLead(ctx, pr.id, conversions.LeadRequest{ClickID: &click, EventName: "Sign up", CustomerExternalID: cust}); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				clock = randomTime(r)
				amount := json.RawMessage(fmt.Sprint(100 + r.IntN(5000)))
				if _, _, err := conv.TrackSale(ctx, pr.id, conversions.SaleRequest{CustomerExternalID: cust, Amount: amount}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return projs
}

// geoQuery turns a random query into one that the rollups answer from the
// city rows alone: one country, region or city filter (or none) and a
// location or resource group-by, the count or the timeseries.
func geoQuery(r *rand.Rand, v url.Values) {
	for _, f := range filterParams {
		v.Del(f.param)
	}
	v.Set("groupBy", pick(r, []string{GroupCount, GroupTimeseries, "countries", "regions", "cities", "top_links",
		"top_qrcodes", "top_pages", "top_tags", "top_partners"}))
	if f := pick(r, []string{"", "country", "region", "city"}); f != "" {
		v.Set(f, pick(r, pools[f]))
	}
}

// countryQuery turns a random query into one with a country filter alone,
// which the rollups answer from the per-country rows for most group-bys.
func countryQuery(r *rand.Rand, v url.Values) {
	for _, f := range filterParams {
		v.Del(f.param)
	}
	v.Set("country", pick(r, pools["country"]))
}

func randomQuery(r *rand.Rand, pr *propProject) url.Values {
	v := url.Values{}
	v.Set("event", pick(r, allEvents))
	v.Set("groupBy", pick(r, allGroupBys))
	v.Set("timezone", pick(r, propZones))
	switch r.IntN(4) {
	case 0:
		v.Set("interval", pick(r, intervals))
	default:
		a := randomTime(r)
		if r.IntN(3) == 0 {
			a = a.Truncate(15 * time.Minute)
		}
		d := []time.Duration{time.Duration(r.Int64N(int64(48 * time.Hour))), time.Duration(r.Int64N(int64(170 * 24 * time.Hour))),
			time.Duration(r.Int64N(int64(300 * 24 * time.Hour)))}[r.IntN(3)] + time.Millisecond
		v.Set("start", a.Add(-d/2).Format(time.RFC3339Nano))
		v.Set("end", a.Add(d/2+time.Millisecond).Format(time.RFC3339Nano))
	}
	nf := []int{0, 0, 1, 1, 2}[r.IntN(5)]
	for range nf {
		f := pick(r, filterParams)
		switch f.param {
		case "trigger":
			v.Set("trigger", pick(r, []string{"qr", "link"}))
		case "url", "refererUrl":
			v.Set(f.param, pick(r, []string{"https://shop.example/p1", "https://google.com/x0"}))
		default:
			v.Set(f.param, pick(r, pools[f.param]))
		}
	}
	switch r.IntN(8) {
	case 0:
		v.Set("linkId", pick(r, pr.links))
	case 1:
		v.Set("tagId", pr.tag)
	case 2:
		v.Set("domain", pr.domain)
	}
	if r.IntN(3) == 0 {
		v.Set("includeBots", "true")
	}
	return v
}
