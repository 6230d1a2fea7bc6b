// Package rollups keeps the analytics_rollups table: counts of interactions
// (clicks, scans, page views) and conversions (leads, sales and their amount)
// per project, resource, dimension value and UTC time bucket.
//
// The writers (the interactions pipeline, the conversions service) build a
// Batch in memory from what they write, so that each rollup row is touched
// once per transaction, and call Write inside the same transaction as the raw
// rows: a rollup is exactly as durable as the rows it counts, and never
// approximate.
//
// Buckets are 15 minutes of UTC. Every time zone offset and DST transition in
// use since 1980 in the Go time zone database is a multiple of 15 minutes
// (tested in zones_test.go), so every hour, day and month of any IANA zone
// starts on a bucket boundary and is a whole number of buckets; a query edge
// that does not fall on one (a preset window ending "now", or a historical
// zone with odd offsets) is counted from the raw rows for the part of a
// bucket it cuts (see internal/analytics). Each count is also kept at the
// coarser grain of one day (UTC), so a long window reads few rows: a window
// is split into the largest aligned buckets that fit.
package rollups

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tracking"
)

// Grain sizes in Unix ms, finest first. Bucket is the finest.
const (
	Bucket int64 = 15 * 60 * 1000
	Hour   int64 = 60 * 60 * 1000
	Day    int64 = 24 * Hour
)

// Grains are the bucket sizes every count is kept at, finest first; each is
// a multiple of the one before. A group-by over one window reads the fine
// buckets at its two ends and whole days in between; a timeseries reads one
// row per bucket (it has one value), so an hourly grain would save little
// and cost a third more writes.
var Grains = []int64{Bucket, Day}

// Kinds of rollup rows: the three interaction kinds and the two conversions.
const (
	KindClick = "click"
	KindScan  = "scan"
	KindView  = "view"
	KindLead  = "lead"
	KindSale  = "sale"
)

// Dimensions. Total (dim "" and value "") counts everything; the others
// count per value. The resource dimensions (link, qrcode, page) are kept
// only for the whole project: per resource they would repeat the total.
const (
	Total      = ""
	Continent  = "continent"
	Country    = "country"
	Region     = "region" // value: country + Sep + region
	City       = "city"   // value: country + Sep + region + Sep + city
	Device     = "device"
	Browser    = "browser"
	OS         = "os"
	Referer    = "referer"
	RefererURL = "referer_url"
	URL        = "url"
	Trigger    = "trigger" // "qr" or "link"
	UTMSource  = "utm_source"
	UTMMedium  = "utm_medium"
	UTMCamp    = "utm_campaign"
	UTMTerm    = "utm_term"
	UTMContent = "utm_content"
	LinkID     = "link"
	QRCodeID   = "qrcode"
	PageID     = "page"
)

// Sep joins the parts of a composite value (regions and cities name their
// country, cities their region too).
const Sep = "\x1f"

// Per resource, Country and Region rows are not stored: they are read from
// the City rows. Every interaction has a City value (country, region and city
// joined by Sep, non-empty even when all three are), and its Region and
// Country values are its prefixes, so summing City rows by prefix gives them
// exactly. That saves a fifth of the rows an interaction batch writes (per
// resource, most interactions of a bucket have a distinct country and region
// row), and it answers a country, region or city filter together with a
// group-by on any of the three from the same rows. For the whole project they
// are stored (ProjectStored): there they are few rows per bucket, and they
// keep an unfiltered countries or regions group-by from reading every city.
// Databases written before keep per-resource Country and Region rows nobody
// reads; migration 0019 deletes them.

// ProjectStored tells the dimensions whose rows are stored for the whole
// project although StoredDim names another.
func ProjectStored(dim string) bool { return dim == Country || dim == Region }

// The UTM dimensions are not stored either: they are a function of the
// destination URL (UTM), so they are read from the URL rows, which exist
// anyway.

// StoredDim is the dimension whose rows hold dim's counts.
func StoredDim(dim string) string {
	switch dim {
	case Country, Region:
		return City
	case UTMSource, UTMMedium, UTMCamp, UTMTerm, UTMContent:
		return URL
	}
	return dim
}

// Derive is the value of dim of the interactions counted under the value v
// of StoredDim(dim); "" means they have none (no country, no such UTM
// parameter).
func Derive(dim, v string) string {
	switch dim {
	case Country:
		c, _, _ := strings.Cut(v, Sep)
		return c
	case Region:
		if i := strings.LastIndex(v, Sep); i >= 0 {
			return v[:i]
		}
	case UTMSource, UTMMedium, UTMCamp, UTMTerm, UTMContent:
		return UTM(v)[slices.Index(InteractionDims, dim)-utmFirst]
	}
	return v
}

// utmFirst is the index of the first UTM dimension in InteractionDims.
const utmFirst = 11

// CountryCross are the dimensions also counted per country, for the whole
// project only, in rows of dimension CountryBy(dim, country): with a country
// filter a group-by on any of them (and on the UTM dimensions, read from the
// URL's) reads the rows of that country alone, one contiguous range of the
// primary key per grain, instead of scanning the raw rows. The resource
// dimensions are among them (per country, the project's rows per link, QR
// code and page), so top_links, top_tags and top_partners too. Country is the
// only filter kept this way: it costs about a third more rollup rows per
// interaction batch (per 15-minute bucket a country sees a few hundred links,
// URLs and referrer URLs; 3.06 rows per interaction instead of 2.3 at the
// density of 10 million over 30 days) and a quarter of the ingest CPU, and every filter
// crossed with every dimension would multiply the rows. Another filter
// combined with a breakdown stored in other rows is answered from the raw
// rows.
var CountryCross = []string{Continent, Device, Browser, OS, Referer, RefererURL, URL, Trigger, LinkID, QRCodeID, PageID}

// crossIndex is the index in InteractionDims of each interaction dimension
// of CountryCross (the resource dimensions are not among InteractionDims).
var crossIndex = func() []int {
	var out []int
	for _, d := range CountryCross {
		if i := slices.Index(InteractionDims, d); i >= 0 {
			out = append(out, i)
		}
	}
	return out
}()

// CountryBy is the dimension of the rows that count dim's values among the
// interactions from country. Dimension names contain no "@", so each pair
// names its own rows.
func CountryBy(dim, country string) string { return dim + "@" + country }

// InteractionDims are the dimensions read from an interaction, in the order
// Values returns them.
var InteractionDims = []string{Continent, Country, Region, City, Device, Browser, OS, Referer, RefererURL, URL,
	Trigger, UTMSource, UTMMedium, UTMCamp, UTMTerm, UTMContent}

// UTMParams maps the UTM dimensions to their query parameter in the
// destination URL.
var UTMParams = map[string]string{UTMSource: "utm_source", UTMMedium: "utm_medium", UTMCamp: "utm_campaign",
	UTMTerm: "utm_term", UTMContent: "utm_content"}

// Values returns the value of each of InteractionDims for one interaction,
// "" where it has none (a UTM parameter the URL does not carry). Analytics
// computes the same values from raw rows with this function, so both agree by
// construction.
func Values(in *tracking.Interaction) [16]string {
	trig := "link"
	if in.QR {
		trig = "qr"
	}
	country, region, city := noSep(in.Country), noSep(in.Region), noSep(in.City)
	v := [16]string{in.Continent, country, country + Sep + region, country + Sep + region + Sep + city,
		in.Device, in.Browser, in.OS, in.Referer, in.RefererURL, in.URL, trig}
	utm := UTM(in.URL)
	copy(v[11:], utm[:])
	return v
}

// noSep drops Sep from a part of a composite value, so that the parts can
// be told apart again (FromCity).
func noSep(s string) string {
	if strings.Contains(s, Sep) {
		return strings.ReplaceAll(s, Sep, "")
	}
	return s
}

// UTM returns utm_source, utm_medium, utm_campaign, utm_term and utm_content
// of a destination URL ("" when absent or unreadable).
func UTM(raw string) [5]string {
	var out [5]string
	i := strings.IndexByte(raw, '?')
	if i < 0 || !strings.Contains(raw[i:], "utm_") {
		return out
	}
	q := raw[i+1:]
	if j := strings.IndexByte(q, '#'); j >= 0 {
		q = q[:j]
	}
	vals, err := url.ParseQuery(q)
	if err != nil && len(vals) == 0 {
		return out
	}
	for k, name := range []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"} {
		out[k] = vals.Get(name)
	}
	return out
}

// Key names one rollup row.
type Key struct {
	ProjectID, Kind, Resource, Dim string
	Grain, Bucket                  int64
	Value                          string
}

// Counts are the counters of one row.
type Counts struct{ N, Bots, Amount int64 }

// Batch aggregates rollup increments in memory.
type Batch map[Key]*Counts

// addAt adds c to the row of k at each of grains.
func (b Batch) addAt(k Key, at int64, c Counts, grains []int64) {
	for _, g := range grains {
		k.Grain, k.Bucket = g, floorTo(at, g)
		if cur := b[k]; cur != nil {
			cur.N += c.N
			cur.Bots += c.Bots
			cur.Amount += c.Amount
		} else {
			cc := c
			b[k] = &cc
		}
	}
}

func floorTo(ms, g int64) int64 {
	r := ms % g
	if r < 0 {
		r += g
	}
	return ms - r
}

// Item is one thing to count: an interaction or a conversion, at a time
// (Unix ms), with the interaction it comes from (nil for a conversion
// without one, which then counts only in the total and its resource).
type Item struct {
	ProjectID   string
	Kind        string
	Resource    string // the link, QR code or page id, "" when none
	ResourceDim string // LinkID, QRCodeID or PageID
	At          int64
	Interaction *tracking.Interaction
	Counts      Counts
}

// Of counts items into a new Batch, like Add on each. It counts at the
// finest grain first and adds those rows to the coarser grains: an
// interaction batch has several interactions per fine row, so that takes
// about half the map operations of adding every item at every grain.
func Of(items []Item) Batch {
	fine := Batch{}
	for _, it := range items {
		fine.addItem(it, Grains[:1])
	}
	out := make(Batch, 2*len(fine))
	for k, c := range fine {
		out[k] = c
		out.addAt(k, k.Bucket, *c, Grains[1:])
	}
	return out
}

// Add counts one item in the project's rows and, when it has a resource, in
// that resource's rows.
func (b Batch) Add(it Item) { b.addItem(it, Grains) }

func (b Batch) addItem(it Item, grains []int64) {
	if it.Counts == (Counts{}) {
		return // human repeats: neither counted nor bots
	}
	scopes := []string{""}
	if it.Resource != "" {
		scopes = append(scopes, it.Resource)
		b.addAt(Key{ProjectID: it.ProjectID, Kind: it.Kind, Dim: it.ResourceDim, Value: it.Resource}, it.At, it.Counts, grains)
	}
	var vals [16]string
	if it.Interaction != nil {
		vals = Values(it.Interaction)
	}
	for _, res := range scopes {
		k := Key{ProjectID: it.ProjectID, Kind: it.Kind, Resource: res}
		b.addAt(k, it.At, it.Counts, grains)
		if it.Interaction == nil {
			continue
		}
		for i, d := range InteractionDims {
			if vals[i] == "" || (StoredDim(d) != d && (res != "" || !ProjectStored(d))) {
				continue
			}
			k.Dim, k.Value = d, vals[i]
			b.addAt(k, it.At, it.Counts, grains)
		}
		if res == "" {
			for _, i := range crossIndex {
				if vals[i] != "" {
					k.Dim, k.Value = CountryBy(InteractionDims[i], vals[1]), vals[i]
					b.addAt(k, it.At, it.Counts, grains)
				}
			}
			if it.Resource != "" {
				k.Dim, k.Value = CountryBy(it.ResourceDim, vals[1]), it.Resource
				b.addAt(k, it.At, it.Counts, grains)
			}
		}
	}
}

// rowsPerStatement keeps statements small (SQLite resolves $N names with a
// linear search) and few distinct (the store caches prepared statements).
const rowsPerStatement = 16

const upsertHead = "INSERT INTO analytics_rollups (project_id, kind, resource_id, dim, grain, bucket, value, n, bots, amount) VALUES "

const upsertTail = ` ON CONFLICT (project_id, kind, resource_id, dim, grain, bucket, value) DO UPDATE SET
n = analytics_rollups.n + excluded.n, bots = analytics_rollups.bots + excluded.bots, amount = analytics_rollups.amount + excluded.amount`

// Write adds the batch to analytics_rollups inside tx, in key order (a fixed
// lock order, so that concurrent writers on PostgreSQL cannot deadlock), in
// statements of rowsPerStatement rows: the shape for small batches (a
// conversion) on either database. WriteBulk is the one for large ones.
func Write(ctx context.Context, tx *store.Tx, b Batch) error {
	if len(b) == 0 {
		return nil
	}
	return writeChunked(ctx, tx, b, sortedKeys(b))
}

// WriteBulk is Write for a large batch (an interaction batch makes about five
// rollup rows per interaction). On PostgreSQL it is one statement that
// upserts every row from arrays (INSERT … SELECT FROM unnest … ON CONFLICT):
// a batch of 5,000 interactions touches some 25,000 rows, and 16 rows per
// statement made that 1,600 round trips, most of the ingest time. SQLite
// runs in process, where a statement costs no round trip, and keeps Write's
// shape.
func WriteBulk(ctx context.Context, tx *store.Tx, d store.Dialect, b Batch) error {
	if len(b) == 0 {
		return nil
	}
	keys := sortedKeys(b)
	if d.Name() != "postgres" {
		return writeChunked(ctx, tx, b, keys)
	}
	n := len(keys)
	var (
		project, kind, resource, dim, value = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		grain, bucket, cn, bots, amount     = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	)
	for i, k := range keys {
		c := b[k]
		project[i], kind[i], resource[i], dim[i], value[i] = k.ProjectID, k.Kind, k.Resource, k.Dim, k.Value
		grain[i], bucket[i], cn[i], bots[i], amount[i] = k.Grain, k.Bucket, c.N, c.Bots, c.Amount
	}
	const q = "INSERT INTO analytics_rollups (project_id, kind, resource_id, dim, grain, bucket, value, n, bots, amount) " +
		"SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])" +
		upsertTail
	if _, err := tx.ExecContext(ctx, q, project, kind, resource, dim, grain, bucket, value, cn, bots, amount); err != nil {
		return fmt.Errorf("rollups: upsert %d rows: %w", n, err)
	}
	return nil
}

func sortedKeys(b Batch) []Key {
	keys := make([]Key, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

func writeChunked(ctx context.Context, tx *store.Tx, b Batch, keys []Key) error {
	args := make([]any, 0, rowsPerStatement*10)
	for start := 0; start < len(keys); start += rowsPerStatement {
		chunk := keys[start:min(start+rowsPerStatement, len(keys))]
		args = args[:0]
		for _, k := range chunk {
			c := b[k]
			args = append(args, k.ProjectID, k.Kind, k.Resource, k.Dim, k.Grain, k.Bucket, k.Value, c.N, c.Bots, c.Amount)
		}
		q := fullUpsert
		if len(chunk) < rowsPerStatement {
			q = upsertSQL(len(chunk))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("rollups: upsert %d rows: %w", len(chunk), err)
		}
	}
	return nil
}

// fullUpsert is the statement of a full chunk, built once: building it for
// every chunk was a tenth of the ingest's CPU.
var fullUpsert = upsertSQL(rowsPerStatement)

func upsertSQL(rows int) string {
	var sb strings.Builder
	sb.WriteString(upsertHead)
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(" + store.Placeholders(i*10+1, 10) + ")")
	}
	sb.WriteString(upsertTail)
	return sb.String()
}

func compareKeys(a, b Key) int {
	return cmp.Or(strings.Compare(a.ProjectID, b.ProjectID), strings.Compare(a.Kind, b.Kind),
		strings.Compare(a.Resource, b.Resource), strings.Compare(a.Dim, b.Dim), cmp.Compare(a.Grain, b.Grain),
		cmp.Compare(a.Bucket, b.Bucket), strings.Compare(a.Value, b.Value))
}

// Piece is one rollup bucket a window is made of.
type Piece struct{ Grain, Bucket int64 }

// Decompose splits [lo, hi) — both multiples of Bucket — into the fewest
// aligned buckets of Grains, in time order.
func Decompose(lo, hi int64) []Piece {
	var out []Piece
	for x := lo; x < hi; {
		g := Grains[0]
		for _, c := range Grains[1:] {
			if x%c == 0 && x+c <= hi {
				g = c
			}
		}
		out = append(out, Piece{g, x})
		x += g
	}
	return out
}

// Align returns the bucket-aligned part [a, b) of [lo, hi): a is lo rounded
// up and b is hi rounded down to a Bucket boundary. a >= b means no whole
// bucket fits.
func Align(lo, hi int64) (a, b int64) {
	a = floorTo(lo, Bucket)
	if a < lo {
		a += Bucket
	}
	return a, floorTo(hi, Bucket)
}
