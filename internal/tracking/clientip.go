package tracking

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds the X-Forwarded-For walk so a client cannot make us
// parse thousands of entries.
const maxForwardedHops = 32

// clientIP resolves the client address of r. X-Forwarded-For is believed only
// when the direct peer is a trusted proxy; then the chain is walked from the
// right, skipping trusted hops, and the first untrusted address is the client.
// Everything left of it was written by the client and is never believed. If
// the walk meets an entry that is not an address it stops at the last hop it
// could verify, so garbage can never lift a spoofed address into place.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	values := r.Header.Values("X-Forwarded-For")
	client := peer
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		chain := values[i]
		for chain != "" {
			if hops++; hops > maxForwardedHops {
				return client
			}
			var entry string
			if j := strings.LastIndexByte(chain, ','); j >= 0 {
				entry, chain = chain[j+1:], chain[:j]
			} else {
				entry, chain = chain, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue // "a, , b" — an empty element says nothing
			}
			addr := parseHostAddr(entry)
			if !addr.IsValid() {
				return client
			}
			client = addr
			if !isTrusted(addr, trusted) {
				return client
			}
		}
	}
	return client
}

// parseHostAddr accepts "ip", "ip:port", "[v6]:port" and "[v6]", drops any
// zone, and unmaps IPv4-in-IPv6 so 8.8.8.8 and ::ffff:8.8.8.8 are one client.
func parseHostAddr(s string) netip.Addr {
	if len(s) > 64 {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalizeAddr(ap.Addr())
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return normalizeAddr(a)
}

func normalizeAddr(a netip.Addr) netip.Addr {
	return a.WithZone("").Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the client address of r when the peers in trusted are proxies
// whose X-Forwarded-For is believed (the same resolution as Enricher.ClientIP,
// for callers without an Enricher).
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	masked := make([]netip.Prefix, 0, len(trusted))
	for _, p := range trusted {
		if p.IsValid() {
			masked = append(masked, p.Masked())
		}
	}
	return clientIP(r, masked)
}
