package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/url"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tracking"
)

// AnalyticsOptions configure Analytics.
type AnalyticsOptions struct {
	N     int           // interactions to write
	Span  time.Duration // spread over the last Span (default 30 days)
	Links int           // links they are spread over, Zipf-like (default 200)
	Batch int           // interactions per write transaction (default 5000)
	Runs  int           // timed runs of each query (default 20)
	Now   time.Time     // end of the data and "now" of the queries (default time.Now)
	Seed  uint64        // data generator seed
	Log   io.Writer     // progress
	Limit time.Duration // stop timing queries after this long (0: no limit)
	// IngestProfile and QueryProfile, when set, receive a CPU profile of
	// the ingest phase and of the query phase.
	IngestProfile, QueryProfile io.Writer
}

// QueryTiming is the latency of one query shape.
type QueryTiming struct {
	Name     string // groupBy, interval and filter
	P50, P95 time.Duration
}

// AnalyticsResult is what one run of Analytics measured.
type AnalyticsResult struct {
	Database         string
	N                int
	Batch            int
	Ingest           time.Duration
	PerSec           float64
	RollupRows       int64
	RawBytes         int64 // size of the interactions table and its indexes, when the database tells
	RollupBytes      int64
	Queries          []QueryTiming
	SlowestP95       QueryTiming
	ProjectID, Links string
}

// Print writes the summary block, one line per query.
func (r AnalyticsResult) Print(w io.Writer) {
	fmt.Fprintf(w, "codeqr bench analytics: %s, %d interactions in batches of %d\n", r.Database, r.N, r.Batch)
	fmt.Fprintf(w, "  ingest               %s (%.0f interactions/s, rollups on)\n", r.Ingest.Round(time.Millisecond), r.PerSec)
	if r.N > 0 {
		fmt.Fprintf(w, "  rollup rows          %d (%.0f per million interactions)\n", r.RollupRows, float64(r.RollupRows)*1e6/float64(r.N))
		if r.RawBytes > 0 {
			fmt.Fprintf(w, "  raw bytes            %.0f per interaction (table and indexes)\n", float64(r.RawBytes)/float64(r.N))
		}
		if r.RollupBytes > 0 {
			fmt.Fprintf(w, "  rollup bytes         %.0f per interaction\n", float64(r.RollupBytes)/float64(r.N))
		}
	}
	for _, q := range r.Queries {
		fmt.Fprintf(w, "  %-58s p50 %9s  p95 %9s\n", q.Name, ms(q.P50), ms(q.P95))
	}
	if r.SlowestP95.Name != "" {
		fmt.Fprintf(w, "  slowest p95          %s %s\n", r.SlowestP95.Name, ms(r.SlowestP95.P95))
	}
}

// Analytics fills a fresh project with N synthetic interactions through the
// interactions pipeline's batch writer (the same transaction the server
// writes: raw rows, counters, rollups), then times every groupBy × interval,
// unfiltered, filtered by the busiest link, and filtered by one dimension.
func Analytics(ctx context.Context, st *store.Store, o AnalyticsOptions) (AnalyticsResult, error) {
	if o.Span <= 0 {
		o.Span = 30 * 24 * time.Hour
	}
	if o.Links <= 0 {
		o.Links = 200
	}
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.Runs <= 0 {
		o.Runs = 20
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	res := AnalyticsResult{Database: st.Dialect().Name(), N: o.N, Batch: o.Batch}
	p, _, _, err := projects.NewService(st, nil).EnsureWithKey(ctx, "bench-"+strings.ToLower(ids.Random(8)), "bench", nil)
	if err != nil {
		return res, err
	}
	res.ProjectID = p.ID
	linkIDs, err := benchLinks(ctx, st, p.ID, o.Links)
	if err != nil {
		return res, err
	}
	res.Links = linkIDs[0]
	pipe := interactions.New(st, events.NewWriter(nil, nil), interactions.Options{
		FlushInterval: time.Hour, MaxBatch: o.Batch, MaxBuffered: 4 * o.Batch, DedupeWindow: -1})
	gen := newGenerator(o.Seed, p.ID, linkIDs)
	stopProfile, err := startProfile(o.IngestProfile)
	if err != nil {
		return res, err
	}
	defer stopProfile()
	start := time.Now()
	from := o.Now.Add(-o.Span)
	step := o.Span / time.Duration(max(o.N, 1))
	// Records are buffered in time order, as traffic arrives, and written a
	// batch at a time.
	for i := 0; i < o.N; {
		n := min(o.Batch, o.N-i)
		for j := range n {
			pipe.Record(gen.next(from.Add(step * time.Duration(i+j))))
		}
		i += n
		if err := pipe.Flush(ctx); err != nil {
			return res, err
		}
		if i%(o.Batch*40) == 0 || i == o.N {
			el := time.Since(start)
			fmt.Fprintf(o.Log, "bench analytics: %d/%d written, %.0f/s\n", i, o.N, float64(i)/el.Seconds())
		}
	}
	res.Ingest = time.Since(start)
	res.PerSec = float64(o.N) / res.Ingest.Seconds()
	stopProfile()
	if err := pipe.Stop(ctx); err != nil {
		return res, err
	}
	if err := st.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM analytics_rollups WHERE project_id = $1", p.ID).Scan(&res.RollupRows); err != nil {
		return res, err
	}
	res.RawBytes, res.RollupBytes = tableBytes(ctx, st)
	svc := analytics.NewService(st).WithClock(func() time.Time { return o.Now })
	deadline := time.Time{}
	if o.Limit > 0 {
		deadline = time.Now().Add(o.Limit)
	}
	stopProfile, err = startProfile(o.QueryProfile)
	if err != nil {
		return res, err
	}
	defer stopProfile()
	groupBys := []string{"count", "timeseries", "continents", "countries", "regions", "cities", "devices", "browsers", "os",
		"referers", "referer_urls", "top_urls", "triggers", "utm_sources", "utm_mediums", "utm_campaigns", "utm_terms",
		"utm_contents", "top_links", "top_qrcodes", "top_pages", "top_tags", "top_partners"}
	filters := []struct{ name, key, value string }{{"", "", ""}, {"linkId", "linkId", linkIDs[0]}, {"country=US", "country", "US"}}
	for _, f := range filters {
		for _, gb := range groupBys {
			for _, iv := range []string{"24h", "7d", "30d", "90d", "1y", "all"} {
				v := url.Values{"groupBy": {gb}, "interval": {iv}, "timezone": {"Europe/Berlin"}}
				if f.key != "" {
					v.Set(f.key, f.value)
				}
				params, err := analytics.ParseParams(v)
				if err != nil {
					return res, err
				}
				var ds []time.Duration
				for range o.Runs {
					t0 := time.Now()
					if _, err := svc.Query(ctx, p.ID, params); err != nil {
						return res, fmt.Errorf("%s: %w", v.Encode(), err)
					}
					ds = append(ds, time.Since(t0))
				}
				l := summarise(ds)
				name := fmt.Sprintf("groupBy=%s interval=%s", gb, iv)
				if f.name != "" {
					name += " " + f.name
				}
				q := QueryTiming{Name: name, P50: l.P50, P95: percentile(ds, 0.95)}
				res.Queries = append(res.Queries, q)
				if q.P95 > res.SlowestP95.P95 {
					res.SlowestP95 = q
				}
				if !deadline.IsZero() && time.Now().After(deadline) {
					return res, fmt.Errorf("bench analytics: query phase over its limit")
				}
			}
		}
	}
	return res, nil
}

// startProfile starts a CPU profile into w (none when w is nil) and returns
// its stop function.
func startProfile(w io.Writer) (stop func(), err error) {
	if w == nil {
		return func() {}, nil
	}
	if err := pprof.StartCPUProfile(w); err != nil {
		return nil, fmt.Errorf("bench analytics: cpu profile: %w", err)
	}
	return sync.OnceFunc(pprof.StopCPUProfile), nil
}

// percentile is the nearest-rank q-quantile of ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// tableBytes is the on-disk size of the interactions table with its
// indexes and of the rollups, where the database reports it.
func tableBytes(ctx context.Context, st *store.Store) (raw, roll int64) {
	switch st.Dialect().Name() {
	case "postgres":
		_ = st.Read().QueryRowContext(ctx, "SELECT pg_total_relation_size('interactions'), pg_total_relation_size('analytics_rollups')").Scan(&raw, &roll)
	default:
		_ = st.Read().QueryRowContext(ctx, `SELECT
COALESCE((SELECT SUM(pgsize) FROM dbstat WHERE name = 'interactions' OR name LIKE 'interactions\_%' ESCAPE '\' OR name = 'sqlite_autoindex_interactions_1'), 0),
COALESCE((SELECT SUM(pgsize) FROM dbstat WHERE name = 'analytics_rollups' OR name LIKE 'sqlite_autoindex_analytics_rollups%'), 0)`).Scan(&raw, &roll)
	}
	return raw, roll
}

// benchLinks creates the project's links directly (they are the setting, not
// what is measured).
func benchLinks(ctx context.Context, st *store.Store, projectID string, n int) ([]string, error) {
	out := make([]string, n)
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for i := range out {
			out[i] = ids.New("link")
			key := ids.Random(10)
			if _, err := tx.ExecContext(ctx, "INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ('bench.example', $1, $2, 'link', $3)", key, projectID, out[i]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO links (id, project_id, domain, key, url, created_at, updated_at) VALUES ($1, $2, 'bench.example', $3, 'https://shop.example/', 0, 0)", out[i], projectID, key); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// generator makes plausible interactions: Zipf-like popularity of links,
// countries, cities, referers; a device/browser/OS mix; some QR scans of
// links, bots and UTM-tagged destinations.
type generator struct {
	projectID string
	r         *rand.Rand
	links     []string
	zl        *rand.Zipf
	zc        *rand.Zipf
	zr        *rand.Zipf
	dest      []string
}

var (
	benchCountries = []struct{ continent, country, region string }{{"NA", "US", "CA"}, {"EU", "DE", "BE"}, {"EU", "GB", "ENG"},
		{"AS", "IN", "KA"}, {"EU", "FR", "IDF"}, {"SA", "BR", "SP"}, {"AS", "JP", "13"}, {"NA", "CA", "ON"}, {"EU", "ES", "MD"},
		{"OC", "AU", "NSW"}, {"EU", "NL", "NH"}, {"EU", "IT", "LO"}, {"AS", "ID", "JK"}, {"NA", "MX", "CMX"}, {"EU", "PL", "MZ"},
		{"AF", "NG", "LA"}, {"EU", "SE", "AB"}, {"AS", "KR", "11"}, {"EU", "CH", "ZH"}, {"AF", "ZA", "GT"}}
	benchCities    = []string{"Unknown", "Capital", "Second City", "Harbour", "Old Town", "New Town", "Riverside", "Hills"}
	benchReferers  = []string{"(direct)", "google.com", "t.co", "facebook.com", "linkedin.com", "reddit.com", "news.ycombinator.com", "instagram.com", "youtube.com", "bing.com"}
	benchDevices   = []struct{ device, os, browser string }{{"Mobile", "iOS", "Mobile Safari"}, {"Mobile", "Android", "Chrome"}, {"Desktop", "Windows", "Chrome"}, {"Desktop", "Mac OS", "Safari"}, {"Desktop", "Windows", "Edge"}, {"Desktop", "Linux", "Firefox"}, {"Tablet", "iOS", "Mobile Safari"}}
	benchDeviceWts = []int{30, 28, 18, 10, 6, 4, 4}
)

func newGenerator(seed uint64, projectID string, links []string) *generator {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	g := &generator{r: r, projectID: projectID, links: links,
		zl: rand.NewZipf(r, 1.2, 1, uint64(len(links)-1)),
		zc: rand.NewZipf(r, 1.3, 1, uint64(len(benchCountries)-1)),
		zr: rand.NewZipf(r, 1.4, 1, uint64(len(benchReferers)-1))}
	for i := range len(links) {
		u := fmt.Sprintf("https://shop.example/p/%d", i%40)
		if i%3 == 0 {
			u += fmt.Sprintf("?utm_source=%s&utm_medium=%s&utm_campaign=c%d", []string{"newsletter", "twitter", "ads"}[i%9/3], []string{"email", "social", "cpc"}[i%9/3], i%12)
			if i%2 == 0 {
				u += fmt.Sprintf("&utm_term=t%d&utm_content=v%d", i%5, i%4)
			}
		}
		g.dest = append(g.dest, u)
	}
	return g
}

func (g *generator) next(at time.Time) interactions.Record {
	li := int(g.zl.Uint64())
	c := benchCountries[g.zc.Uint64()]
	w := g.r.IntN(100)
	di := 0
	for acc := 0; di < len(benchDeviceWts)-1; di++ {
		acc += benchDeviceWts[di]
		if w < acc {
			break
		}
	}
	d := benchDevices[di]
	ref := benchReferers[g.zr.Uint64()]
	refURL := "(direct)"
	if ref != "(direct)" {
		refURL = fmt.Sprintf("https://%s/%d", ref, g.r.IntN(8))
	}
	bot := g.r.IntN(100) < 3
	in := tracking.Interaction{Timestamp: at.UTC(), ClickID: ids.ClickID(), URL: g.dest[li],
		IP: fmt.Sprintf("198.51.%d.%d", g.r.IntN(256), g.r.IntN(256)), Continent: c.continent, Country: c.country,
		Region: c.region, City: benchCities[g.r.IntN(len(benchCities))], Device: d.device, DeviceVendor: "Unknown",
		DeviceModel: "Unknown", Browser: d.browser, BrowserVersion: "1", Engine: "Blink", EngineVersion: "1", OS: d.os,
		OSVersion: "1", CPUArchitecture: "Unknown", UA: "bench/" + d.browser, Bot: bot, QR: g.r.IntN(5) == 0,
		Referer: ref, RefererURL: refURL}
	if bot {
		in.Device = "Bot"
	}
	return interactions.Record{Kind: interactions.KindClick, ProjectID: g.projectID, ResourceID: g.links[li], Interaction: in}
}
