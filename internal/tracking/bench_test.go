package tracking

import (
	"net/netip"
	"sync"
	"testing"
)

// Test-only sharing for the fuzzer; production code keeps no package state.
var (
	fuzzOnce   sync.Once
	fuzzShared *Enricher
)

// BenchmarkEnrich is the redirect hot path with a typical mobile visitor
// behind a trusted proxy: cached UA parse, XFF walk, embedded country lookup,
// referer parse, click id.
func BenchmarkEnrich(b *testing.B) {
	e := newTestEnricher(b, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	r := newRequest("GET", "10.1.2.3:5000", iphoneSafari)
	r.Header.Set("X-Forwarded-For", "8.8.8.8")
	r.Header.Set("Referer", "https://www.twitter.com/someone/status/1")
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Enrich(r, testNow)
	}
}

// BenchmarkEnrichWithCityDB adds the MaxMind lookup.
func BenchmarkEnrichWithCityDB(b *testing.B) {
	e := newTestEnricher(b, Options{GeoIPDB: writeCityDB(b), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	r := newRequest("GET", "10.1.2.3:5000", iphoneSafari)
	r.Header.Set("X-Forwarded-For", "8.8.8.8")
	r.Header.Set("Referer", "https://www.twitter.com/someone/status/1")
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Enrich(r, testNow)
	}
}

// BenchmarkEnrichParallel is the same under contention on the UA cache.
func BenchmarkEnrichParallel(b *testing.B) {
	e := newTestEnricher(b, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := newRequest("GET", "10.1.2.3:5000", iphoneSafari)
		r.Header.Set("X-Forwarded-For", "8.8.8.8")
		for pb.Next() {
			_ = e.Enrich(r, testNow)
		}
	})
}

// BenchmarkParseUncached is the cost of a cache miss (a never-seen UA): a
// browser skips the crawler list, an unknown agent runs it.
func BenchmarkParseUncached(b *testing.B) {
	p := newUAParser(16)
	for _, c := range []struct{ name, ua string }{
		{"browser", iphoneSafari},
		{"android", "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"},
		{"named-bot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
		{"unknown-agent", "Mozilla/5.0 (compatible; SomeNewCrawler/1.0)"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.parseUncached(c.ua)
			}
		})
	}
}
