package rollups

import (
	"archive/zip"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// firstYear and lastYear bound the years checked: from 1980 (before it
// many zones still kept local mean time or odd offsets, e.g.
// Africa/Monrovia at UTC−0:44:30 until 1972) to as far as data can reach
// (zones extend their current rule beyond their table).
const (
	firstYear = 1980
	lastYear  = 2100
	// currentUse is the year from which every transition must be aligned:
	// the last unaligned one was Antarctica/Casey's in 2022 (00:01 local).
	currentUse = 2023
)

// TestZonesAlignToBuckets checks the claim the bucket size rests on, over
// every zone of the Go time zone database from firstYear to lastYear: each
// UTC offset is a whole number of 15-minute steps, and each change of offset
// since currentUse happens on a 15-minute UTC boundary. Then every local
// hour, day and month starts on a bucket boundary. The few earlier changes
// at a minute past midnight (Newfoundland and Moncton until 2011, Gaza and
// Hebron in 2010–2011, Casey until 2022) are listed; where such an edge cuts a
// bucket, analytics counts the cut part from the raw rows, as it does for
// every unaligned edge, so answers stay exact.
func TestZonesAlignToBuckets(t *testing.T) {
	t.Parallel()
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	zr, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Fatalf("the Go time zone database: %v", err)
	}
	defer zr.Close()
	start := time.Date(firstYear, 1, 1, 0, 0, 0, 0, time.UTC)
	var older []string
	end := time.Date(lastYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	zones := 0
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		loc, err := time.LoadLocation(f.Name)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		zones++
		for at := start; at.Before(end); {
			_, off := at.In(loc).Zone()
			if off%900 != 0 {
				t.Errorf("%s: offset %ds at %s is not a multiple of 15 minutes", f.Name, off, at)
				break
			}
			_, next := at.In(loc).ZoneBounds()
			if next.IsZero() {
				break // this offset lasts forever
			}
			if !next.After(at) { // the rule's year boundary: step over it
				at = at.Add(time.Hour)
				continue
			}
			// ZoneBounds also reports boundaries where nothing changes (the
			// end of the table at 2038-01-19, a new rule year); only real
			// changes of offset matter.
			_, before := next.Add(-time.Millisecond).In(loc).Zone()
			if _, after := next.In(loc).Zone(); after != before && next.UnixMilli()%Bucket != 0 {
				if next.Year() >= currentUse {
					t.Errorf("%s: transition at %s is not on a 15-minute boundary", f.Name, next.UTC())
					break
				}
				older = append(older, f.Name+" "+next.UTC().Format(time.RFC3339))
			}
			at = next
		}
	}
	if zones < 400 {
		t.Fatalf("only %d zones read", zones)
	}
	if len(older) == 0 {
		t.Fatal("no unaligned transition before currentUse: the raw fallback lost its reason, update the doc")
	}
	t.Logf("unaligned transitions before %d (counted from raw rows where they cut a bucket): %v", currentUse, older)
}

// TestOlderZonesNeedRaw shows the claim does not hold before firstYear,
// so the raw fallback for unaligned edges is needed and not dead code.
func TestOlderZonesNeedRaw(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Africa/Monrovia")
	if err != nil {
		t.Fatal(err)
	}
	_, off := time.Date(1970, 6, 1, 0, 0, 0, 0, loc).Zone()
	if off%900 == 0 {
		t.Fatalf("Monrovia in 1970 had offset %ds, expected an odd one", off)
	}
}

func TestDecompose(t *testing.T) {
	t.Parallel()
	lo := 3*Day - 2*Bucket
	hi := 5*Day + Hour + Bucket
	got := Decompose(lo, hi)
	want := []Piece{{Bucket, lo}, {Bucket, lo + Bucket}, {Day, 3 * Day}, {Day, 4 * Day}, {Bucket, 5 * Day},
		{Bucket, 5*Day + Bucket}, {Bucket, 5*Day + 2*Bucket}, {Bucket, 5*Day + 3*Bucket}, {Bucket, 5*Day + Hour}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	sum := int64(0)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("piece %d: %v, want %v", i, got[i], want[i])
		}
		sum += got[i].Grain
	}
	if sum != hi-lo {
		t.Fatalf("pieces cover %d ms of %d", sum, hi-lo)
	}
	if a, b := Align(Bucket+1, 3*Bucket-1); a != 2*Bucket || b != 2*Bucket {
		t.Fatalf("Align %d %d", a, b)
	}
}

func TestUTM(t *testing.T) {
	t.Parallel()
	got := UTM("https://shop.example/p?utm_source=news&utm_medium=email&x=1&utm_campaign=black%20friday#top")
	if got != [5]string{"news", "email", "black friday", "", ""} {
		t.Fatalf("%q", got)
	}
	if UTM("https://shop.example/") != [5]string{} {
		t.Fatal("no query, no UTM")
	}
}

// Backfill fills the rollups of rows written without them, once.
func TestBackfill(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p, _, _, err := projects.NewService(st, nil).EnsureWithKey(ctx, "bf", "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			storetest.MustExec(t, tx, `INSERT INTO interactions (click_id, project_id, kind, link_id, url, ip, continent, country, region, city,
device, device_vendor, device_model, browser, browser_version, engine, engine_version, os, os_version, cpu_architecture, ua, bot, qr,
referer, referer_url, counted, created_at) VALUES ('c1', $1, 'click', 'link_1', 'https://x.example/?utm_source=a', '1.2.3.4', 'EU', 'DE',
'BE', 'Berlin', 'Mobile', 'v', 'm', 'Safari', '1', 'e', '1', 'iOS', '1', 'arm', 'ua', FALSE, TRUE, '(direct)', '(direct)', TRUE, 1000)`, p.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{1, 0} {
			n, err := Backfill(ctx, st)
			if err != nil || n != want {
				t.Fatalf("backfill %d: %d projects, %v; want %d", i, n, err, want)
			}
		}
		got, err := Load(ctx, st.Read(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		url := Key{ProjectID: p.ID, Kind: KindClick, Resource: "link_1", Dim: URL, Grain: Bucket, Value: "https://x.example/?utm_source=a"}
		cross := Key{ProjectID: p.ID, Kind: KindClick, Dim: CountryBy(Device, "DE"), Grain: Day, Value: "Mobile"}
		if c, d := got[url], got[cross]; c == nil || c.N != 1 || d == nil || d.N != 1 {
			t.Fatalf("backfilled rollups %v", Diff(got, Batch{}, 50))
		}
		// Rollups written before the per-country rows existed get them.
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			storetest.MustExec(t, tx, "DELETE FROM analytics_rollups WHERE dim LIKE '%@%'")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{1, 0} {
			n, err := Backfill(ctx, st)
			if err != nil || n != want {
				t.Fatalf("per-country backfill %d: %d projects, %v; want %d", i, n, err, want)
			}
		}
		got, err = Load(ctx, st.Read(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Recount(ctx, st.Read(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := Diff(want, got, 10); len(d) > 0 {
			t.Fatalf("after the per-country backfill: %v", d)
		}
	})
}
