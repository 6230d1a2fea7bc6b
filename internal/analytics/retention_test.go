package analytics

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// TestRetentionKeepsAnalytics prunes every raw interaction and checks that
// /api/analytics answers the pruned period with the same numbers as before
// (from the rollups), while the raw rows are gone.
func TestRetentionKeepsAnalytics(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		r := rand.New(rand.NewPCG(11, 13))
		projs := seedProperty(t, ctx, st, r)
		now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		svc := NewService(st).WithClock(func() time.Time { return now })
		var queries []url.Values
		for _, gb := range allGroupBys {
			for _, ev := range []string{EventClicks, EventScans, EventComposite, EventLeads} {
				for _, w := range [][2]string{{"2026-03-01T00:00:00Z", "2026-11-10T00:00:00Z"}, {"2026-03-28T22:15:00Z", "2026-03-30T01:45:00Z"}} {
					queries = append(queries, url.Values{"groupBy": {gb}, "event": {ev}, "start": {w[0]}, "end": {w[1]},
						"timezone": {"Asia/Kolkata"}})
				}
			}
			queries = append(queries, url.Values{"groupBy": {gb}, "interval": {"all"}, "timezone": {"Europe/Berlin"}, "event": {EventComposite}},
				url.Values{"groupBy": {gb}, "interval": {"1y"}, "tagId": {projs[0].tag}})
		}
		// A dimension filter is answered from the rollups with the total,
		// the timeseries and its own group-by (a filter combined with
		// another group-by needs the raw rows, so it reaches back only as
		// far as the retention).
		for _, gb := range []string{GroupCount, GroupTimeseries, "countries"} {
			queries = append(queries, url.Values{"groupBy": {gb}, "interval": {"1y"}, "country": {"DE"}, "linkId": {projs[0].links[0]}})
		}
		before := make([]string, len(queries))
		nonEmpty := 0
		for i, v := range queries {
			before[i] = answer(t, ctx, svc, projs[0].id, v)
			if nonZero.MatchString(before[i]) {
				nonEmpty++
			}
		}
		if nonEmpty < len(queries)/2 {
			t.Fatalf("only %d of %d answers carry data", nonEmpty, len(queries))
		}
		ret := interactions.NewRetention(st, 24*time.Hour, nil).WithClock(func() time.Time { return now })
		n, err := ret.PruneOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2500 || storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM interactions") != 0 {
			t.Fatalf("pruned %d raw rows, want all 2500", n)
		}
		for i, v := range queries {
			if got := answer(t, ctx, svc, projs[0].id, v); got != before[i] {
				t.Fatalf("%s after pruning:\n got %s\nwant %s", v.Encode(), got, before[i])
			}
		}
	})
}

// nonZero finds a count other than zero in an answer.
var nonZero = regexp.MustCompile(`":[1-9]`)

func answer(t *testing.T, ctx context.Context, s *Service, projectID string, v url.Values) string {
	t.Helper()
	p, err := ParseParams(v)
	if err != nil {
		t.Fatalf("%s: %v", v.Encode(), err)
	}
	res, err := s.Query(ctx, projectID, p)
	if err != nil {
		t.Fatalf("%s: %v", v.Encode(), err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
