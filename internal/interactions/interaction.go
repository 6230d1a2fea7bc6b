package interactions

import (
	"net/http"
	"time"
)

// Interaction is the interaction object of webhooks.md §3.4 with its exact
// wire names. It mirrors tracking.Interaction field for field, so that it can
// become an alias of it once the tracking package is in main.
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

// Enricher turns a public request into an Interaction (client IP, geo, device,
// bot, referer, clickId). URL and QR are left to the caller.
type Enricher interface {
	Enrich(r *http.Request, now time.Time) Interaction
}
