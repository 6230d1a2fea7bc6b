package analytics

import (
	"context"
	"time"

	"github.com/codeqr/codeqr/internal/rollups"
)

// timeseries answers groupBy=timeseries: one row per bucket from the start of
// the window to its end, empty buckets included, each labelled with its start
// in the requested zone.
func (s *Service) timeseries(ctx context.Context, base tally, w window, p Params, kinds []string) ([]Row, error) {
	starts := bucketStarts(p.Location, w.start, w.end, w.gran)
	out := make([]Row, len(starts))
	for j, t := range starts {
		out[j] = Row{"start": t.Format(time.RFC3339)}
	}
	e := edges(starts, w)
	for _, k := range kinds {
		t := base
		t.kind, t.dim = k, rollups.Total
		segs, err := s.run(ctx, t, e)
		if err != nil {
			return nil, err
		}
		for j := range out {
			setCounts(out[j], k, segs[j][""])
		}
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
