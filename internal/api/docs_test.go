package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/api"
)

// GET /api/docs renders every operation and schema of openapi.json into one
// self-contained page: no script, no external stylesheet, font or image.
func TestAPIDocsPage(t *testing.T) {
	t.Parallel()
	doc, raw := fetchOpenAPI(t)
	srv := httptest.NewServer(api.New(api.Deps{}).Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/docs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /api/docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, bad := range []string{"<script", "<link", "@import", "@font-face", "src=", "url("} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page contains %q: it must load nothing", bad)
		}
	}
	if ext := regexp.MustCompile(`href="https?://`).FindString(page); ext != "" {
		t.Errorf("the page links out (%s)", ext)
	}
	for path, item := range doc.Paths {
		for _, op := range item {
			if !strings.Contains(page, `id="op-`+op.OperationID+`"`) {
				t.Errorf("operation %s (%s) is not on the page", op.OperationID, path)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("schema %s is not on the page", name)
		}
	}
	// Every parameter's description is there, so nothing of the document is lost.
	var full struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name        string `json:"name"`
				Description string `json:"description"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &full); err != nil {
		t.Fatal(err)
	}
	for _, item := range full.Paths {
		for _, op := range item {
			for _, p := range op.Parameters {
				if p.Description != "" && !strings.Contains(page, htmlEscape(p.Description)) {
					t.Errorf("parameter %s: description %q missing", p.Name, p.Description)
				}
			}
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
