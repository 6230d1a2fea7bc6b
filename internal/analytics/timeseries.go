package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// bucketCount is the count (and sale amount) of one bucket.
type bucketCount struct{ n, amount int64 }

// timeseries answers groupBy=timeseries: one row per bucket from the start of
// the window to its end, empty buckets included, each labelled with its start
// in the requested zone.
func (s *Service) timeseries(ctx context.Context, f filter) ([]Row, error) {
	table, hasAmount := conversionTable(f.p.Event)
	var where string
	var args []any
	if table == "" {
		table = "interactions"
		where, args = f.interactions(kindOf[f.p.Event])
	} else {
		where, args = f.conversions()
	}
	w := f.w
	if w.start == 0 { // interval=all: from the first row on
		first, err := s.firstAt(ctx, table, where, args)
		if err != nil {
			return nil, err
		}
		w.start = min(first, w.end-1)
	}
	starts := bucketStarts(f.p.Location, w.start, w.end, w.gran)
	bf := f
	bf.noWindow = true
	if table == "interactions" {
		where, args = bf.interactions(kindOf[f.p.Event])
	} else {
		where, args = bf.conversions()
	}
	counts, err := s.bucketCounts(ctx, table, where, args, edges(starts, w), hasAmount)
	if err != nil {
		return nil, err
	}
	out := make([]Row, len(starts))
	for j, t := range starts {
		r := Row{"start": t.Format(time.RFC3339), f.p.Event: counts[j].n}
		if hasAmount {
			r["saleAmount"] = counts[j].amount
		}
		out[j] = r
	}
	return out, nil
}

// firstAt is the time of the earliest row matching where, or the largest
// int64 when there is none (or no table).
func (s *Service) firstAt(ctx context.Context, table, where string, args []any) (int64, error) {
	const none = int64(^uint64(0) >> 1)
	if table == "" {
		return none, nil
	}
	var first sql.NullInt64
	if err := s.st.Read().QueryRowContext(ctx, "SELECT MIN(created_at) FROM "+table+" WHERE "+where, args...).Scan(&first); err != nil {
		return 0, fmt.Errorf("analytics: first %s: %w", table, err)
	}
	if !first.Valid {
		return none, nil
	}
	return first.Int64, nil
}

// bucketCounts counts the rows of each bucket [edges[i], edges[i+1]) with one
// correlated COUNT per bucket. Each is a range count on the covering index
// interactions_analytics, which is several times faster on SQLite than
// grouping by an expression of created_at (that needs a temporary B-tree
// over every row), and needs no date functions, so both databases run the
// same SQL. The edges are integers computed here, inlined as literals.
func (s *Service) bucketCounts(ctx context.Context, table, where string, args []any, edges []int64, amount bool) ([]bucketCount, error) {
	var b strings.Builder
	b.WriteString("WITH b(i, lo, hi) AS (VALUES ")
	for i := range len(edges) - 1 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d, %d)", i, edges[i], edges[i+1])
	}
	sub := " FROM " + table + " WHERE " + where + " AND created_at >= b.lo AND created_at < b.hi)"
	sum := "0"
	if amount {
		sum = "(SELECT COALESCE(SUM(amount), 0)" + sub
	}
	b.WriteString(") SELECT i, (SELECT COUNT(*)" + sub + ", " + sum + " FROM b ORDER BY i")
	rows, err := s.st.Read().QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: timeseries %s: %w", table, err)
	}
	defer rows.Close()
	out := make([]bucketCount, len(edges)-1)
	for rows.Next() {
		var i int
		var c bucketCount
		if err := rows.Scan(&i, &c.n, &c.amount); err != nil {
			return nil, fmt.Errorf("analytics: timeseries %s: %w", table, err)
		}
		out[i] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: timeseries %s: %w", table, err)
	}
	return out, nil
}

// edges are the bucket boundaries in Unix ms, clipped to the window: the
// first bucket counts from the window's start, the last up to its end.
func edges(starts []time.Time, w window) []int64 {
	out := make([]int64, 0, len(starts)+1)
	for i, t := range starts {
		ms := t.UnixMilli()
		if i == 0 {
			ms = max(ms, w.start)
		}
		out = append(out, ms)
	}
	if len(starts) > 0 {
		out = append(out, w.end)
	}
	return out
}

// bucketStarts lists the bucket starts in loc from the bucket holding start
// to the last one beginning before end. Days and months follow the calendar
// (23- and 25-hour days across DST); hours are real hours, so the repeated
// local hour of an autumn DST change is two buckets with different offsets.
func bucketStarts(loc *time.Location, start, end int64, g granularity) []time.Time {
	t := time.UnixMilli(start).In(loc)
	switch g {
	case hourly:
		t = t.Truncate(time.Hour)
		// Truncate works in absolute time; re-align to the local hour for
		// zones whose offset is not whole hours.
		if _, off := t.Zone(); off%3600 != 0 {
			l := time.UnixMilli(start).In(loc)
			t = time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), 0, 0, 0, loc)
		}
	case daily:
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	default:
		t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	}
	var out []time.Time
	for t.UnixMilli() < end {
		out = append(out, t)
		t = nextStart(t, g)
	}
	return out
}

// nextStart is the start of the bucket after the one starting at t.
func nextStart(t time.Time, g granularity) time.Time {
	switch g {
	case hourly:
		return t.Add(time.Hour)
	case daily:
		return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
	}
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
}
