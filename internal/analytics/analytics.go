// Package analytics answers GET /api/analytics and GET /api/events: counts,
// timeseries and group-bys of the interactions table (clicks, QR scans, page
// views), and of the leads and sales tables once those exist (see
// conversions.go, the one place that reads them).
//
// Counting policy (the same as the resource counters): only rows with
// counted = TRUE by default, which leaves out bots and repeats of one visitor
// inside the dedupe window. includeBots=true adds bot rows (bot = TRUE) but
// still leaves out human repeats.
//
// Timeseries buckets are computed in Go, not with SQL date functions (which
// differ between SQLite and PostgreSQL, and SQLite knows no IANA zones): Go
// lists the hourly, daily or monthly bucket boundaries in the requested zone
// (DST days of 23 or 25 hours, half-hour offsets, months of any length) as
// Unix ms, and SQL counts each range with plain comparisons.
package analytics

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/store"
)

// maxGroups caps the rows of a group-by answer (largest first).
const maxGroups = 250

// Service runs analytics queries on the read pool.
type Service struct {
	st  *store.Store
	now func() time.Time
	// raw answers everything from the raw rows, never from the rollups: the
	// reference the rollups are tested against (see RawScan).
	raw bool
}

// NewService returns a Service.
func NewService(st *store.Store) *Service {
	return &Service{st: st, now: time.Now}
}

// WithClock replaces time.Now (tests pin "now" to exercise preset intervals).
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}

// RawScan returns a copy of s that answers every query by scanning the raw
// rows. It gives the same answers as s wherever the raw rows still exist
// (retention prunes them); tests use it as the reference for the rollups.
func (s *Service) RawScan() *Service {
	c := *s
	c.raw = true
	return &c
}

// Counts is the answer of groupBy=count. SaleAmount is in the smallest
// currency unit (integer cents), like saleAmount everywhere else.
type Counts struct {
	Clicks     int64 `json:"clicks"`
	Scans      int64 `json:"scans"`
	Views      int64 `json:"views"`
	Leads      int64 `json:"leads"`
	Sales      int64 `json:"sales"`
	SaleAmount int64 `json:"saleAmount"`
}

// Row is one entry of a group-by or timeseries answer, e.g.
// {"country": "US", "clicks": 12} or {"start": "2026-11-27T00:00:00+01:00", "clicks": 3}.
// Sales rows also carry "saleAmount"; composite rows carry clicks, scans,
// views, leads, sales and saleAmount.
type Row map[string]any

// Query answers GET /api/analytics: a Counts for groupBy=count, else []Row.
func (s *Service) Query(ctx context.Context, projectID string, p Params) (any, error) {
	w, err := p.resolve(s.now())
	if err != nil {
		return nil, err
	}
	if err := s.checkResources(ctx, projectID, p); err != nil {
		return nil, err
	}
	res, err := s.resourceSet(ctx, projectID, p)
	if err != nil {
		return nil, err
	}
	base := tally{projectID: projectID, resources: res, filters: p.Filters, includeBots: p.IncludeBots}
	kinds := []string{kindOf[p.Event]}
	if p.GroupBy == GroupCount || p.Event == EventComposite {
		kinds = allKinds
	}
	if w.start == 0 { // interval=all: from the first row on
		first, err := s.firstAt(ctx, base, kinds)
		if err != nil {
			return nil, err
		}
		w.start = min(first, w.end-1)
	}
	switch p.GroupBy {
	case GroupCount:
		return s.counts(ctx, base, w)
	case GroupTimeseries:
		return s.timeseries(ctx, base, w, p, kinds)
	}
	return s.groups(ctx, base, w, p, kinds, dimensions[p.GroupBy])
}

// checkResources makes a resource filter of another project (or no resource
// at all) a 404, as for every other id in the API.
func (s *Service) checkResources(ctx context.Context, projectID string, p Params) error {
	for _, r := range []struct{ id, table, name string }{
		{p.LinkID, "links", "link"}, {p.QRCodeID, "qrcodes", "QR code"}, {p.PageID, "pages", "page"},
		{p.TagID, "tags", "tag"},
	} {
		if r.id == "" {
			continue
		}
		var one int
		err := s.st.Read().QueryRowContext(ctx,
			"SELECT 1 FROM "+r.table+" WHERE id = $1 AND project_id = $2", r.id, projectID).Scan(&one)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errs.NotFound("%s %s not found", r.name, r.id)
			}
			return fmt.Errorf("analytics: check %s: %w", r.name, err)
		}
	}
	return nil
}

// resourceSet resolves the resource filters (linkId, qrcodeId, pageId,
// tagId, domain) to the ids they allow, all of which must hold: nil when
// there is none, empty when nothing matches. Tags and domains are those the
// resources carry now.
func (s *Service) resourceSet(ctx context.Context, projectID string, p Params) ([]string, error) {
	var set []string
	restricted := false
	narrow := func(ids []string) {
		if !restricted {
			set, restricted = ids, true
			return
		}
		set = slices.DeleteFunc(set, func(id string) bool { return !slices.Contains(ids, id) })
	}
	for _, id := range []string{p.LinkID, p.QRCodeID, p.PageID} {
		if id != "" {
			narrow([]string{id})
		}
	}
	if p.TagID != "" {
		ids, err := s.ids(ctx, "SELECT link_id FROM link_tags WHERE tag_id = $1 UNION SELECT qrcode_id FROM qrcode_tags WHERE tag_id = $1", p.TagID)
		if err != nil {
			return nil, err
		}
		narrow(ids)
	}
	if p.Domain != "" {
		ids, err := s.ids(ctx, `SELECT id FROM links WHERE project_id = $1 AND domain = $2
UNION SELECT id FROM qrcodes WHERE project_id = $1 AND domain = $2
UNION SELECT id FROM pages WHERE project_id = $1 AND domain = $2`, projectID, p.Domain)
		if err != nil {
			return nil, err
		}
		narrow(ids)
	}
	if restricted && set == nil {
		set = []string{}
	}
	slices.Sort(set)
	return slices.Compact(set), nil
}

func (s *Service) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: resources: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("analytics: resources: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// whereBuilder numbers $N placeholders as conditions are added.
type whereBuilder struct {
	cond []string
	args []any
}

func (b *whereBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// add appends a condition whose single "?" is replaced by the next placeholder.
func (b *whereBuilder) add(cond string, v any) {
	b.cond = append(b.cond, strings.Replace(cond, "?", b.arg(v), 1))
}

// in returns "expr IN ($i, …)" over values (never empty).
func (b *whereBuilder) in(expr string, values []string) string {
	ph := make([]string, len(values))
	for i, v := range values {
		ph[i] = b.arg(v)
	}
	return expr + " IN (" + strings.Join(ph, ", ") + ")"
}

func (b *whereBuilder) sql() string { return strings.Join(b.cond, " AND ") }

// firstAt is the start of the first rollup bucket (or, scanning raw, the
// time of the first row) of the kinds and resources, regardless of the
// dimension filters; the largest int64 when there is none.
func (s *Service) firstAt(ctx context.Context, t tally, kinds []string) (int64, error) {
	const none = int64(^uint64(0) >> 1)
	if t.resources != nil && len(t.resources) == 0 {
		return none, nil
	}
	first := none
	if !s.raw {
		var b whereBuilder
		b.add("project_id = ?", t.projectID)
		b.cond = append(b.cond, b.in("kind", kinds))
		res := t.resources
		if res == nil {
			res = []string{""}
		}
		b.cond = append(b.cond, b.in("resource_id", res))
		b.add("dim = ?", rollups.Total)
		b.add("grain = ?", rollups.Bucket)
		var v sql.NullInt64
		if err := s.st.Read().QueryRowContext(ctx, "SELECT MIN(bucket) FROM analytics_rollups WHERE "+b.sql(), b.args...).Scan(&v); err != nil {
			return 0, fmt.Errorf("analytics: first bucket: %w", err)
		}
		if v.Valid {
			first = v.Int64
		}
		return first, nil
	}
	for _, k := range kinds {
		var b whereBuilder
		table := "interactions"
		switch k {
		case rollups.KindLead:
			table = "leads"
		case rollups.KindSale:
			table = "sales"
		default:
			b.add("kind = ?", k)
		}
		b.add("project_id = ?", t.projectID)
		if t.resources != nil {
			b.cond = append(b.cond, b.in("COALESCE(link_id, qrcode_id, page_id)", t.resources))
		}
		var v sql.NullInt64
		if err := s.st.Read().QueryRowContext(ctx, "SELECT MIN(created_at) FROM "+table+" WHERE "+b.sql(), b.args...).Scan(&v); err != nil {
			return 0, fmt.Errorf("analytics: first %s: %w", table, err)
		}
		if v.Valid {
			first = min(first, v.Int64)
		}
	}
	return first, nil
}

func (s *Service) counts(ctx context.Context, base tally, w window) (Counts, error) {
	var c Counts
	for _, k := range allKinds {
		t := base
		t.kind, t.dim = k, rollups.Total
		out, err := s.run(ctx, t, []int64{w.start, w.end})
		if err != nil {
			return Counts{}, err
		}
		var n, amount int64
		if v := out[0][""]; v != nil {
			n, amount = v.n, v.amount
		}
		switch k {
		case rollups.KindClick:
			c.Clicks = n
		case rollups.KindScan:
			c.Scans = n
		case rollups.KindView:
			c.Views = n
		case rollups.KindLead:
			c.Leads = n
		case rollups.KindSale:
			c.Sales, c.SaleAmount = n, amount
		}
	}
	return c, nil
}

// setCounts writes the count fields of a kind into a row: the event's name
// (and saleAmount for sales).
func setCounts(r Row, kind string, c *count) {
	var n, amount int64
	if c != nil {
		n, amount = c.n, c.amount
	}
	r[eventOfKind[kind]] = n
	if kind == rollups.KindSale {
		r["saleAmount"] = amount
	}
}

// zeroRow gives a composite row every count field.
func zeroRow(r Row, kinds []string) {
	for _, k := range kinds {
		setCounts(r, k, nil)
	}
}

// groups answers the dimension group-bys, largest first, ties by value.
func (s *Service) groups(ctx context.Context, base tally, w window, p Params, kinds []string, d dimension) ([]Row, error) {
	dims := []string{d.dim}
	if d.via == "tags" {
		dims = []string{rollups.LinkID, rollups.QRCodeID}
	}
	byValue := map[string]Row{}
	var order []string
	for _, k := range kinds {
		merged := segCounts{}
		for _, dim := range dims {
			t := base
			t.kind, t.dim = k, dim
			out, err := s.run(ctx, t, []int64{w.start, w.end})
			if err != nil {
				return nil, err
			}
			for v, c := range out[0] {
				merged.add(v, c.n, c.amount)
			}
		}
		if d.via != "" {
			var err error
			if merged, err = s.regroup(ctx, merged, d.via); err != nil {
				return nil, err
			}
		}
		for v, c := range merged {
			if d.dim == rollups.Continent && !slices.Contains(continents, v) {
				// Dub's clients accept only the seven continent codes: the
				// interactions whose continent is not known are left out.
				continue
			}
			r := byValue[v]
			if r == nil {
				r = Row{}
				parts := strings.Split(v, rollups.Sep)
				for i, f := range d.fields {
					if i < len(parts) {
						r[f] = parts[i]
					}
				}
				zeroRow(r, kinds)
				byValue[v] = r
				order = append(order, v)
			}
			setCounts(r, k, c)
		}
	}
	countKey := p.Event
	if p.Event == EventComposite {
		countKey = EventClicks
	}
	slices.SortFunc(order, func(a, b string) int {
		if c := cmp.Compare(byValue[b][countKey].(int64), byValue[a][countKey].(int64)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := make([]Row, 0, min(len(order), maxGroups))
	for _, v := range order[:min(len(order), maxGroups)] {
		out = append(out, byValue[v])
	}
	return out, nil
}

// regroup maps counts by resource id to counts by the resources' tags or
// partners (as assigned now); a resource with two tags counts in both.
func (s *Service) regroup(ctx context.Context, byID segCounts, via string) (segCounts, error) {
	out := segCounts{}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i0 := 0; i0 < len(ids); i0 += maxIDsPerQuery {
		chunk := ids[i0:min(i0+maxIDsPerQuery, len(ids))]
		var b whereBuilder
		var q string
		if via == "tags" {
			l, r := b.in("link_id", chunk), b.in("qrcode_id", chunk)
			q = "SELECT link_id, tag_id FROM link_tags WHERE " + l + " UNION ALL SELECT qrcode_id, tag_id FROM qrcode_tags WHERE " + r
		} else {
			q = "SELECT id, partner_id FROM links WHERE " + b.in("id", chunk) + " AND partner_id IS NOT NULL"
		}
		rows, err := s.st.Read().QueryContext(ctx, q, b.args...)
		if err != nil {
			return nil, fmt.Errorf("analytics: group by %s: %w", via, err)
		}
		for rows.Next() {
			var id, to string
			if err := rows.Scan(&id, &to); err != nil {
				rows.Close()
				return nil, fmt.Errorf("analytics: group by %s: %w", via, err)
			}
			if c := byID[id]; c != nil {
				out.add(to, c.n, c.amount)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("analytics: group by %s: %w", via, err)
		}
	}
	return out, nil
}

// continents are the codes a continents group-by answers (Dub's).
var continents = []string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"}
