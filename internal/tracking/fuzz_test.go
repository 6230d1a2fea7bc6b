package tracking

import (
	"encoding/json"
	"net/netip"
	"testing"
)

func FuzzEnrich(f *testing.F) {
	f.Add(iphoneSafari, "8.8.8.8", "https://www.twitter.com/x", "10.0.0.1:443", false)
	f.Add("", "", "", "", true)
	f.Add("curl/8.5.0", "1.2.3.4, garbage, 10.0.0.9", "not a url", "[::ffff:10.0.0.1]:1", false)
	f.Add("Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/X; wv) Chrome/1 Instagram 1 Android (", "[2001:db8::1]:80, ,", "android-app://x", "[fe80::1%eth0]:80", false)
	f.Add("Mozilla/5.0 (X11; CrOS ", "::", "http://[::1", "garbage", false)
	f.Add("(Android ;;;; Build/", "10.0.0.1,10.0.0.2", "//", "10.0.0.1", true)
	f.Fuzz(func(t *testing.T, ua, xff, referer, remote string, head bool) {
		e := fuzzEnricher(t)
		method := "GET"
		if head {
			method = "HEAD"
		}
		r := newRequest(method, "", "")
		r.RemoteAddr = remote
		r.Header.Set("User-Agent", ua)
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Referer", referer)
		in := e.Enrich(r, testNow)
		assertNoEmptyStrings(t, in)
		if in.UA != ua {
			t.Fatalf("ua changed: %q -> %q", ua, in.UA)
		}
		if in.IP != Unknown {
			if _, err := netip.ParseAddr(in.IP); err != nil {
				t.Fatalf("ip %q is not an address", in.IP)
			}
		}
		if (in.Latitude == nil) != (in.Longitude == nil) {
			t.Fatal("half a coordinate")
		}
		if head && !in.Bot {
			t.Fatal("HEAD not a bot")
		}
		if _, err := json.Marshal(in); err != nil {
			t.Fatal(err)
		}
		// Parsing twice (the second time from the cache) gives one answer.
		if again := e.Enrich(r, testNow); again.Device != in.Device || again.Browser != in.Browser || again.Bot != in.Bot {
			t.Fatal("cached parse differs")
		}
	})
}

// fuzzEnricher is shared by all fuzz inputs of one process: building the
// parsers is far slower than one input, and sharing exercises the cache.
func fuzzEnricher(t *testing.T) *Enricher {
	t.Helper()
	fuzzOnce.Do(func() {
		e, err := New(Options{TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fe80::/10"),
		}, UACacheSize: 256})
		if err != nil {
			panic(err)
		}
		fuzzShared = e
	})
	return fuzzShared
}
