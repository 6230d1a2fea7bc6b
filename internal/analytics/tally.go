package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/tracking"
)

// A tally counts one kind of row (click, scan, view, lead, sale) over time
// segments [edges[i], edges[i+1]), per value of one dimension (rollups.Total
// for plain counts), under the request's filters. It is answered from the
// rollups when they fit and from the raw rows otherwise; the raw path is
// also the reference the property test compares against (Service.raw).
type tally struct {
	projectID string
	kind      string
	dim       string
	// resources restricts to rows of these resources; nil means no
	// restriction, an empty non-nil slice means none match.
	resources   []string
	filters     []Filter
	includeBots bool
}

// count is the total of one value in one segment.
type count struct{ n, amount int64 }

// segCounts is one segment's counts by value.
type segCounts map[string]*count

func (c segCounts) add(value string, n, amount int64) {
	if n == 0 && amount == 0 {
		return
	}
	cur := c[value]
	if cur == nil {
		cur = &count{}
		c[value] = cur
	}
	cur.n += n
	cur.amount += amount
}

// span is a time range [lo, hi) that counts into segment seg.
type span struct {
	lo, hi int64
	seg    int
}

// run counts the tally over the segments between edges.
func (s *Service) run(ctx context.Context, t tally, edges []int64) ([]segCounts, error) {
	out := make([]segCounts, max(len(edges)-1, 0))
	for i := range out {
		out[i] = segCounts{}
	}
	if len(out) == 0 || (t.resources != nil && len(t.resources) == 0) {
		return out, nil
	}
	rd, ok := t.rollupFit()
	if s.raw || !ok {
		spans := make([]span, len(out))
		for i := range out {
			spans[i] = span{edges[i], edges[i+1], i}
		}
		return out, s.rawTally(ctx, t, spans, out)
	}
	// Whole buckets come from the rollups, the cut parts of buckets at
	// unaligned edges from the raw rows.
	pieces := map[int64][]piece{}
	var ragged []span
	for i := range out {
		lo, hi := edges[i], edges[i+1]
		a, b := rollups.Align(lo, hi)
		if a >= b {
			ragged = append(ragged, span{lo, hi, i})
			continue
		}
		if lo < a {
			ragged = append(ragged, span{lo, a, i})
		}
		if b < hi {
			ragged = append(ragged, span{b, hi, i})
		}
		for _, p := range rollups.Decompose(a, b) {
			pieces[p.Grain] = append(pieces[p.Grain], piece{p.Bucket, i})
		}
	}
	if err := s.rollupTally(ctx, t, rd, pieces, len(out) == 1, out); err != nil {
		return nil, err
	}
	if len(ragged) > 0 {
		if err := s.rawTally(ctx, t, ragged, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rollupRead is how the rollups answer a tally: the rows of one stored
// dimension, all of them or those of one value or of values that start with
// prefix, and keep, which maps a row's value to the value it counts under in
// the answer (false: the row does not count; nil: every row counts under its
// own value).
type rollupRead struct {
	dim    string
	value  *string
	prefix string
	keep   func(v string) (string, bool)
	// byResource counts each resource's own rows under its id (keep only
	// filters): a resource group-by under a location filter, read from the
	// resources' City rows.
	byResource bool
}

// isGeo tells the dimensions read from the City rows (rollups.StoredDim).
func isGeo(dim string) bool {
	return dim == rollups.Country || dim == rollups.Region || dim == rollups.City
}

// rollupFit tells whether the rollups answer the tally, and how. Every
// dimension is read from the rows of its rollups.StoredDim (countries and
// regions from the city rows, UTM parameters from the URL rows). The rollups
// answer a tally without a dimension filter; with one filter when the
// group-by is the total or a dimension stored in the same rows as the
// filter's (a country filter with a group-by on cities, a utm_source filter
// with one on utm_campaign), the rows kept in Go; with one country filter
// when the group-by is the total or stored per country too
// (rollups.CountryCross); and with a location filter and a resource
// group-by, from each resource's City rows.
func (t tally) rollupFit() (rollupRead, bool) {
	derive := func(v string) (string, bool) {
		if t.dim == rollups.Total {
			return "", true
		}
		x := rollups.Derive(t.dim, v)
		return x, x != ""
	}
	stored := rollups.StoredDim(t.dim)
	if len(t.filters) == 0 {
		if t.resources == nil && rollups.ProjectStored(t.dim) {
			return rollupRead{dim: t.dim}, true
		}
		rd := rollupRead{dim: stored}
		if stored != t.dim {
			rd.keep = derive
		}
		return rd, true
	}
	if len(t.filters) > 1 {
		return rollupRead{}, false
	}
	f := t.filters[0]
	fstored := rollups.StoredDim(f.Dim)
	if f.Dim == rollups.Country && t.resources == nil {
		// Per country rows are kept for the whole project only. Every
		// interaction has a trigger, so the country's trigger rows sum to
		// its total.
		if t.dim == rollups.Total {
			return rollupRead{dim: rollups.CountryBy(rollups.Trigger, f.Value), keep: derive}, true
		}
		if slices.Contains(rollups.CountryCross, stored) {
			rd := rollupRead{dim: rollups.CountryBy(stored, f.Value)}
			if stored != t.dim {
				rd.keep = derive
			}
			return rd, true
		}
	}
	if t.dim == rollups.Total || stored == fstored {
		rd := rollupRead{dim: fstored, keep: func(v string) (string, bool) {
			if !matches(f, rollups.Derive(f.Dim, v)) {
				return "", false
			}
			return derive(v)
		}}
		switch {
		case f.Dim == fstored && f.Dim != rollups.City:
			rd.value = &f.Value // a whole stored value
		case f.Dim == rollups.Country:
			rd.prefix = f.Value + rollups.Sep
		}
		return rd, true
	}
	if isGeo(f.Dim) && (t.dim == rollups.LinkID || t.dim == rollups.QRCodeID || t.dim == rollups.PageID) {
		// Each resource has its own City rows.
		rd := rollupRead{dim: rollups.City, byResource: true, keep: func(v string) (string, bool) {
			return "", matches(f, rollups.Derive(f.Dim, v))
		}}
		if f.Dim == rollups.Country {
			rd.prefix = f.Value + rollups.Sep
		}
		return rd, true
	}
	return rollupRead{}, false
}

type piece struct {
	bucket int64
	seg    int
}

// maxRunsPerQuery bounds the OR'ed bucket ranges of one statement.
const maxRunsPerQuery = 100

// maxIDsPerQuery bounds IN lists.
const maxIDsPerQuery = 500

// rollupTally adds the rollup rows of the given pieces (by grain) to out.
// With one segment the database sums across buckets; with several it
// returns each bucket, which Go assigns to its segment.
func (s *Service) rollupTally(ctx context.Context, t tally, rd rollupRead, pieces map[int64][]piece, oneSeg bool, out []segCounts) error {
	if rd.byResource {
		// The resources counted in the window, from the project's rows.
		ids, err := s.resourcesIn(ctx, t, pieces, oneSeg, len(out))
		if err != nil || len(ids) == 0 {
			return err
		}
		t.resources = ids
	}
	dim, value := rd.dim, rd.value
	resources := t.resources
	var values []string
	switch {
	case rd.byResource:
	case dim == rollups.LinkID || dim == rollups.QRCodeID || dim == rollups.PageID:
		// Per resource these are kept only for the whole project (per
		// resource they would repeat the total): filter on the value.
		values, resources = t.resources, []string{""}
		if values == nil {
			values = []string{""}
		}
	case resources == nil:
		resources = []string{""}
	}
	for grain, ps := range pieces {
		slices.SortFunc(ps, func(a, b piece) int { return int(a.bucket - b.bucket) })
		segOf := make(map[int64]int, len(ps))
		type run struct{ lo, hi int64 }
		var runs []run
		for _, p := range ps {
			segOf[p.bucket] = p.seg
			if n := len(runs); n > 0 && runs[n-1].hi == p.bucket {
				runs[n-1].hi += grain
			} else {
				runs = append(runs, run{p.bucket, p.bucket + grain})
			}
		}
		for r0 := 0; r0 < len(runs); r0 += maxRunsPerQuery {
			rs := runs[r0:min(r0+maxRunsPerQuery, len(runs))]
			scope, inCol := resources, "resource_id"
			if values != nil {
				scope, inCol = values, "value"
			}
			for i0 := 0; i0 < len(scope); i0 += maxIDsPerQuery {
				ids := scope[i0:min(i0+maxIDsPerQuery, len(scope))]
				var b whereBuilder
				b.add("project_id = ?", t.projectID)
				b.add("kind = ?", t.kind)
				if values != nil && values[0] != "" {
					b.add("resource_id = ?", "")
					b.cond = append(b.cond, b.in(inCol, ids))
				} else if values != nil {
					b.add("resource_id = ?", "")
				} else {
					b.cond = append(b.cond, b.in(inCol, ids))
				}
				b.add("dim = ?", dim)
				b.add("grain = ?", grain)
				if value != nil {
					b.add("value = ?", *value)
				}
				if rd.prefix != "" {
					b.add(fmt.Sprintf("substr(value, 1, %d) = ?", utf8.RuneCountInString(rd.prefix)), rd.prefix)
				}
				or := make([]string, len(rs))
				for i, r := range rs {
					or[i] = fmt.Sprintf("(bucket >= %d AND bucket < %d)", r.lo, r.hi)
				}
				b.cond = append(b.cond, "("+strings.Join(or, " OR ")+")")
				bots := "0"
				if t.includeBots {
					bots = "SUM(bots)"
				}
				sel, group := "0, '', value", "value"
				if rd.byResource {
					sel, group = "0, resource_id, value", "resource_id, value"
				}
				if !oneSeg {
					sel, group = "bucket"+sel[1:], "bucket, "+group
				}
				q := "SELECT " + sel + ", SUM(n), " + bots + ", SUM(amount) FROM analytics_rollups WHERE " + b.sql() + " GROUP BY " + group
				if err := s.scanRollups(ctx, q, b.args, segOf, oneSeg, rd, out); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// resourcesIn lists the resources of the tally's group-by dimension that
// have counts in the pieces (ignoring the tally's filters).
func (s *Service) resourcesIn(ctx context.Context, t tally, pieces map[int64][]piece, oneSeg bool, segs int) ([]string, error) {
	tmp := make([]segCounts, segs)
	for i := range tmp {
		tmp[i] = segCounts{}
	}
	t.filters = nil
	if err := s.rollupTally(ctx, t, rollupRead{dim: t.dim}, pieces, oneSeg, tmp); err != nil {
		return nil, err
	}
	var ids []string
	for _, sc := range tmp {
		for id := range sc {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

func (s *Service) scanRollups(ctx context.Context, q string, args []any, segOf map[int64]int, oneSeg bool,
	rd rollupRead, out []segCounts) error {
	keep := rd.keep
	if keep != nil {
		// Many rows share a value (one per bucket): derive each once (a UTM
		// value parses its URL).
		type kept struct {
			v  string
			ok bool
		}
		memo := map[string]kept{}
		derive := keep
		keep = func(v string) (string, bool) {
			k, seen := memo[v]
			if !seen {
				k.v, k.ok = derive(v)
				memo[v] = k
			}
			return k.v, k.ok
		}
	}
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("analytics: rollups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var bucket, n, bots, amount int64
		var res, value string
		if err := rows.Scan(&bucket, &res, &value, &n, &bots, &amount); err != nil {
			return fmt.Errorf("analytics: rollups: %w", err)
		}
		seg := 0
		if !oneSeg {
			seg = segOf[bucket]
		}
		if keep != nil {
			var ok bool
			if value, ok = keep(value); !ok {
				continue
			}
		}
		if rd.byResource {
			value = res
		}
		out[seg].add(value, n+bots, amount)
	}
	return rows.Err()
}

// sourceColumns are the raw columns a dimension's value is computed from
// (rollups.Values on a partly filled interaction), by dimension.
var sourceColumns = map[string][]string{
	rollups.Continent: {"continent"}, rollups.Country: {"country"}, rollups.Region: {"country", "region"},
	rollups.City: {"country", "region", "city"}, rollups.Device: {"device"}, rollups.Browser: {"browser"},
	rollups.OS: {"os"}, rollups.Referer: {"referer"}, rollups.RefererURL: {"referer_url"}, rollups.URL: {"url"},
	rollups.Trigger: {"qr"}, rollups.UTMSource: {"url"}, rollups.UTMMedium: {"url"}, rollups.UTMCamp: {"url"},
	rollups.UTMTerm: {"url"}, rollups.UTMContent: {"url"},
}

// sqlFilterable are the dimensions whose value is one raw column, so a
// filter on them is a plain SQL condition (the others are checked in Go).
var sqlFilterable = map[string]string{rollups.Continent: "continent", rollups.Country: "country",
	rollups.Device: "device", rollups.Browser: "browser", rollups.OS: "os", rollups.Referer: "referer",
	rollups.RefererURL: "referer_url", rollups.URL: "url"}

// maxRawSpans is how many spans get a query each; more are read as one
// range grouped by time and assigned in Go.
const maxRawSpans = 4

// rawTally adds the raw rows of the spans to out. It reads the interactions
// table (clicks, scans, views) or the leads or sales table joined to the
// interaction each conversion is attributed to (its dimensions).
func (s *Service) rawTally(ctx context.Context, t tally, spans []span, out []segCounts) error {
	conv := t.kind == rollups.KindLead || t.kind == rollups.KindSale
	src, amount := "i", "0"
	from := "interactions i"
	if conv {
		table := "leads"
		if t.kind == rollups.KindSale {
			table, amount = "sales", "SUM(c.amount)"
		}
		src, from = "c", table+" c LEFT JOIN interactions i ON i.click_id = c.click_id"
	}
	// The columns to group by: what the group-by and the Go-side filters need.
	var cols []string
	addCol := func(c string) {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	needI := false // the dimension needs the interaction (a conversion without one has none)
	switch t.dim {
	case rollups.Total:
	case rollups.LinkID, rollups.QRCodeID, rollups.PageID:
		addCol(src + "." + t.dim + "_id")
	default:
		needI = true
		for _, c := range sourceColumns[t.dim] {
			addCol("i." + c)
		}
	}
	var b whereBuilder
	b.add(src+".project_id = ?", t.projectID)
	if !conv {
		b.add("i.kind = ?", t.kind)
		if t.includeBots {
			b.cond = append(b.cond, "(i.counted OR i.bot)")
		} else {
			b.cond = append(b.cond, "i.counted")
		}
	}
	if t.resources != nil {
		b.cond = append(b.cond, b.in("COALESCE("+src+".link_id, "+src+".qrcode_id, "+src+".page_id)", t.resources))
	}
	var goFilters []Filter
	for _, f := range t.filters {
		if col, ok := sqlFilterable[f.Dim]; ok {
			b.add("i."+col+" = ?", f.Value)
			continue
		}
		if f.Dim == rollups.Trigger {
			b.add("i.qr = ?", f.Value == "qr")
			continue
		}
		needI = true
		goFilters = append(goFilters, f)
		for _, c := range sourceColumns[f.Dim] {
			addCol("i." + c)
		}
	}
	if needI && conv {
		b.cond = append(b.cond, "i.click_id IS NOT NULL")
	}
	where := b.sql()
	noCols := len(cols) == 0
	selCols := strings.Join(cols, ", ")
	if noCols {
		selCols = "0"
	}
	byTime := len(spans) > maxRawSpans
	var queries []struct {
		q    string
		args []any
		seg  int
	}
	if byTime {
		lo, hi := spans[0].lo, spans[0].hi
		for _, sp := range spans {
			lo, hi = min(lo, sp.lo), max(hi, sp.hi)
		}
		gcols := append([]string{src + ".created_at"}, cols...)
		q := "SELECT " + src + ".created_at, " + selCols + ", COUNT(*), " + amount + " FROM " + from + " WHERE " + where +
			fmt.Sprintf(" AND %[1]s.created_at >= %[2]d AND %[1]s.created_at < %[3]d", src, lo, hi) + " GROUP BY " + strings.Join(gcols, ", ")
		queries = append(queries, struct {
			q    string
			args []any
			seg  int
		}{q, b.args, -1})
	} else {
		group := ""
		if !noCols {
			group = " GROUP BY " + selCols
		}
		for _, sp := range spans {
			q := "SELECT 0, " + selCols + ", COUNT(*), " + amount + " FROM " + from + " WHERE " + where +
				fmt.Sprintf(" AND %[1]s.created_at >= %[2]d AND %[1]s.created_at < %[3]d", src, sp.lo, sp.hi) + group
			queries = append(queries, struct {
				q    string
				args []any
				seg  int
			}{q, b.args, sp.seg})
		}
	}
	sorted := slices.Clone(spans)
	slices.SortFunc(sorted, func(a, b span) int { return int(a.lo - b.lo) })
	for _, qq := range queries {
		if err := s.scanRaw(ctx, qq.q, qq.args, cols, noCols, t, goFilters, sorted, qq.seg, out); err != nil {
			return err
		}
	}
	return nil
}

// scanRaw reads raw group rows: (time or 0), the columns, count, amount.
func (s *Service) scanRaw(ctx context.Context, q string, args []any, cols []string, noCols bool, t tally, goFilters []Filter,
	spans []span, seg int, out []segCounts) error {
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("analytics: raw %s: %w", t.kind, err)
	}
	defer rows.Close()
	ncols := len(cols)
	if noCols {
		ncols = 1 // the constant 0
	}
	vals := make([]sql.NullString, ncols)
	for rows.Next() {
		var at, n int64
		var amount sql.NullInt64
		dst := []any{&at}
		for i := range vals {
			dst = append(dst, &vals[i])
		}
		dst = append(dst, &n, &amount)
		if err := rows.Scan(dst...); err != nil {
			return fmt.Errorf("analytics: raw %s: %w", t.kind, err)
		}
		sg := seg
		if seg < 0 {
			i := sort.Search(len(spans), func(i int) bool { return spans[i].hi > at })
			if i == len(spans) || at < spans[i].lo {
				continue
			}
			sg = spans[i].seg
		}
		col := map[string]string{}
		if !noCols {
			for i, c := range cols {
				name := c[strings.IndexByte(c, '.')+1:]
				if name == "qr" {
					col[name] = boolText(vals[i].String)
				} else {
					col[name] = vals[i].String
				}
			}
		}
		ok := true
		for _, f := range goFilters {
			if !matches(f, dimValue(f.Dim, col)) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		value := ""
		switch t.dim {
		case rollups.Total:
		case rollups.LinkID, rollups.QRCodeID, rollups.PageID:
			if !vals[0].Valid {
				continue
			}
			value = vals[0].String
		default:
			value = dimValue(t.dim, col)
			if value == "" {
				continue
			}
		}
		out[sg].add(value, n, amount.Int64)
	}
	return rows.Err()
}

// boolText normalises how the drivers return a BOOLEAN scanned as text.
func boolText(s string) string {
	switch s {
	case "1", "true", "t", "TRUE":
		return "true"
	case "0", "false", "f", "FALSE":
		return "false"
	}
	return s
}

// dimValue computes a dimension's value from raw columns with the writers'
// own function.
func dimValue(dim string, col map[string]string) string {
	in := tracking.Interaction{Continent: col["continent"], Country: col["country"], Region: col["region"], City: col["city"],
		Device: col["device"], Browser: col["browser"], OS: col["os"], Referer: col["referer"], RefererURL: col["referer_url"],
		URL: col["url"], QR: col["qr"] == "true"}
	v := rollups.Values(&in)
	i := slices.Index(rollups.InteractionDims, dim)
	if i < 0 {
		return ""
	}
	return v[i]
}

// matches applies a filter to a value; region and city filters name the
// last part of their composite value.
func matches(f Filter, value string) bool {
	switch f.Dim {
	case rollups.Region, rollups.City:
		parts := strings.Split(value, rollups.Sep)
		return parts[len(parts)-1] == f.Value
	}
	return value == f.Value
}
