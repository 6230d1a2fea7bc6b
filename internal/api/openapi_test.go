package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/domains"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/tracking"
	"github.com/codeqr/codeqr/internal/webhooks"
)

type openAPIOp struct {
	OperationID string            `json:"operationId"`
	Security    *[]map[string]any `json:"security"`
}

type openAPIDoc struct {
	OpenAPI    string                          `json:"openapi"`
	Info       map[string]any                  `json:"info"`
	Paths      map[string]map[string]openAPIOp `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

// fetchOpenAPI gets the document the way a client does: through the real
// handler, without a key.
func fetchOpenAPI(t *testing.T) (openAPIDoc, []byte) {
	t.Helper()
	srv := httptest.NewServer(api.New(api.Deps{}).Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
		t.Errorf("Cache-Control = %q, want cacheable", cc)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc, body
}

// registeredRoutes reads api.go and returns every "METHOD /api/..." pattern
// given to route, public or mux.Handle(Func), mapped to whether it is public.
// Parsing the source keeps Handler() as it is: one readable list of routes.
func registeredRoutes(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "api.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		var name string
		switch fn := call.Fun.(type) {
		case *ast.Ident:
			name = fn.Name
		case *ast.SelectorExpr:
			name = fn.Sel.Name
		}
		if name != "route" && name != "public" && name != "Handle" && name != "HandleFunc" {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		pattern, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || !strings.HasPrefix(path, "/api/") {
			return true // the /api/ catch-all and non-API routes
		}
		out[strings.ToLower(method)+" "+path] = name != "route"
		return true
	})
	if len(out) < 50 {
		t.Fatalf("found only %d /api routes in api.go; has Handler() changed shape?", len(out))
	}
	return out
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc, body := fetchOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info["title"] == nil || doc.Info["version"] == nil || len(doc.Paths) == 0 {
		t.Fatalf("document lacks openapi/info/paths: openapi=%q info=%v paths=%d", doc.OpenAPI, doc.Info, len(doc.Paths))
	}
	routes := registeredRoutes(t)
	described := map[string]openAPIOp{}
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for method, op := range item {
			key := method + " " + path
			described[key] = op
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			}
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q used by %s and %s", op.OperationID, prev, key)
			}
			ids[op.OperationID] = key
		}
	}
	for _, key := range slices.Sorted(maps.Keys(routes)) {
		op, ok := described[key]
		if !ok {
			t.Errorf("route %s is not described in openapi.json", key)
			continue
		}
		// Public routes say so with an empty security list; the others
		// inherit the document's bearer requirement.
		if public := routes[key]; public != (op.Security != nil && len(*op.Security) == 0) {
			t.Errorf("%s: public=%v but the document's security is %v", key, public, op.Security)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(described)) {
		if _, ok := routes[key]; !ok {
			t.Errorf("openapi.json describes %s, which Handler() does not route", key)
		}
	}

	// Every $ref points at a schema that exists.
	var raw any
	_ = json.Unmarshal(body, &raw)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				_, okSchema := doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
				_, okResponse := doc.Components.Responses[strings.TrimPrefix(ref, "#/components/responses/")]
				if !okSchema && !okResponse {
					t.Errorf("dangling $ref %s", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
}

// TestOpenAPISchemasMatchWire compares each described object's properties with
// the keys the Go type really marshals to.
func TestOpenAPISchemasMatchWire(t *testing.T) {
	t.Parallel()
	doc, _ := fetchOpenAPI(t)
	for name, v := range map[string]any{
		"Link":              links.Link{},
		"QRCode":            qrcodes.QRCode{},
		"Page":              pages.Page{},
		"Webhook":           webhooks.Webhook{},
		"WebhookWithSecret": webhooks.WithSecret{},
		"DeliveryAttempt":   webhooks.Attempt{},
		"RecoveryJob":       webhooks.RecoveryJob{},
		"Tag":               tags.Tag{},
		"Domain":            domains.Domain{},
		"Customer":          conversions.Customer{},
		"CustomerDetail":    conversions.CustomerDetail{},
		"CustomerActivity":  conversions.Activity{},
		"Lead":              conversions.Lead{},
		"Sale":              conversions.Sale{},
		"AnalyticsEvent":    api.DubEvent{},
		"PartnerDetail":     partners.Detail{},
		"Interaction":       tracking.Interaction{},
		"ApiKey":            projects.KeyInfo{},
		"ApiKeyCreated":     projects.CreatedKey{},
		"AnalyticsCounts":   analytics.Counts{},
		"ConversionEvent":   api.DubConversionEvent{ConversionEvent: analytics.ConversionEvent{Sale: &analytics.SaleDetail{}}},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		assertSameKeys(t, name, doc.Components.Schemas[name].Properties, m)
	}

	// Error: the body the server really writes for an unknown API route.
	srv := httptest.NewServer(api.New(api.Deps{}).Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/no-such-route")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	errSchema := doc.Components.Schemas["Error"].Properties
	assertSameKeys(t, "Error", errSchema, map[string]json.RawMessage{"error": nil})
	var inner struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(errSchema["error"], &inner); err != nil {
		t.Fatal(err)
	}
	assertSameKeys(t, "Error.error", inner.Properties, body["error"])
}

func assertSameKeys[A, B any](t *testing.T, name string, schema map[string]A, wire map[string]B) {
	t.Helper()
	if len(schema) == 0 {
		t.Errorf("schema %s is missing or has no properties", name)
		return
	}
	for k := range wire {
		if _, ok := schema[k]; !ok {
			t.Errorf("schema %s lacks wire field %q", name, k)
		}
	}
	for k := range schema {
		if _, ok := wire[k]; !ok {
			t.Errorf("schema %s describes %q, which the Go type does not send", name, k)
		}
	}
}

// The document's enums are the Go code's own lists.
func TestOpenAPIEnumsMatchCode(t *testing.T) {
	t.Parallel()
	_, raw := fetchOpenAPI(t)
	var d struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum  []any `json:"enum"`
					Items struct {
						Enum []any `json:"enum"`
					} `json:"items"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	strs := func(vs []any) []string {
		var out []string
		for _, v := range vs {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out
	}
	sortedCopy := func(in []string) []string { c := slices.Clone(in); slices.Sort(c); return c }
	var types []string
	for _, ty := range events.AllTypes() {
		types = append(types, string(ty))
	}
	for _, c := range []struct {
		what string
		got  []any
		want []string
	}{
		{"Tag.color", d.Components.Schemas["Tag"].Properties["color"].Enum, tags.Colors},
		{"Webhook.triggers", d.Components.Schemas["Webhook"].Properties["triggers"].Items.Enum, types},
		{"WebhookCreateRequest.triggers", d.Components.Schemas["WebhookCreateRequest"].Properties["triggers"].Items.Enum, types},
	} {
		if g, w := strs(c.got), sortedCopy(c.want); !slices.Equal(g, w) {
			t.Errorf("%s enum %v, want %v", c.what, g, w)
		}
	}
}
