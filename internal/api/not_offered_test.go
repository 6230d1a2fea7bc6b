package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testserver"
)

// Each route of Dub's API that codeqr does not offer answers 501 in the
// documented error format, naming the feature, to a caller with a key that
// holds the route's scope; without a key it is 401 like every API route.
func TestNotOfferedRoutes(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, storetest.New(t, "sqlite"))
	if len(api.NotOffered) < 20 {
		t.Fatalf("only %d not-offered routes", len(api.NotOffered))
	}
	for _, n := range api.NotOffered {
		method, path, _ := strings.Cut(n.Pattern, " ")
		path = strings.NewReplacer("{id}", "x1", "{bountyId}", "b1", "{submissionId}", "s1", "{idOrCode}", "c1").Replace(path)
		anon, _ := http.NewRequest(method, srv.URL+path, nil)
		if resp, err := http.DefaultClient.Do(anon); err != nil {
			t.Fatal(err)
		} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a key: %d", n.Pattern, resp.StatusCode)
		}
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+srv.Key)
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
