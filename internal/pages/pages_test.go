package pages

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestOptionalTellsAbsentNullAndValue(t *testing.T) {
	t.Parallel()
	var req UpdateRequest
	if err := json.Unmarshal([]byte(`{"title": "x", "description": null, "form": {"fields": [{"name": "a"}]}}`), &req); err != nil {
		t.Fatal(err)
	}
	if !req.Title.Set || req.Title.Null || req.Title.Value != "x" {
		t.Fatalf("title %+v", req.Title)
	}
	if !req.Description.Set || !req.Description.Null {
		t.Fatalf("description %+v", req.Description)
	}
	if req.Slug.Set || req.Blocks.Set || req.Theme.Set || req.Published.Set {
		t.Fatalf("absent fields marked present: %+v", req)
	}
	if !req.Form.Set || req.Form.Value == nil || req.Form.Value.Fields[0].Name != "a" {
		t.Fatalf("form %+v", req.Form)
	}
	// Unknown fields inside an Optional value are refused too.
	if err := json.Unmarshal([]byte(`{"form": {"fields": [], "bogus": 1}}`), &req); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("unknown nested field: %v", err)
	}
	b, err := json.Marshal(struct {
		A, B, C Optional[int]
	}{Some(3), Null[int](), Optional[int]{}})
	if err != nil || string(b) != `{"A":3,"B":null,"C":null}` {
		t.Fatalf("marshal %s %v", b, err)
	}
}

func TestBlockJSON(t *testing.T) {
	t.Parallel()
	var blocks []Block
	in := `[{"type":"heading","text":"H"},{"type":"text","text":"a\nb"},{"type":"image","url":"https://e.com/i.png","alt":"i"},{"type":"button","label":"Go","url":"https://e.com"}]`
	if err := json.Unmarshal([]byte(in), &blocks); err != nil {
		t.Fatal(err)
	}
	if err := validateBlocks(blocks); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(blocks)
	if err != nil || string(out) != in {
		t.Fatalf("round trip %s %v", out, err)
	}
	if err := json.Unmarshal([]byte(`[{"type":"text","text":"x","html":"<b>"}]`), &blocks); err == nil {
		t.Fatal("unknown block field accepted")
	}
	if _, err := json.Marshal(Block{Type: "video"}); err == nil {
		t.Fatal("unknown block type marshalled")
	}
}

func TestDeriveSlug(t *testing.T) {
	t.Parallel()
	for title, prefix := range map[string]string{
		"Hello World":              "hello-world-",
		"  --Summer Sale 2026!-- ": "summer-sale-2026-",
		"日本語":                      "page-",
		"":                         "page-",
		strings.Repeat("ab ", 40):  "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-a-", // cut at 40
	} {
		s := DeriveSlug(title)
		if !strings.HasPrefix(s, prefix) || !regexp.MustCompile(`-[a-z0-9]{6}$`).MatchString(s) || !ValidSlug(s) {
			t.Errorf("DeriveSlug(%q) = %q, want prefix %q", title, s, prefix)
		}
	}
}
