package interactions

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/ids"
)

// BasicEnricher is a minimal Enricher — peer IP, raw User-Agent, a crude bot
// and OS check, referer — with "Unknown" for everything it cannot tell. It
// stands in until the full enricher (internal/tracking) is wired; it knows no
// geography. X-Forwarded-For is believed (its last entry) only from Trusted peers.
type BasicEnricher struct {
	Trusted []netip.Prefix
}

// Enrich implements Enricher.
func (e BasicEnricher) Enrich(r *http.Request, now time.Time) Interaction {
	const unknown = "Unknown"
	ua := r.UserAgent()
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	if peer, err := netip.ParseAddr(ip); err == nil && e.trusts(peer.Unmap()) {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				ip = a.Unmap().String()
			}
		}
	}
	in := Interaction{
		Timestamp: now.UTC().Truncate(time.Millisecond), ClickID: ids.ClickID(), IP: ip,
		Continent: unknown, Country: unknown, Region: unknown, City: unknown,
		Device: "Desktop", DeviceVendor: unknown, DeviceModel: unknown, Browser: unknown, BrowserVersion: unknown,
		Engine: unknown, EngineVersion: unknown, OS: unknown, OSVersion: unknown, CPUArchitecture: unknown,
		UA: ua, Referer: "(direct)", RefererURL: "(direct)",
	}
	low := strings.ToLower(ua)
	switch {
	case strings.Contains(low, "iphone") || strings.Contains(low, "ipad"):
		in.OS, in.Device = "iOS", "Mobile"
	case strings.Contains(low, "android"):
		in.OS, in.Device = "Android", "Mobile"
	}
	in.Bot = r.Method == http.MethodHead || ua == "" ||
		strings.Contains(low, "bot") || strings.Contains(low, "curl") || strings.Contains(low, "spider")
	if in.Bot {
		in.Device = "Bot"
	}
	if ref := r.Referer(); ref != "" {
		if u, err := url.Parse(ref); err == nil && u.Host != "" {
			in.Referer = strings.TrimPrefix(u.Hostname(), "www.")
			in.RefererURL = ref
		}
	}
	return in
}

func (e BasicEnricher) trusts(a netip.Addr) bool {
	for _, p := range e.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
