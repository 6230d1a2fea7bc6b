package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// The API reference at /api/docs is rendered from openapi.json by this file
// alone: one HTML page, its style inline, no script and no external font or
// asset, so it works offline and under any Content-Security-Policy.

type docSchema struct {
	Ref                  string               `json:"$ref"`
	Type                 string               `json:"type"`
	Format               string               `json:"format"`
	Nullable             bool                 `json:"nullable"`
	Description          string               `json:"description"`
	Enum                 []any                `json:"enum"`
	Items                *docSchema           `json:"items"`
	AllOf                []docSchema          `json:"allOf"`
	OneOf                []docSchema          `json:"oneOf"`
	Properties           map[string]docSchema `json:"properties"`
	Required             []string             `json:"required"`
	AdditionalProperties json.RawMessage      `json:"additionalProperties"`
	Minimum              *float64             `json:"minimum"`
	Maximum              *float64             `json:"maximum"`
	Default              any                  `json:"default"`
}

type docParam struct {
	In          string    `json:"in"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Required    bool      `json:"required"`
	Schema      docSchema `json:"schema"`
}

type docMedia struct {
	Schema docSchema `json:"schema"`
}

type docResponse struct {
	Ref         string              `json:"$ref"`
	Description string              `json:"description"`
	Content     map[string]docMedia `json:"content"`
}

type docOperation struct {
	OperationID string     `json:"operationId"`
	Summary     string     `json:"summary"`
	Description string     `json:"description"`
	Tags        []string   `json:"tags"`
	Parameters  []docParam `json:"parameters"`
	RequestBody *struct {
		Content map[string]docMedia `json:"content"`
	} `json:"requestBody"`
	Responses map[string]docResponse `json:"responses"`
}

type docDocument struct {
	Info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths      map[string]map[string]docOperation `json:"paths"`
	Components struct {
		Schemas   map[string]docSchema   `json:"schemas"`
		Responses map[string]docResponse `json:"responses"`
	} `json:"components"`
}

// docsPage is what the template shows.
type docsPage struct {
	Title, Version, Description string
	Groups                      []docGroup
	Schemas                     []docSchemaView
}

type docGroup struct {
	Name, Description string
	Ops               []docOpView
}

type docOpView struct {
	ID, Method, Path, Summary, Description string
	Params                                 []docParamView
	Body                                   template.HTML
	Responses                              []docRespView
}

type docParamView struct {
	Name, In, Type, Description string
	Required                    bool
}

type docRespView struct {
	Status, Description string
	Type                template.HTML
}

type docSchemaView struct {
	Name, Description string
	Type              template.HTML
	Props             []docPropView
}

type docPropView struct {
	Name, Description string
	Type              template.HTML
	Required          bool
}

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

// renderDocs turns the OpenAPI document into the reference page.
func renderDocs(raw []byte) ([]byte, error) {
	var d docDocument
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("api docs: read openapi.json: %w", err)
	}
	page := docsPage{Title: d.Info.Title, Version: d.Info.Version, Description: d.Info.Description}
	groups := map[string]*docGroup{}
	for _, t := range d.Tags {
		page.Groups = append(page.Groups, docGroup{Name: t.Name, Description: t.Description})
	}
	for i := range page.Groups {
		groups[page.Groups[i].Name] = &page.Groups[i]
	}
	paths := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, m := range methodOrder {
			op, ok := d.Paths[p][m]
			if !ok {
				continue
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			g := groups[tag]
			if g == nil {
				page.Groups = append(page.Groups, docGroup{Name: tag})
				g = &page.Groups[len(page.Groups)-1]
				groups = map[string]*docGroup{}
				for i := range page.Groups {
					groups[page.Groups[i].Name] = &page.Groups[i]
				}
			}
			v := docOpView{ID: op.OperationID, Method: strings.ToUpper(m), Path: p, Summary: op.Summary, Description: op.Description}
			for _, prm := range op.Parameters {
				v.Params = append(v.Params, docParamView{Name: prm.Name, In: prm.In, Type: plainType(prm.Schema),
					Description: prm.Description, Required: prm.Required})
			}
			if op.RequestBody != nil {
				for _, ct := range sortedKeys(op.RequestBody.Content) {
					v.Body = typeHTML(op.RequestBody.Content[ct].Schema)
				}
			}
			for _, code := range sortedKeys(op.Responses) {
				r := op.Responses[code]
				if r.Ref != "" {
					r = d.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
				}
				rv := docRespView{Status: code, Description: r.Description}
				for _, ct := range sortedKeys(r.Content) {
					if ct == "application/json" {
						rv.Type = typeHTML(r.Content[ct].Schema)
					} else if rv.Type == "" {
						rv.Type = template.HTML(template.HTMLEscapeString(ct))
					}
				}
				v.Responses = append(v.Responses, rv)
			}
			g.Ops = append(g.Ops, v)
		}
	}
	page.Groups = slices.DeleteFunc(page.Groups, func(g docGroup) bool { return len(g.Ops) == 0 })
	for _, name := range sortedKeys(d.Components.Schemas) {
		s := d.Components.Schemas[name]
		sv := docSchemaView{Name: name, Description: s.Description}
		if len(s.Properties) == 0 {
			sv.Type = typeHTML(s)
		}
		for _, pn := range sortedKeys(s.Properties) {
			ps := s.Properties[pn]
			sv.Props = append(sv.Props, docPropView{Name: pn, Type: typeHTML(ps), Description: ps.Description,
				Required: slices.Contains(s.Required, pn)})
		}
		page.Schemas = append(page.Schemas, sv)
	}
	var b bytes.Buffer
	if err := docsTemplate.Execute(&b, page); err != nil {
		return nil, fmt.Errorf("api docs: render: %w", err)
	}
	return b.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// typeHTML names a schema's type, with links to named schemas.
func typeHTML(s docSchema) template.HTML {
	esc := template.HTMLEscapeString
	var t string
	switch {
	case s.Ref != "":
		n := s.Ref[strings.LastIndex(s.Ref, "/")+1:]
		t = `<a href="#schema-` + esc(n) + `">` + esc(n) + `</a>`
	case len(s.AllOf) == 1:
		t = string(typeHTML(s.AllOf[0]))
	case len(s.AllOf) > 1:
		parts := make([]string, len(s.AllOf))
		for i, x := range s.AllOf {
			parts[i] = string(typeHTML(x))
		}
		t = strings.Join(parts, " &amp; ")
	case len(s.OneOf) > 0:
		parts := make([]string, len(s.OneOf))
		for i, x := range s.OneOf {
			parts[i] = string(typeHTML(x))
		}
		t = strings.Join(parts, " | ")
	case s.Type == "array" && s.Items != nil:
		t = "array of " + string(typeHTML(*s.Items))
	case s.Type == "object" && len(s.Properties) > 0:
		parts := make([]string, 0, len(s.Properties))
		for _, k := range sortedKeys(s.Properties) {
			parts = append(parts, esc(k)+": "+string(typeHTML(s.Properties[k])))
		}
		t = "{" + strings.Join(parts, ", ") + "}"
	default:
		t = esc(plainType(s))
	}
	if len(s.Enum) > 0 {
		vals := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			if e != nil {
				vals = append(vals, fmt.Sprint(e))
			}
		}
		t += " (" + esc(strings.Join(vals, ", ")) + ")"
	}
	if s.Nullable {
		t += " or null"
	}
	return template.HTML(t)
}

func plainType(s docSchema) string {
	t := s.Type
	if t == "" {
		t = "any"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if s.Type == "array" && s.Items != nil {
		t = "array of " + plainType(*s.Items)
	}
	if len(s.Enum) > 0 && s.Ref == "" {
		vals := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			if e != nil {
				vals = append(vals, fmt.Sprint(e))
			}
		}
		t += ": " + strings.Join(vals, ", ")
	}
	return t
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} reference</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fff}
nav{position:fixed;top:0;bottom:0;left:0;width:250px;overflow:auto;padding:16px;background:#f4f6f8;border-right:1px solid #dde1e5;box-sizing:border-box}
nav a{display:block;color:#1b1f24;text-decoration:none;font-size:13px;padding:1px 0}
nav h3{font-size:13px;margin:14px 0 4px;text-transform:uppercase;color:#57606a}
main{margin-left:250px;padding:24px 40px;max-width:1000px}
h1{margin-top:0}h2{border-bottom:1px solid #dde1e5;padding-bottom:4px;margin-top:40px}
section.op{border:1px solid #dde1e5;border-radius:6px;padding:12px 16px;margin:16px 0}
.m{display:inline-block;min-width:58px;font:bold 12px ui-monospace,monospace;padding:2px 6px;border-radius:4px;color:#fff;background:#57606a;text-align:center}
.m.GET{background:#1f6feb}.m.POST{background:#1a7f37}.m.PUT{background:#9a6700}.m.PATCH{background:#8250df}.m.DELETE{background:#cf222e}
code,.path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}th,td{border:1px solid #dde1e5;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f8}.req{color:#cf222e;font-size:11px}a{color:#0969da}
</style></head><body>
<nav><strong>{{.Title}}</strong> <small>v{{.Version}}</small>
{{range .Groups}}<h3>{{.Name}}</h3>{{range .Ops}}<a href="#op-{{.ID}}"><span class="path">{{.Method}}</span> {{.Summary}}</a>{{end}}{{end}}
<h3>Schemas</h3>{{range .Schemas}}<a href="#schema-{{.Name}}">{{.Name}}</a>{{end}}
</nav><main>
<h1>{{.Title}} reference</h1><p>{{.Description}}</p><p>The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
{{range .Groups}}<h2 id="tag-{{.Name}}">{{.Name}}</h2><p>{{.Description}}</p>
{{range .Ops}}<section class="op" id="op-{{.ID}}"><div><span class="m {{.Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span> — <strong>{{.Summary}}</strong></div>
<p>{{.Description}}</p>
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<p>Request body (JSON): {{.Body}}</p>{{end}}
<table><tr><th>status</th><th>meaning</th><th>body</th></tr>
{{range .Responses}}<tr><td><code>{{.Status}}</code></td><td>{{.Description}}</td><td>{{.Type}}</td></tr>{{end}}</table>
</section>{{end}}{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}<section class="op" id="schema-{{.Name}}"><strong>{{.Name}}</strong>{{if .Description}} — {{.Description}}{{end}}
{{if .Type}}<p>{{.Type}}</p>{{end}}
{{if .Props}}<table><tr><th>field</th><th>type</th><th>description</th></tr>
{{range .Props}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">always sent / required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
</section>{{end}}
</main></body></html>
`))

// apiDocs is GET /api/docs: the human-readable reference, public like the
// document it is rendered from.
func (s *Server) apiDocs(w http.ResponseWriter, _ *http.Request) error {
	page, err := renderDocs(openAPIDoc)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page)
	return nil
}
