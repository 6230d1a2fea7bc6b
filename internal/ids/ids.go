// Package ids makes the identifiers the product exposes: prefixed, sortable
// resource ids, event ids, click ids and short-link keys.
//
// Resource ids are ULIDs behind a type prefix ("link_01J…") so that they sort by
// creation time, which keeps cursor paging and "newest first" listings cheap.
// Everything else is uniformly random base62 drawn from crypto/rand.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"strings"

	"github.com/oklog/ulid/v2"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// New returns prefix + "_" + a new ULID, e.g. New("link") = "link_01JDQ3V6ZB…".
func New(prefix string) string {
	return prefix + "_" + ulid.Make().String()
}

// Random returns n characters of [0-9A-Za-z] from crypto/rand, without modulo bias.
func Random(n int) string {
	var b strings.Builder
	b.Grow(n)
	var buf [8]byte
	for b.Len() < n {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("ids: crypto/rand failed: " + err.Error())
		}
		v := binary.LittleEndian.Uint64(buf[:])
		// 62^10 < 2^64; take up to 10 digits per draw, rejecting the biased top range.
		const limit = 839299365868340224 // 62^10
		if v >= limit*(^uint64(0)/limit) {
			continue
		}
		v %= limit
		for i := 0; i < 10 && b.Len() < n; i++ {
			b.WriteByte(base62[v%62])
			v /= 62
		}
	}
	return b.String()
}

// EventID is "evt_" followed by 25 base62 characters, as the webhook contract says.
func EventID() string { return "evt_" + Random(25) }

// ClickID is the 16-character id of an interaction that conversions refer to.
func ClickID() string { return Random(16) }

// ShortKey is a random key for a short link when the user gives none.
func ShortKey() string { return Random(7) }

// IsBase62 reports whether s consists only of [0-9A-Za-z].
func IsBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
