package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// unitCount is the count (and sale amount) of one fixed unit of Unix time.
type unitCount struct{ unit, n, amount int64 }

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
		ok, err := s.conversionsExist(ctx, f.p.Event)
		if err != nil {
			return nil, err
		}
		if !ok {
			table = "" // no rows yet, but still the empty buckets
		}
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
	loc := f.p.Location
	unit := unitFor(loc, w.start, w.end)
	var units []unitCount
	if table != "" {
		var err error
		if units, err = s.unitCounts(ctx, table, where, args, unit, hasAmount); err != nil {
			return nil, err
		}
	}
	starts := bucketStarts(loc, w.start, w.end, w.gran)
	counts := make([]unitCount, len(starts))
	i := 0
	for _, u := range units {
		at := u.unit * unit
		for i+1 < len(starts) && starts[i+1].UnixMilli() <= at {
			i++
		}
		counts[i].n += u.n
		counts[i].amount += u.amount
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

// unitCounts groups rows by created_at / unit with integer division, which
// SQLite and PostgreSQL both do the same way for integer operands, ordered by unit.
func (s *Service) unitCounts(ctx context.Context, table, where string, args []any, unit int64, amount bool) ([]unitCount, error) {
	sum := "0"
	if amount {
		sum = "COALESCE(SUM(amount), 0)"
	}
	q := fmt.Sprintf("SELECT created_at / %d AS u, COUNT(*), %s FROM %s WHERE %s GROUP BY u ORDER BY u", unit, sum, table, where)
	rows, err := s.st.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: timeseries %s: %w", table, err)
	}
	defer rows.Close()
	var out []unitCount
	for rows.Next() {
		var u unitCount
		if err := rows.Scan(&u.unit, &u.n, &u.amount); err != nil {
			return nil, fmt.Errorf("analytics: timeseries %s: %w", table, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: timeseries %s: %w", table, err)
	}
	return out, nil
}

// unitFor picks the largest unit of Unix time that never straddles a bucket
// boundary in loc between start and end: an hour when every UTC offset in
// that span is whole hours, else 15 minutes (India, Nepal, Chatham …), else a
// minute. Offsets are checked from a month before start, since the first
// bucket starts at the beginning of start's month at the latest.
func unitFor(loc *time.Location, start, end int64) int64 {
	const (
		hour    = int64(time.Hour / time.Millisecond)
		quarter = int64(15 * time.Minute / time.Millisecond)
		minute  = int64(time.Minute / time.Millisecond)
	)
	unit := hour
	t := time.UnixMilli(start).In(loc).AddDate(0, -1, -1)
	for {
		_, off := t.Zone()
		switch {
		case off%3600 == 0:
		case off%900 == 0:
			unit = min(unit, quarter)
		default:
			return minute
		}
		_, next := t.ZoneBounds()
		if next.IsZero() || next.UnixMilli() >= end || !next.After(t) {
			return unit
		}
		t = next
	}
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
		switch g {
		case hourly:
			t = t.Add(time.Hour)
		case daily:
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		default:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		}
	}
	return out
}
