package events

import (
	"net/url"
	"strings"
	"time"
)

// SampleInput personalises the sample data of a test event (POST
// /api/webhooks/{id}/test): the project, the server's short-link base URL, the
// time, and the resources the webhook selected, whose ids the interaction
// samples use so a receiver sees a resource it knows.
type SampleInput struct {
	ProjectID string
	BaseURL   string
	Now       time.Time
	LinkIDs   []string
	QRCodeIDs []string
	PageIDs   []string
}

// Sampler builds the data of a realistic event of one type. Each domain
// package builds its samples from the very types it puts into real events, so
// a test delivery has exactly the shape of a real one.
type Sampler func(SampleInput) any

// Samples maps every event type to its Sampler. The wiring assembles it from
// the domain packages and hands it to the webhooks service.
type Samples map[Type]Sampler

// ShortBase returns the scheme-and-host prefix of short links and their
// domain, from BaseURL (a placeholder domain when BaseURL is unusable).
func (in SampleInput) ShortBase() (prefix, domain string) {
	u, err := url.Parse(strings.TrimSpace(in.BaseURL))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "https://go.example.com", "go.example.com"
	}
	return u.Scheme + "://" + u.Host, u.Host
}

// FirstOr returns list's first id, or fallback when it is empty.
func FirstOr(list []string, fallback string) string {
	if len(list) > 0 {
		return list[0]
	}
	return fallback
}
