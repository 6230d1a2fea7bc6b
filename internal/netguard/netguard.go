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
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/idna"
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

// blocked4 lists every IPv4 range of the IANA special-purpose address registry
// that is not globally reachable, plus multicast and the reserved block. A few
// entries of the registry marked "globally reachable" inside 192.0.0.0/24 are
// refused with the rest: no webhook lives there.
var blocked4 = prefixes(
	"0.0.0.0/8",          // "this network", unspecified
	"10.0.0.0/8",         // private use
	"100.64.0.0/10",      // shared address space (CGNAT)
	"127.0.0.0/8",        // loopback
	"169.254.0.0/16",     // link-local, cloud metadata
	"172.16.0.0/12",      // private use
	"192.0.0.0/24",       // IETF protocol assignments
	"192.0.2.0/24",       // documentation (TEST-NET-1)
	"192.88.99.0/24",     // 6to4 relay anycast (deprecated)
	"192.168.0.0/16",     // private use
	"198.18.0.0/15",      // benchmarking
	"198.51.100.0/24",    // documentation (TEST-NET-2)
	"203.0.113.0/24",     // documentation (TEST-NET-3)
	"224.0.0.0/4",        // multicast
	"240.0.0.0/4",        // reserved
	"255.255.255.255/32", // limited broadcast
)

// global6 is the only IPv6 block IANA allocates as global unicast; anything
// outside it (loopback, unspecified, IPv4-compatible and -mapped forms,
// unique-local, link-local, site-local, multicast, discard) is refused without
// having to be listed.
var global6 = netip.MustParsePrefix("2000::/3")

// blocked6 lists the ranges inside 2000::/3 that are not globally reachable or
// that embed an IPv4 address a relay would reach on our behalf.
var blocked6 = prefixes(
	"2001::/23",     // IETF protocol assignments (Teredo, ORCHID, benchmarking …)
	"2001:db8::/32", // documentation
	"2002::/16",     // 6to4: embeds an IPv4 address
	"3fff::/20",     // documentation
)

// blockedOutside6 lists ranges outside 2000::/3 named for the reader; they are
// refused by global6 already.
var blockedOutside6 = prefixes(
	"::/128",            // unspecified
	"::1/128",           // loopback
	"::/96",             // IPv4-compatible (deprecated)
	"::ffff:0:0/96",     // IPv4-mapped (judged by its IPv4 address)
	"64:ff9b::/96",      // NAT64: reaches IPv4 space, private included
	"64:ff9b:1::/48",    // local-use NAT64
	"100::/64",          // discard
	"fc00::/7",          // unique local
	"fe80::/10",         // link-local
	"fec0::/10",         // site-local (deprecated)
	"ff00::/8",          // multicast
	"fd00:ec2::254/128", // AWS metadata over IPv6
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Allowed reports whether an IP address is a public destination. An address
// with a zone (fe80::1%eth0, ::1%lo) is never allowed: a zone only means
// something for a non-global address, and prefix matching ignores zoned
// addresses, so judging one by its ranges would let it through.
func Allowed(addr netip.Addr) bool {
	if !addr.IsValid() || addr.Zone() != "" {
		return false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		for _, p := range blocked4 {
			if p.Contains(addr) {
				return false
			}
		}
		return true
	}
	if !global6.Contains(addr) {
		return false
	}
	for _, p := range blocked6 {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// Host is the canonical form of a URL's host, as the HTTP client will dial it.
type Host struct {
	// Name is the ASCII host name (IDNA-mapped, lower case); empty for an IP.
	Name string
	// Addr is the IP address when the host is an IP literal.
	Addr netip.Addr
}

// ParseHost normalises a URL host the way net/http does before dialing
// (UTS #46 mapping, so fullwidth dots and digits become ASCII) and refuses the
// forms that different programs read differently: zone identifiers, IPv4 in
// octal, hex, or fewer than four parts, and names whose last label is numeric.
func ParseHost(host string) (Host, error) {
	if host == "" {
		return Host{}, fmt.Errorf("%w: the URL has no host", ErrBlocked)
	}
	if strings.ContainsRune(host, '%') {
		return Host{}, fmt.Errorf("%w: zone identifiers are not allowed in a host", ErrBlocked)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return Host{Addr: a.Unmap()}, nil
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return Host{}, fmt.Errorf("%w: %q is not a valid host name", ErrBlocked, host)
	}
	ascii = strings.ToLower(strings.TrimSuffix(ascii, "."))
	if a, err := netip.ParseAddr(ascii); err == nil {
		return Host{Addr: a.Unmap()}, nil
	}
	labels := strings.Split(ascii, ".")
	last := labels[len(labels)-1]
	if last == "" || numericLabel(last) {
		return Host{}, fmt.Errorf("%w: %q is not a canonical IP address or host name", ErrBlocked, host)
	}
	return Host{Name: ascii}, nil
}

// numericLabel reports whether s reads as a number to some IPv4 parser
// (decimal, octal, or 0x hex): no top-level domain looks like that.
func numericLabel(s string) bool {
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		s = h
		if s == "" {
			return true
		}
		for _, c := range s {
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
		return true
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// CheckURL validates a destination URL when it is saved: scheme, port, host
// form, and every address the host resolves to now. The dialer checks again
// at connect time, on the address it actually connects to.
func CheckURL(ctx context.Context, raw string, opts Options) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: %q is not an absolute URL", ErrBlocked, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !opts.AllowHTTP {
			return fmt.Errorf("%w: use https (plain http is disabled on this server; start it with --webhooks-allow-http to allow it)", ErrBlocked)
		}
	default:
		return fmt.Errorf("%w: scheme %q; use https", ErrBlocked, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL are not allowed", ErrBlocked)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port %q is not between 1 and 65535", ErrBlocked, p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("%w: the URL has an empty port", ErrBlocked)
	}
	h, err := ParseHost(u.Hostname())
	if err != nil {
		return err
	}
	if opts.AllowPrivate {
		return nil
	}
	const hint = "a private, loopback or reserved address (start the server with --webhooks-allow-private to allow it)"
	if h.Addr.IsValid() {
		if !Allowed(h.Addr) {
			return fmt.Errorf("%w: %s is %s", ErrBlocked, h.Addr, hint)
		}
		return nil
	}
	if h.Name == "localhost" || strings.HasSuffix(h.Name, ".localhost") {
		return fmt.Errorf("%w: %s is %s", ErrBlocked, h.Name, hint)
	}
	r := opts.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", h.Name)
	if err != nil {
		// Unresolvable now may resolve later; the dialer decides then.
		return nil
	}
	for _, a := range addrs {
		if !Allowed(a) {
			return fmt.Errorf("%w: %s resolves to %s, %s", ErrBlocked, h.Name, a, hint)
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
