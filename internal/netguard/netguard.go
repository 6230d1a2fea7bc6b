// Package netguard keeps the server from being used to reach places it should
// not: every outbound request to a URL a user supplied (webhook deliveries, QR
// code logos) goes through a client whose dialer checks the IP address it is
// about to connect to — after DNS resolution, for every address — so neither a
// hostname that resolves to 127.0.0.1 nor DNS rebinding gets around it.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrBlocked is returned (wrapped) when a destination is refused.
var ErrBlocked = errors.New("destination not allowed")

// Options say what is allowed.
type Options struct {
	// AllowHTTP permits plain http URLs (https is always allowed).
	AllowHTTP bool
	// AllowPrivate permits loopback, private, link-local and similar addresses.
	AllowPrivate bool
	// Resolver resolves host names; nil means net.DefaultResolver. Tests inject one.
	Resolver *net.Resolver
}

var blockedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",         // "this network", unspecified
		"10.0.0.0/8",        // RFC 1918
		"100.64.0.0/10",     // CGNAT
		"127.0.0.0/8",       // loopback
		"169.254.0.0/16",    // link-local, cloud metadata
		"172.16.0.0/12",     // RFC 1918
		"192.0.0.0/24",      // IETF protocol assignments
		"192.168.0.0/16",    // RFC 1918
		"198.18.0.0/15",     // benchmarking
		"224.0.0.0/4",       // multicast
		"240.0.0.0/4",       // reserved, broadcast
		"::/128",            // unspecified
		"::1/128",           // loopback
		"fc00::/7",          // unique local
		"fe80::/10",         // link-local
		"ff00::/8",          // multicast
		"64:ff9b::/96",      // NAT64 can reach IPv4 private space
		"fd00:ec2::254/128", // AWS metadata over IPv6
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Allowed reports whether an IP address is a public destination.
func Allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// CheckURL validates a destination URL when it is saved: scheme, host, and
// every address the host resolves to now. The dialer checks again at connect time.
func CheckURL(ctx context.Context, raw string, opts Options) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: %q is not an absolute URL", ErrBlocked, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !opts.AllowHTTP {
			return fmt.Errorf("%w: use https (plain http is disabled on this server)", ErrBlocked)
		}
	default:
		return fmt.Errorf("%w: scheme %q; use https", ErrBlocked, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL are not allowed", ErrBlocked)
	}
	if opts.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return fmt.Errorf("%w: %s is a loopback address", ErrBlocked, host)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !Allowed(a) {
			return fmt.Errorf("%w: %s is a private, loopback or reserved address", ErrBlocked, host)
		}
		return nil
	}
	r := opts.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		// Unresolvable now may resolve later; the dialer decides then.
		return nil
	}
	for _, a := range addrs {
		if !Allowed(a) {
			return fmt.Errorf("%w: %s resolves to %s, a private, loopback or reserved address", ErrBlocked, host, a)
		}
	}
	return nil
}

// Dialer returns a dialer that refuses blocked addresses at connect time.
func Dialer(opts Options, timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Resolver: opts.Resolver}
	if !opts.AllowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrBlocked, address)
			}
			if !Allowed(ap.Addr()) {
				return fmt.Errorf("%w: %s is a private, loopback or reserved address", ErrBlocked, ap.Addr())
			}
			return nil
		}
	}
	return d
}

// Transport returns an HTTP transport that dials through Dialer. Proxies from
// the environment are ignored: a proxy would connect on our behalf unchecked.
func Transport(opts Options, dialTimeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:           Dialer(opts, dialTimeout).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 0,
		ExpectContinueTimeout: time.Second,
	}
}

// Client returns an HTTP client that goes through Transport, follows no
// redirects (a redirect is returned as the response) and times out after timeout.
func Client(opts Options, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: Transport(opts, timeout),
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
