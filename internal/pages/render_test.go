package pages

import (
	"strings"
	"testing"
)

// A colour reaches the style element unescaped (template.CSS), so a stored
// value that is not #rrggbb must stop the render rather than inject CSS.
func TestRenderRefusesBadStoredColour(t *testing.T) {
	t.Parallel()
	p := Page{ID: "page_x", Slug: "x", Title: "x", Theme: Theme{Background: "red;}</style><script>", Text: "#000000", Accent: "#000000"}}
	var b strings.Builder
	if err := Render(&b, p, "n"); err == nil || b.Len() != 0 {
		t.Fatalf("err %v, wrote %q", err, b.String())
	}
}

func TestOnColorContrast(t *testing.T) {
	t.Parallel()
	for bg, want := range map[string]string{"#000000": "#ffffff", "#ffffff": "#111111", "#2563eb": "#ffffff", "#ff6600": "#111111", "#ffeb3b": "#111111", "#1e3a8a": "#ffffff"} {
		if got := string(onColor(bg)); got != want {
			t.Errorf("onColor(%s) = %s, want %s", bg, got, want)
		}
	}
}

// Empty theme colours (a page stored before a default existed) fall back to
// the defaults; text lines keep their breaks, including CRLF.
func TestViewDefaults(t *testing.T) {
	t.Parallel()
	text := "a\r\nb\nc"
	v, err := viewOf(Page{Slug: "s", Blocks: []Block{{Type: BlockText, Text: &text}}, Form: &Form{Fields: []FormField{{Name: "n", Label: "N", Type: "text"}}}}, "n")
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Background) != defaultTheme.Background || string(v.Accent) != defaultTheme.Accent {
		t.Errorf("theme %+v", v)
	}
	if got := strings.Join(v.Blocks[0].Lines, "|"); got != "a|b|c" {
		t.Errorf("lines %q", got)
	}
	if v.Form.SubmitLabel != DefaultSubmitLabel || v.Form.Action != "/p/s" {
		t.Errorf("form %+v", v.Form)
	}
}
