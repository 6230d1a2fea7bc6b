package tracking

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/codeqr/codeqr/internal/ids"
)

// Options configures an Enricher. The zero value works: no proxy is trusted,
// country and continent still come from the embedded table.
type Options struct {
	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (--trusted-proxies). Requests from anyone else use RemoteAddr.
	TrustedProxies []netip.Prefix
	// GeoIPDB is the path of an optional MaxMind-format city database
	// (--geoip-db) for region, city, latitude and longitude.
	GeoIPDB string
	// UACacheSize bounds the parsed User-Agent cache (entries); 0 means 8192.
	UACacheSize int
}

// Enricher turns a request into an Interaction. It is safe for concurrent use
// and meant to be built once at startup; Close releases the city database.
type Enricher struct {
	trusted []netip.Prefix
	geo     *geoLocator
	ua      *uaParser
}

// New builds an Enricher. It fails only when GeoIPDB is set and cannot be
// opened, so a misconfigured server stops at startup instead of silently
// losing city data.
func New(opts Options) (*Enricher, error) {
	geo, err := newGeoLocator(opts.GeoIPDB)
	if err != nil {
		return nil, err
	}
	size := opts.UACacheSize
	if size <= 0 {
		size = 8192
	}
	trusted := make([]netip.Prefix, 0, len(opts.TrustedProxies))
	for _, p := range opts.TrustedProxies {
		if p.IsValid() {
			trusted = append(trusted, p.Masked())
		}
	}
	return &Enricher{trusted: trusted, geo: geo, ua: newUAParser(size)}, nil
}

// Close releases the city database, if any.
func (e *Enricher) Close() error { return e.geo.close() }

// Enrich describes r as an Interaction at time now. URL is left empty and QR
// false: the caller knows the destination and whether this was a scan. Bot is
// also true for HEAD requests, which no person's browser sends to open a link.
func (e *Enricher) Enrich(r *http.Request, now time.Time) Interaction {
	ip := e.ClientIP(r)
	geo := e.geo.locate(ip)
	uaString := r.UserAgent()
	ua := e.ua.parse(uaString)
	host, full := parseReferer(r.Header.Get("Referer"))

	ipText := Unknown
	if ip.IsValid() {
		ipText = ip.String()
	}
	return Interaction{
		Timestamp:       now.UTC().Truncate(time.Millisecond),
		ClickID:         ids.ClickID(),
		IP:              ipText,
		Continent:       orUnknown(geo.Continent),
		Country:         orUnknown(geo.Country),
		Region:          orUnknown(geo.Region),
		City:            orUnknown(geo.City),
		Latitude:        geo.Latitude,
		Longitude:       geo.Longitude,
		Device:          orUnknown(ua.Device),
		DeviceVendor:    orUnknown(ua.Vendor),
		DeviceModel:     orUnknown(ua.Model),
		Browser:         orUnknown(ua.Browser),
		BrowserVersion:  orUnknown(ua.BrowserVersion),
		Engine:          orUnknown(ua.Engine),
		EngineVersion:   orUnknown(ua.EngineVersion),
		OS:              orUnknown(ua.OS),
		OSVersion:       orUnknown(ua.OSVersion),
		CPUArchitecture: orUnknown(ua.CPUArchitecture),
		UA:              uaString,
		Bot:             ua.Bot || r.Method == http.MethodHead,
		Referer:         host,
		RefererURL:      full,
	}
}

// ClientIP is the client address of r after trusted-proxy resolution; the
// zero Addr when RemoteAddr is not an address. Exported for callers that key
// on the visitor (dedupe windows, rate limits) without a full Enrich.
func (e *Enricher) ClientIP(r *http.Request) netip.Addr {
	return clientIP(r, e.trusted)
}

// Locate returns what the location data knows about ip.
func (e *Enricher) Locate(ip netip.Addr) Geo { return e.geo.locate(ip) }
