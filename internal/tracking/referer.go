package tracking

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxRefererURL caps what a client can make us store and send in every
// webhook payload.
const maxRefererURL = 2048

// parseReferer returns (referer host without "www.", full referrer). No header
// is "(direct)" for both; a header that is not a URL with a host keeps its
// (capped) text as refererUrl but has an "Unknown" host.
func parseReferer(raw string) (host, full string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Direct, Direct
	}
	full = truncateUTF8(raw, maxRefererURL)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Unknown, full
	}
	h := strings.ToLower(u.Hostname())
	h = strings.TrimPrefix(h, "www.")
	h = strings.TrimSuffix(h, ".")
	if h == "" || !utf8.ValidString(h) {
		return Unknown, full
	}
	return h, full
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
