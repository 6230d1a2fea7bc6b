package analytics

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestBucketStarts(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ms := func(s string) int64 {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UnixMilli()
	}
	got := bucketStarts(berlin, ms("2026-03-28T12:00:00Z"), ms("2026-03-30T22:00:00Z"), daily)
	want := []string{"2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"}
	if len(got) != len(want) {
		t.Fatalf("%d buckets %v", len(got), got)
	}
	for i := range want {
		if got[i].Format(time.RFC3339) != want[i] {
			t.Fatalf("bucket %d %s, want %s", i, got[i].Format(time.RFC3339), want[i])
		}
	}
	// The spring day has 23 hours.
	if d := got[2].Sub(got[1]); d != 23*time.Hour {
		t.Fatalf("spring-forward day lasts %s", d)
	}
	got = bucketStarts(berlin, ms("2026-01-31T23:30:00Z"), ms("2026-04-01T00:00:00Z"), monthly)
	if len(got) != 3 || got[0].Format(time.RFC3339) != "2026-02-01T00:00:00+01:00" || got[2].Format(time.RFC3339) != "2026-04-01T00:00:00+02:00" {
		t.Fatalf("monthly %v", got)
	}
}

// BenchmarkTimeseries measures groupBy=timeseries (30 days, daily buckets in
// Europe/Berlin) over 100,000 interactions on SQLite.
func BenchmarkTimeseries(b *testing.B) {
	ctx := context.Background()
	st := storetest.New(b, "sqlite")
	p, _, _, err := projects.NewService(st, nil).EnsureWithKey(ctx, "bench", "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	const rows = 100_000
	end := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	base := end.AddDate(0, 0, -30).UnixMilli()
	step := (end.UnixMilli() - base) / rows
	err = st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO interactions (click_id, project_id, kind, link_id, qrcode_id, page_id,
url, ip, continent, country, region, city, latitude, longitude, device, device_vendor, device_model, browser,
browser_version, engine, engine_version, os, os_version, cpu_architecture, ua, bot, qr, referer, referer_url, counted, created_at)
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < $1 - 1)
SELECT 'c' || i, $2, CASE i % 10 WHEN 0 THEN 'scan' ELSE 'click' END, 'link' || (i % 50), NULL, NULL,
'https://shop.example/', '203.0.113.7', 'EU', CASE i % 3 WHEN 0 THEN 'DE' WHEN 1 THEN 'US' ELSE 'FR' END, 'Unknown', 'Unknown',
NULL, NULL, 'Mobile', 'Apple', 'iPhone', 'Safari', '18.0', 'WebKit', '605', 'iOS', '18.0', 'Unknown', 'ua',
i % 20 = 0, FALSE, '(direct)', '(direct)', i % 20 <> 0, $3 + i * $4 FROM seq`, rows, p.ID, base, step)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	s := NewService(st).WithClock(func() time.Time { return end })
	params, err := ParseParams(url.Values{"groupBy": {"timeseries"}, "interval": {"30d"}, "timezone": {"Europe/Berlin"}})
	if err != nil {
		b.Fatal(err)
	}
	res, err := s.Query(ctx, p.ID, params)
	if err != nil {
		b.Fatal(err)
	}
	total := int64(0)
	for _, r := range res.([]Row) {
		total += r["clicks"].(int64)
	}
	if total != rows*9/10 { // every 10th row is a scan; the bots (every 20th) are among them
		b.Fatalf("counted %d clicks", total)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Query(ctx, p.ID, params); err != nil {
			b.Fatal(err)
		}
	}
}
