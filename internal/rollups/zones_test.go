package rollups

import (
	"archive/zip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FirstExactYear is the first year from which every zone of the Go time zone
// database has offsets and transitions on 15-minute UTC boundaries. Before it
// some zones still kept local mean time or odd offsets (Africa/Monrovia was
// UTC−0:44:30 until 1972); analytics then counts the cut parts of buckets
// from raw rows, which it does wherever an edge is not aligned, so answers
// stay exact — only slower.
const FirstExactYear = 1980

// lastYear is as far as data can reach: times are accepted up to a few
// years ahead, and zones extend their current rule beyond their table.
const lastYear = 2100

// TestZonesAlignToBuckets checks the claim the bucket size rests on, over
// every zone of the Go time zone database: from FirstExactYear to lastYear
// each UTC offset is a whole number of 15-minute steps and each transition
// between offsets happens on a 15-minute UTC boundary. Then every local
// hour, day and month starts on a bucket boundary.
func TestZonesAlignToBuckets(t *testing.T) {
	t.Parallel()
	zr, err := zip.OpenReader(filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Fatalf("the Go time zone database: %v", err)
	}
	defer zr.Close()
	start := time.Date(FirstExactYear, 1, 1, 0, 0, 0, 0, time.UTC)
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
			if next.UnixMilli()%Bucket != 0 {
				t.Errorf("%s: transition at %s is not on a 15-minute boundary", f.Name, next.UTC())
				break
			}
			at = next
		}
	}
	if zones < 400 {
		t.Fatalf("only %d zones read", zones)
	}
}

// TestOlderZonesNeedRaw shows the claim does not hold before FirstExactYear,
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
