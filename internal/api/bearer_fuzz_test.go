package api

import (
	"strings"
	"testing"
)

// FuzzBearerToken: whatever the header, a token is returned only for the
// Bearer scheme in some case, never empty, never with surrounding space.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer codeqr_x", "bearer codeqr_x", "BEARER  x ", "Basic abc", "Bearer", "Bearer ", " Bearer x", "Bearerx y", "bEaReR\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := bearerToken(h)
		if !ok {
			if tok != "" {
				t.Fatalf("%q: refused but returned %q", h, tok)
			}
			return
		}
		if tok == "" || tok != strings.TrimSpace(tok) {
			t.Fatalf("%q: token %q", h, tok)
		}
		scheme, _, _ := strings.Cut(strings.TrimSpace(h), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			t.Fatalf("%q: accepted scheme %q", h, scheme)
		}
	})
}
