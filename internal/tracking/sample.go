package tracking

import (
	"time"

	"github.com/codeqr/codeqr/internal/ids"
)

// SampleInteraction returns a realistic enriched interaction at now (a scan
// when qr) that went to dest, for test events.
func SampleInteraction(now time.Time, qr bool, dest string) Interaction {
	p := func(v float64) *float64 { return &v }
	return Interaction{
		Timestamp: now, ClickID: ids.ClickID(), URL: dest, IP: "8.8.8.8",
		Continent: "NA", Country: "US", Region: "CA", City: "Mountain View",
		Latitude: p(37.386), Longitude: p(-122.0838),
		Device: "Mobile", DeviceVendor: "Apple", DeviceModel: "iPhone",
		Browser: "Mobile Safari", BrowserVersion: "17.5", Engine: "WebKit", EngineVersion: "605.1.15",
		OS: "iOS", OSVersion: "17.5", CPUArchitecture: "Unknown",
		UA:  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		Bot: false, QR: qr, Referer: "twitter.com", RefererURL: "https://www.twitter.com/someone/status/1",
	}
}
