package tracking

import (
	"encoding/json"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/phuslu/iploc"
)

const iphoneSafari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"

func prefixes(t testing.TB, cidrs ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		out = append(out, netip.MustParsePrefix(c))
	}
	return out
}

// An iPhone behind a trusted proxy: the client address comes from
// X-Forwarded-For, the device, browser and OS from the user agent.
func TestEnrichIPhoneBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	e := newTestEnricher(t, Options{TrustedProxies: prefixes(t, "10.0.0.0/8")})
	r := newRequest("GET", "10.1.2.3:51234", iphoneSafari)
	r.Header.Set("X-Forwarded-For", "8.8.8.8")
	r.Header.Set("Referer", "https://www.twitter.com/someone/status/1")
	in := e.Enrich(r, testNow)

	want := map[string]string{
		"ip": in.IP, "country": in.Country, "continent": in.Continent, "device": in.Device,
		"os": in.OS, "osVersion": in.OSVersion, "deviceVendor": in.DeviceVendor, "deviceModel": in.DeviceModel,
		"engine": in.Engine, "referer": in.Referer, "refererUrl": in.RefererURL,
		"region": in.Region, "city": in.City,
	}
	for k, v := range map[string]string{
		"ip": "8.8.8.8", "country": "US", "continent": "NA", "device": "Mobile", "os": "iOS", "osVersion": "17.5",
		"deviceVendor": "Apple", "deviceModel": "iPhone", "engine": "WebKit", "referer": "twitter.com",
		"refererUrl": "https://www.twitter.com/someone/status/1", "region": Unknown, "city": Unknown,
	} {
		if want[k] != v {
			t.Errorf("%s = %q, want %q", k, want[k], v)
		}
	}
	if !strings.Contains(in.Browser, "Safari") {
		t.Errorf("browser = %q, want Safari-family", in.Browser)
	}
	if in.Bot || in.QR || in.URL != "" {
		t.Errorf("bot=%v qr=%v url=%q, want false/false/empty", in.Bot, in.QR, in.URL)
	}
	if in.Latitude != nil || in.Longitude != nil {
		t.Errorf("coordinates without a city database: %v %v", in.Latitude, in.Longitude)
	}
	if !regexp.MustCompile(`^[0-9A-Za-z]{16}$`).MatchString(in.ClickID) {
		t.Errorf("clickId = %q", in.ClickID)
	}
	if got := in.Timestamp; !got.Equal(testNow.Truncate(1e6)) || got.Location().String() != "UTC" {
		t.Errorf("timestamp = %v", got)
	}
	assertNoEmptyStrings(t, in)
}

// The JSON object has exactly the wire names of the contract's example.
func TestInteractionJSONMatchesContractExample(t *testing.T) {
	t.Parallel()
	// shared/ sits beside the repository, here and in CI.
	raw, err := os.ReadFile("../../../shared/spec/examples/link.clicked.json")
	if err != nil {
		raw = []byte(contractExampleKeys)
	}
	var example struct {
		Data struct {
			Interaction map[string]any `json:"interaction"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &example); err != nil {
		t.Fatal(err)
	}
	e := newTestEnricher(t, Options{})
	in := e.Enrich(newRequest("GET", "8.8.8.8:1", iphoneSafari), testNow)
	in.URL = "https://shop.example.com/spring"
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	gotKeys, wantKeys := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(example.Data.Interaction))
	if !slices.Equal(gotKeys, wantKeys) {
		t.Fatalf("keys = %v\nwant %v", gotKeys, wantKeys)
	}
	if got["latitude"] != nil || got["longitude"] != nil {
		t.Errorf("unknown coordinates must be null, got %v %v", got["latitude"], got["longitude"])
	}
	if got["timestamp"] != "2026-11-26T18:04:11.233Z" {
		t.Errorf("timestamp = %v", got["timestamp"])
	}
	for _, k := range []string{"browser", "browserVersion", "engine", "engineVersion", "os", "osVersion", "device", "deviceVendor", "deviceModel", "ua"} {
		if got[k] != example.Data.Interaction[k] {
			t.Errorf("%s = %v, example says %v", k, got[k], example.Data.Interaction[k])
		}
	}
}

// contractExampleKeys stands in for the spec file where it is not mounted.
const contractExampleKeys = `{"data":{"interaction":{"timestamp":"","clickId":"","url":"","ip":"","continent":"","country":"","region":"","city":"","latitude":null,"longitude":null,"device":"Mobile","deviceVendor":"Apple","deviceModel":"iPhone","browser":"Mobile Safari","browserVersion":"17.5","engine":"WebKit","engineVersion":"605.1.15","os":"iOS","osVersion":"17.5","cpuArchitecture":"","ua":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1","bot":false,"qr":false,"referer":"","refererUrl":""}}}`

func TestClientIP(t *testing.T) {
	t.Parallel()
	e := newTestEnricher(t, Options{TrustedProxies: prefixes(t, "10.0.0.0/8", "192.168.1.0/24", "fd00::/8")})
	cases := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy, no header", "203.0.113.7:443", nil, "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:443", []string{"8.8.8.8"}, "203.0.113.7"},
		{"untrusted peer spoofing a trusted-looking chain", "203.0.113.7:443", []string{"8.8.8.8, 10.0.0.1"}, "203.0.113.7"},
		{"trusted peer, one hop", "10.1.2.3:5000", []string{"8.8.8.8"}, "8.8.8.8"},
		{"trusted peer, client-spoofed left part", "10.1.2.3:5000", []string{"1.2.3.4, 8.8.8.8"}, "8.8.8.8"},
		{"trusted chain of proxies is skipped", "10.1.2.3:5000", []string{"1.2.3.4, 8.8.8.8, 192.168.1.20, 10.9.9.9"}, "8.8.8.8"},
		{"several header lines form one chain", "10.1.2.3:5000", []string{"1.2.3.4", "8.8.8.8, 10.0.0.5"}, "8.8.8.8"},
		{"all hops trusted: leftmost", "10.1.2.3:5000", []string{"10.0.0.9, 10.0.0.8"}, "10.0.0.9"},
		{"trusted peer, no header", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"trusted peer, empty header", "10.1.2.3:5000", []string{""}, "10.1.2.3"},
		{"garbage only", "10.1.2.3:5000", []string{"not-an-ip"}, "10.1.2.3"},
		{"garbage right of a spoof stops the walk", "10.1.2.3:5000", []string{"8.8.8.8, garbage"}, "10.1.2.3"},
		{"garbage left of the client is never reached", "10.1.2.3:5000", []string{"garbage, 8.8.8.8"}, "8.8.8.8"},
		{"empty elements are skipped", "10.1.2.3:5000", []string{"8.8.8.8, , "}, "8.8.8.8"},
		{"entry with port", "10.1.2.3:5000", []string{"8.8.8.8:1234"}, "8.8.8.8"},
		{"ipv6 client", "10.1.2.3:5000", []string{"2001:4860:4860::8888"}, "2001:4860:4860::8888"},
		{"bracketed ipv6 with port", "10.1.2.3:5000", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"ipv6 trusted peer", "[fd00::1]:443", []string{"8.8.4.4"}, "8.8.4.4"},
		{"ipv6 untrusted peer", "[2001:db8::5]:443", []string{"8.8.4.4"}, "2001:db8::5"},
		{"ipv4-mapped peer is unmapped and trusted", "[::ffff:10.1.2.3]:443", []string{"8.8.8.8"}, "8.8.8.8"},
		{"ipv4-mapped client is unmapped", "10.1.2.3:5000", []string{"::ffff:8.8.8.8"}, "8.8.8.8"},
		{"zone is dropped", "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"remote without port", "203.0.113.7", nil, "203.0.113.7"},
		{"huge entry", "10.1.2.3:5000", []string{strings.Repeat("9", 5000)}, "10.1.2.3"},
		{"long chain is bounded", "10.1.2.3:5000", []string{strings.Repeat("10.0.0.1, ", 1000) + "10.0.0.2"}, "10.0.0.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRequest("GET", c.remote, "")
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := e.ClientIP(r).String(); got != c.want {
				t.Errorf("ClientIP = %s, want %s", got, c.want)
			}
			if in := e.Enrich(r, testNow); in.IP != c.want {
				t.Errorf("ip = %s, want %s", in.IP, c.want)
			}
		})
	}
	t.Run("unparseable RemoteAddr", func(t *testing.T) {
		t.Parallel()
		in := e.Enrich(newRequest("GET", "pipe", ""), testNow)
		if in.IP != Unknown || in.Country != Unknown || in.Continent != Unknown {
			t.Errorf("ip/country/continent = %s/%s/%s, want Unknown", in.IP, in.Country, in.Continent)
		}
	})
}

func TestReferer(t *testing.T) {
	t.Parallel()
	cases := []struct{ header, host, full string }{
		{"", Direct, Direct},
		{"   ", Direct, Direct},
		{"https://www.twitter.com/someone/status/1", "twitter.com", "https://www.twitter.com/someone/status/1"},
		{"https://t.co/abc", "t.co", "https://t.co/abc"},
		{"https://WWW.Google.COM:443/search?q=x", "google.com", "https://WWW.Google.COM:443/search?q=x"},
		{"http://wwwexample.com/", "wwwexample.com", "http://wwwexample.com/"},
		{"android-app://com.google.android.gm/", "com.google.android.gm", "android-app://com.google.android.gm/"},
		{"https://[2001:db8::1]:8443/x", "2001:db8::1", "https://[2001:db8::1]:8443/x"},
		{"not a url", Unknown, "not a url"},
		{"/relative/path", Unknown, "/relative/path"},
		{"https://exa mple.com/", Unknown, "https://exa mple.com/"},
		{"https://example.com/" + strings.Repeat("a", 5000), "example.com", ("https://example.com/" + strings.Repeat("a", 5000))[:maxRefererURL]},
	}
	for _, c := range cases {
		host, full := parseReferer(c.header)
		if host != c.host || full != c.full {
			t.Errorf("parseReferer(%.40q) = %q, %.60q; want %q, %.60q", c.header, host, full, c.host, c.full)
		}
	}
}

func TestHeadRequestIsBot(t *testing.T) {
	t.Parallel()
	e := newTestEnricher(t, Options{})
	in := e.Enrich(newRequest("HEAD", "8.8.8.8:1", iphoneSafari), testNow)
	if !in.Bot {
		t.Error("HEAD request not flagged as bot")
	}
	if in.Device != "Mobile" {
		t.Errorf("device = %q; a HEAD keeps what its UA says", in.Device)
	}
}

func TestEmbeddedCountry(t *testing.T) {
	t.Parallel()
	e := newTestEnricher(t, Options{})
	cases := []struct{ ip, country, continent string }{
		{"8.8.8.8", "US", "NA"},
		{"2001:4860:4860::8888", "US", "NA"},
		{"129.187.1.1", "DE", "EU"},   // Leibniz-Rechenzentrum, Munich
		{"2001:638:1::1", "DE", "EU"}, // DFN, the German research network
		{"133.11.0.1", "JP", "AS"},    // University of Tokyo
		{"2001:200::1", "JP", "AS"},   // WIDE project
		{"131.111.1.1", "GB", "EU"},   // University of Cambridge
		{"143.107.1.1", "BR", "SA"},   // Universidade de São Paulo
		{"196.21.1.1", "ZA", "AF"},    // TENET, South African research network
		{"10.0.0.1", Unknown, Unknown},
		{"127.0.0.1", Unknown, Unknown},
		{"::1", Unknown, Unknown},
		{"100.64.0.1", Unknown, Unknown},
	}
	for _, c := range cases {
		in := e.Enrich(newRequest("GET", net.JoinHostPort(c.ip, "80"), ""), testNow)
		if in.Country != c.country || in.Continent != c.continent {
			t.Errorf("%s: country/continent = %s/%s, want %s/%s", c.ip, in.Country, in.Continent, c.country, c.continent)
		}
		if in.Region != Unknown || in.City != Unknown || in.Latitude != nil {
			t.Errorf("%s: region/city/lat known without a city database", c.ip)
		}
	}
}

// Every country code the embedded data can answer has a continent.
func TestEveryEmbeddedCountryHasAContinent(t *testing.T) {
	t.Parallel()
	idx := newContinentIndex()
	if len(idx) < 249 {
		t.Errorf("continent table has %d countries, want all 249 ISO codes", len(idx))
	}
	// Sample the IPv4 space densely enough to meet every country in the data.
	seen := map[string]bool{}
	for a := 1; a < 224; a++ {
		for b := 0; b < 256; b++ {
			for _, c := range []byte{0, 64, 128, 192} {
				seen[iploc.IPCountry(netip.AddrFrom4([4]byte{byte(a), byte(b), c, 1}))] = true
			}
		}
	}
	for cc := range seen {
		if isCountryCode(cc) && idx.of(cc) == "" {
			t.Errorf("country %s has no continent", cc)
		}
	}
	if len(seen) < 150 {
		t.Errorf("sample met only %d countries", len(seen))
	}
}

// writeCityDB builds a tiny GeoIP2-City database, the layout --geoip-db takes.
func writeCityDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 28, IPVersion: 6})
	if err != nil {
		t.Fatal(err)
	}
	record := func(city, region, country, continent string, lat, lon float64) mmdbtype.Map {
		return mmdbtype.Map{
			"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city)}},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(region)}},
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String(country)},
			"continent":    mmdbtype.Map{"code": mmdbtype.String(continent)},
			"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon)},
		}
	}
	insert := func(cidr string, v mmdbtype.DataType) {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, v); err != nil {
			t.Fatal(err)
		}
	}
	insert("8.8.8.0/24", record("Mountain View", "CA", "US", "NA", 37.386, -122.0838))
	insert("2001:4860::/32", record("Mountain View", "CA", "US", "NA", 37.386, -122.0838))
	insert("129.187.0.0/16", record("Munich", "BY", "DE", "EU", 48.1374, 11.5755))
	// Country only, as GeoLite2 has for many ranges: no city, no coordinates.
	insert("133.11.0.0/16", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("JP")}})
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCityDatabase(t *testing.T) {
	t.Parallel()
	e := newTestEnricher(t, Options{GeoIPDB: writeCityDB(t), TrustedProxies: prefixes(t, "10.0.0.0/8")})
	cases := []struct {
		ip, country, continent, region, city string
		lat, lon                             *float64
	}{
		{"8.8.8.8", "US", "NA", "CA", "Mountain View", ptr(37.386), ptr(-122.0838)},
		{"2001:4860:4860::8888", "US", "NA", "CA", "Mountain View", ptr(37.386), ptr(-122.0838)},
		{"129.187.1.1", "DE", "EU", "BY", "Munich", ptr(48.1374), ptr(11.5755)},
		{"133.11.0.1", "JP", "AS", Unknown, Unknown, nil, nil},
		// Not in the small database: the embedded table still knows the country.
		{"131.111.1.1", "GB", "EU", Unknown, Unknown, nil, nil},
	}
	for _, c := range cases {
		r := newRequest("GET", "10.0.0.1:80", iphoneSafari)
		r.Header.Set("X-Forwarded-For", c.ip)
		in := e.Enrich(r, testNow)
		if in.Country != c.country || in.Continent != c.continent || in.Region != c.region || in.City != c.city {
			t.Errorf("%s: got %s/%s/%s/%s, want %s/%s/%s/%s", c.ip, in.Country, in.Continent, in.Region, in.City,
				c.country, c.continent, c.region, c.city)
		}
		if !floatPtrEqual(in.Latitude, c.lat) || !floatPtrEqual(in.Longitude, c.lon) {
			t.Errorf("%s: coordinates %v,%v; want %v,%v", c.ip, deref(in.Latitude), deref(in.Longitude), deref(c.lat), deref(c.lon))
		}
	}
	b, _ := json.Marshal(e.Enrich(newRequest("GET", "8.8.8.8:1", ""), testNow))
	if !strings.Contains(string(b), `"latitude":37.386,"longitude":-122.0838`) {
		t.Errorf("JSON coordinates: %s", b)
	}
}

func TestMissingCityDatabaseFailsAtStartup(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{GeoIPDB: filepath.Join(t.TempDir(), "nope.mmdb")}); err == nil {
		t.Fatal("New with a missing database succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{GeoIPDB: bad}); err == nil {
		t.Fatal("New with a corrupt database succeeded")
	}
}

func TestUACacheIsBounded(t *testing.T) {
	t.Parallel()
	e := newTestEnricher(t, Options{UACacheSize: 64})
	for i := range 1000 {
		e.Enrich(newRequest("GET", "8.8.8.8:1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/"+strings.Repeat("1", i%50)+"."+string(rune('a'+i%26))), testNow)
	}
	if n := e.ua.cache.len(); n > 64 {
		t.Errorf("cache holds %d entries, bound is 64", n)
	}
	// A cached answer is the same as a fresh parse.
	first := e.ua.parse(iphoneSafari)
	if again := e.ua.parse(iphoneSafari); again != first || first != e.ua.parseUncached(iphoneSafari) {
		t.Error("cached parse differs from a fresh one")
	}
}

func ptr(f float64) *float64 { return &f }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func floatPtrEqual(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
