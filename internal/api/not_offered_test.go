package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/api"
)

// Each route of Dub's API that codeqr does not offer answers 501 in the
// documented error format, naming the feature.
func TestNotOfferedRoutes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(api.New(api.Deps{}).Handler())
	t.Cleanup(srv.Close)
	if len(api.NotOffered) < 20 {
		t.Fatalf("only %d not-offered routes", len(api.NotOffered))
	}
	for _, n := range api.NotOffered {
		method, path, _ := strings.Cut(n.Pattern, " ")
		path = strings.NewReplacer("{id}", "x1", "{bountyId}", "b1", "{submissionId}", "s1", "{idOrCode}", "c1").Replace(path)
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotImplemented || body.Error.Code != "not_implemented" ||
			!strings.Contains(body.Error.Message, n.Feature) || !strings.Contains(body.Error.Message, "not offered by codeqr") {
			t.Errorf("%s: %d %+v", n.Pattern, resp.StatusCode, body.Error)
		}
	}
}
