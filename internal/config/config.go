// Package config holds the operator settings of a codeqr process.
//
// A Config is built once by the CLI from flags and CODEQR_* environment variables,
// completed with defaults by WithDefaults, checked by Validate, and passed down by
// value. There is no package-level configuration.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything an operator can set. The zero value of a field means
// "the default", which is written next to it.
type Config struct {
	// Addr is the listen address. Default ":8080".
	Addr string
	// DataDir holds the embedded SQLite database. Default "./codeqr-data".
	DataDir string
	// DatabaseURL selects PostgreSQL ("postgres://…"). Empty means SQLite in DataDir.
	DatabaseURL string
	// BaseURL is the default short domain, e.g. "https://go.example.com".
	// Default "http://localhost:8080" (derived from Addr).
	BaseURL string
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed. Default none.
	TrustedProxies []netip.Prefix
	// GeoIPDB is an optional MaxMind-format city database.
	GeoIPDB string
	// WebhooksAllowHTTP permits plain-http webhook destinations. Default false.
	WebhooksAllowHTTP bool
	// WebhooksAllowPrivate permits destinations on loopback/private/link-local
	// addresses. Default false.
	WebhooksAllowPrivate bool
	// RetrySchedule is the delay before each retry. Default 5s,5m,30m,2h,5h,10h,10h.
	RetrySchedule []time.Duration
	// DeliveryTimeout bounds one delivery attempt. Default 15s.
	DeliveryTimeout time.Duration
	// WebhooksDisableAfter disables a webhook whose deliveries have all failed
	// for this long. Default 120h.
	WebhooksDisableAfter time.Duration
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string
	// DeliveryWorkers is how many deliveries may be in flight at once on this node.
	// Default 256.
	DeliveryWorkers int
	// WebhookConcurrency is how many deliveries to one webhook may be in flight
	// at once on this node, so a slow receiver cannot take every worker. Default 10.
	WebhookConcurrency int
	// FlushInterval is how often buffered interactions are written (at most
	// this much is lost on a hard crash). Default 100ms.
	FlushInterval time.Duration
	// DedupeWindow: a repeat by the same visitor on the same resource within it
	// is not counted again. Zero disables dedupe; the CLI default is 1h.
	DedupeWindow time.Duration
	// DeliveryLogRetention is how long delivery attempts, finished deliveries
	// and their events are kept before the pruner deletes them. Default 720h.
	DeliveryLogRetention time.Duration
	// InteractionsRetention is how long raw interaction rows (clicks, scans,
	// views) are kept; analytics rollups are kept regardless. Zero keeps them
	// forever.
	InteractionsRetention time.Duration
	// SMTPAddr (host:port) enables e-mail to a project's owner when a webhook
	// is disabled automatically. Empty means log only.
	SMTPAddr string
	// SMTPFrom is the sender address of those e-mails.
	SMTPFrom string
	// SMTPUsername and SMTPPassword are optional PLAIN authentication.
	SMTPUsername string
	SMTPPassword string
	// Rate limits, in requests per minute; zero means no limit (the CLI
	// defaults are generous limits, see README). They are per node.
	// APIRateLimit is per API key on /api.
	APIRateLimit int
	// PasswordRateLimit is per client address and link on password attempts.
	PasswordRateLimit int
	// FormRateLimit is per client address on hosted page form posts.
	FormRateLimit int
	// QRRateLimit is per client address on the public QR renderer (/api/qr).
	QRRateLimit int
	// AccessLog writes one line per request (method, path with secrets
	// redacted, status, duration). Default off.
	AccessLog bool
	// DashboardHost, when set, serves the dashboard at /app/ on this host name
	// only (and / there leads to it). Empty: /app/ on every host.
	DashboardHost string
}

// DefaultRetrySchedule is the contract's schedule: 8 attempts over about a day.
var DefaultRetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// WithDefaults returns a copy of c with every unset field given its default.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./codeqr-data"
	}
	if c.BaseURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.BaseURL = "http://" + host
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if len(c.RetrySchedule) == 0 {
		c.RetrySchedule = append([]time.Duration(nil), DefaultRetrySchedule...)
	}
	if c.DeliveryTimeout == 0 {
		c.DeliveryTimeout = 15 * time.Second
	}
	if c.WebhooksDisableAfter == 0 {
		c.WebhooksDisableAfter = 120 * time.Hour
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.DeliveryWorkers == 0 {
		c.DeliveryWorkers = 256
	}
	if c.WebhookConcurrency == 0 {
		c.WebhookConcurrency = 10
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 100 * time.Millisecond
	}
	if c.DeliveryLogRetention == 0 {
		c.DeliveryLogRetention = 720 * time.Hour
	}
	return c
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base-url %q: must be an absolute http(s) URL", c.BaseURL))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, fmt.Errorf("database-url: must start with postgres:// (leave it empty for the embedded SQLite)"))
	}
	for i, d := range c.RetrySchedule {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("retry-schedule: delay %d (%s) must be positive", i+1, d))
		}
	}
	if c.DeliveryTimeout < 0 {
		errs = append(errs, errors.New("delivery-timeout: must be positive"))
	}
	if c.WebhooksDisableAfter < 0 {
		errs = append(errs, errors.New("webhooks-disable-after: must be positive"))
	}
	if c.FlushInterval < 0 || c.DedupeWindow < 0 {
		errs = append(errs, errors.New("flush-interval and dedupe-window must not be negative"))
	}
	if c.InteractionsRetention < 0 {
		errs = append(errs, errors.New("interactions-retention: must not be negative"))
	}
	if c.DeliveryLogRetention < 0 {
		errs = append(errs, errors.New("delivery-log-retention: must be positive"))
	}
	if c.APIRateLimit < 0 || c.PasswordRateLimit < 0 || c.FormRateLimit < 0 || c.QRRateLimit < 0 {
		errs = append(errs, errors.New("api-rate-limit, password-rate-limit, form-rate-limit and qr-rate-limit must not be negative (0: no limit)"))
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("smtp-addr %q: want host:port", c.SMTPAddr))
		}
		if c.SMTPFrom == "" {
			errs = append(errs, errors.New("smtp-from: required with smtp-addr"))
		}
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.DeliveryWorkers < 1 || c.WebhookConcurrency < 1 {
		errs = append(errs, errors.New("delivery-workers and webhook-concurrency must be at least 1"))
	}
	return errors.Join(errs...)
}

// BaseDomain is the host of BaseURL: the default domain of short links.
func (c Config) BaseDomain() string {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// BaseScheme is the scheme of BaseURL, used to build short links.
func (c Config) BaseScheme() string {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Scheme == "" {
		return "https"
	}
	return u.Scheme
}

// SQLitePath is the database file used when DatabaseURL is empty.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "codeqr.db") }

// ParseLogLevel maps a level name to slog.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// ParseDurations parses a comma-separated list of Go durations ("1s,2s,5s").
func ParseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// ParsePrefixes parses a comma-separated list of CIDRs or single addresses.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", part, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
