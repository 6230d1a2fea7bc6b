// Package tracking enriches one public request (a redirect, a QR scan, a page
// view) into the interaction object of link.clicked, qrcode.scanned and
// page.viewed events (docs/webhooks.md).
//
// It is pure library code on the redirect hot path: no database, no HTTP
// routes, no network. Country and continent come from a table embedded in the
// binary so they work with no setup; region, city and coordinates come from an
// optional MaxMind-format city database. User-Agent parsing is cached in a
// bounded LRU because the same few thousand agents make up almost all traffic.
package tracking

import "time"

// Unknown is the value of every string field the request does not tell us.
// The contract forbids empty strings and invented values.
const Unknown = "Unknown"

// Direct is the referer and refererUrl of a request without a Referer header.
const Direct = "(direct)"

// Interaction is one click, scan or page view, with the exact wire names of
// the interaction object in docs/webhooks.md. URL and QR are left for the
// caller, which knows the destination and whether the request was a scan.
type Interaction struct {
	Timestamp       time.Time `json:"timestamp"`
	ClickID         string    `json:"clickId"`
	URL             string    `json:"url"`
	IP              string    `json:"ip"`
	Continent       string    `json:"continent"`
	Country         string    `json:"country"`
	Region          string    `json:"region"`
	City            string    `json:"city"`
	Latitude        *float64  `json:"latitude"`
	Longitude       *float64  `json:"longitude"`
	Device          string    `json:"device"`
	DeviceVendor    string    `json:"deviceVendor"`
	DeviceModel     string    `json:"deviceModel"`
	Browser         string    `json:"browser"`
	BrowserVersion  string    `json:"browserVersion"`
	Engine          string    `json:"engine"`
	EngineVersion   string    `json:"engineVersion"`
	OS              string    `json:"os"`
	OSVersion       string    `json:"osVersion"`
	CPUArchitecture string    `json:"cpuArchitecture"`
	UA              string    `json:"ua"`
	Bot             bool      `json:"bot"`
	QR              bool      `json:"qr"`
	Referer         string    `json:"referer"`
	RefererURL      string    `json:"refererUrl"`
}

// orUnknown keeps the "never empty" rule in one place.
func orUnknown(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}
