package domains

import "testing"

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a.co", "go.example.com", "x-1.y-2.example", "1.2.3.4", "a.com:80", "127.0.0.1:8080"} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "com", ".a.com", "a.com.", "a..com", "-a.com", "a-.com", "A.com", "a_b.com", "a.com:0", "a.com:", "a.com:99999", "a.com:8x", "*.a.com"} {
		if Validate(bad) == nil {
			t.Errorf("Validate(%q) accepted", bad)
		}
	}
	if got := Normalize(" Go.Example.COM. "); got != "go.example.com" {
		t.Errorf("Normalize = %q", got)
	}
	if !isBase("go.example.com", "go.example.com:8080") || isBase("example.com", "go.example.com") || isBase("a.com", "") || !isBase("127.0.0.1:8080", "127.0.0.1:8080") {
		t.Error("isBase")
	}
}
