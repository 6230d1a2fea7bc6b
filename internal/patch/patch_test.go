package patch_test

import (
	"encoding/json"
	"testing"

	"github.com/codeqr/codeqr/internal/patch"
)

func TestAbsentNullValue(t *testing.T) {
	t.Parallel()
	var req struct {
		A patch.Field[string]            `json:"a"`
		B patch.Field[string]            `json:"b"`
		C patch.Field[map[string]string] `json:"c"`
		D patch.Field[struct{ X int }]   `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"b":null,"c":{"k":"v"}}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.A.Set || !req.B.Set || !req.B.Null || req.B.Has() || !req.C.Has() || req.C.Value["k"] != "v" || req.D.Set {
		t.Fatalf("%+v", req)
	}
	// Unknown fields inside a value are refused, like everywhere else.
	if err := json.Unmarshal([]byte(`{"d":{"X":1,"Y":2}}`), &req); err == nil {
		t.Fatal("unknown nested field accepted")
	}
	if b, _ := json.Marshal(patch.Some(3)); string(b) != "3" {
		t.Fatalf("marshal some: %s", b)
	}
	if b, _ := json.Marshal(patch.Null[int]()); string(b) != "null" {
		t.Fatalf("marshal null: %s", b)
	}
}
