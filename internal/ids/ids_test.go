package ids

import (
	"regexp"
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	t.Parallel()
	evt := regexp.MustCompile(`^evt_[0-9A-Za-z]{25}$`)
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		e := EventID()
		if !evt.MatchString(e) {
			t.Fatalf("bad event id %q", e)
		}
		if seen[e] {
			t.Fatalf("duplicate event id %q", e)
		}
		seen[e] = true
		if c := ClickID(); len(c) != 16 || !IsBase62(c) {
			t.Fatalf("bad click id %q", c)
		}
		if k := ShortKey(); len(k) != 7 || !IsBase62(k) {
			t.Fatalf("bad key %q", k)
		}
	}
	if id := New("link"); !strings.HasPrefix(id, "link_") || len(id) != 5+26 {
		t.Fatalf("bad resource id %q", id)
	}
}

func TestNewSorts(t *testing.T) {
	t.Parallel()
	a, b := New("x"), New("x")
	if a >= b {
		t.Fatalf("ids not increasing: %s %s", a, b)
	}
}
