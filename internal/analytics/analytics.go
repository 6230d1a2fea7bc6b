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
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/store"
)

// maxGroups caps the rows of a group-by answer (largest first).
const maxGroups = 250

// Service runs analytics queries on the read pool.
type Service struct {
	st  *store.Store
	now func() time.Time
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
// Sales rows also carry "saleAmount".
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
	f := filter{projectID: projectID, w: w, p: p}
	switch p.GroupBy {
	case GroupCount:
		return s.counts(ctx, f)
	case GroupTimeseries:
		return s.timeseries(ctx, f)
	}
	return s.groups(ctx, f, dimensions[p.GroupBy])
}

// checkResources makes a resource filter of another project (or no resource
// at all) a 404, as for every other id in the API.
func (s *Service) checkResources(ctx context.Context, projectID string, p Params) error {
	for _, r := range []struct{ id, table, name string }{
		{p.LinkID, "links", "link"}, {p.QRCodeID, "qrcodes", "QR code"}, {p.PageID, "pages", "page"},
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

// filter builds the WHERE clause shared by every query.
type filter struct {
	projectID string
	w         window
	p         Params
	// noWindow leaves the time conditions to the caller (timeseries puts
	// each bucket's range in their place, so the index range is the bucket).
	noWindow bool
}

// interactions returns the WHERE clause over interactions for the given kinds
// (none: all kinds) and its arguments.
func (f filter) interactions(kinds ...string) (string, []any) {
	var b whereBuilder
	b.add("project_id = ?", f.projectID)
	switch len(kinds) {
	case 0:
	case 1:
		b.add("kind = ?", kinds[0])
	default:
		ph := make([]string, len(kinds))
		for i, k := range kinds {
			ph[i] = b.arg(k)
		}
		b.cond = append(b.cond, "kind IN ("+strings.Join(ph, ", ")+")")
	}
	f.common(&b)
	if f.p.IncludeBots {
		b.cond = append(b.cond, "(counted OR bot)")
	} else {
		b.cond = append(b.cond, "counted")
	}
	return b.sql(), b.args
}

// conversions returns the WHERE clause over the leads or sales table.
func (f filter) conversions() (string, []any) {
	var b whereBuilder
	b.add("project_id = ?", f.projectID)
	f.common(&b)
	return b.sql(), b.args
}

// common adds the time window and resource filters, which have the same
// column names in every table analytics reads.
func (f filter) common(b *whereBuilder) {
	if !f.noWindow {
		if f.w.start > 0 {
			b.add("created_at >= ?", f.w.start)
		}
		b.add("created_at < ?", f.w.end)
	}
	if f.p.LinkID != "" {
		b.add("link_id = ?", f.p.LinkID)
	}
	if f.p.QRCodeID != "" {
		b.add("qrcode_id = ?", f.p.QRCodeID)
	}
	if f.p.PageID != "" {
		b.add("page_id = ?", f.p.PageID)
	}
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

func (b *whereBuilder) sql() string { return strings.Join(b.cond, " AND ") }

func (s *Service) counts(ctx context.Context, f filter) (Counts, error) {
	var c Counts
	where, args := f.interactions()
	rows, err := s.st.Read().QueryContext(ctx, "SELECT kind, COUNT(*) FROM interactions WHERE "+where+" GROUP BY kind", args...)
	if err != nil {
		return Counts{}, fmt.Errorf("analytics: counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return Counts{}, fmt.Errorf("analytics: counts: %w", err)
		}
		switch kind {
		case "click":
			c.Clicks = n
		case "scan":
			c.Scans = n
		case "view":
			c.Views = n
		}
	}
	if err := rows.Err(); err != nil {
		return Counts{}, fmt.Errorf("analytics: counts: %w", err)
	}
	if c.Leads, _, err = s.conversionTotal(ctx, f, EventLeads); err != nil {
		return Counts{}, err
	}
	if c.Sales, c.SaleAmount, err = s.conversionTotal(ctx, f, EventSales); err != nil {
		return Counts{}, err
	}
	return c, nil
}

// groups answers the dimension group-bys, largest first, ties by value.
func (s *Service) groups(ctx context.Context, f filter, d dimension) ([]Row, error) {
	if f.p.Event == EventLeads || f.p.Event == EventSales {
		return s.conversionGroups(ctx, f, d)
	}
	where, args := f.interactions(kindOf[f.p.Event])
	cols := d.column
	if d.extraColumn != "" {
		cols += ", " + d.extraColumn
	}
	q := "SELECT " + cols + ", COUNT(*) AS n FROM interactions WHERE " + where + " AND " + d.column + " IS NOT NULL" +
		" GROUP BY " + cols + " ORDER BY n DESC, " + cols + fmt.Sprintf(" LIMIT %d", maxGroups)
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: group by %s: %w", d.column, err)
	}
	defer rows.Close()
	out := []Row{}
	for rows.Next() {
		var key, extra string
		var n int64
		dst := []any{&key}
		if d.extraColumn != "" {
			dst = append(dst, &extra)
		}
		if err := rows.Scan(append(dst, &n)...); err != nil {
			return nil, fmt.Errorf("analytics: group by %s: %w", d.column, err)
		}
		r := Row{d.key: key, f.p.Event: n}
		if d.extraColumn != "" {
			r[d.extraKey] = extra
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: group by %s: %w", d.column, err)
	}
	sortRows(out, f.p.Event, d.key)
	return out, nil
}

// sortRows orders a group-by answer by count, largest first, then by value in
// byte order, so that both databases (whose text collations differ) agree.
func sortRows(rows []Row, countKey, key string) {
	slices.SortStableFunc(rows, func(a, b Row) int {
		if c := cmp.Compare(b[countKey].(int64), a[countKey].(int64)); c != 0 {
			return c
		}
		return strings.Compare(a[key].(string), b[key].(string))
	})
}
