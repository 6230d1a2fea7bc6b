package qrcodes

import (
	"encoding/json"
	"testing"
)

func TestOptional(t *testing.T) {
	t.Parallel()
	var in Input
	if err := json.Unmarshal([]byte(`{"title": null, "size": 300}`), &in); err != nil {
		t.Fatal(err)
	}
	if !in.Title.Set || !in.Title.Null || in.Title.Has() {
		t.Fatalf("null title: %+v", in.Title)
	}
	if !in.Size.Has() || in.Size.Value != 300 {
		t.Fatalf("size: %+v", in.Size)
	}
	if in.Comments.Set || in.Level.Set {
		t.Fatal("absent fields marked set")
	}
	out, err := json.Marshal(Some("x"))
	if err != nil || string(out) != `"x"` {
		t.Fatalf("marshal: %s %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"size": "big"}`), &in); err == nil {
		t.Fatal("wrong type accepted")
	}
}
