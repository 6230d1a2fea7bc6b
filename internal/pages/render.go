package pages

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// HoneypotField is the name of the hidden form input a person never fills in:
// a submission that carries a value for it is a bot (checked by the form
// submission handler, not here).
const HoneypotField = "website"

// The hosted page: one self-contained, mobile-first document. No scripts, no
// external style sheets; the only inline style carries a per-response nonce
// named in the CSP, so nothing a page owner writes can add style or script.
// Every value goes through html/template's contextual escaping; colours are
// validated #rrggbb before they are stored and checked again in cssColor.
var pageTmpl = template.Must(template.New("hosted").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>{{if .Description}}
<meta name="description" content="{{.Description}}">{{end}}
<style nonce="{{.Nonce}}">
:root{--bg:{{.Background}};--fg:{{.Text}};--accent:{{.Accent}};--on-accent:{{.OnAccent}}}
*{box-sizing:border-box}
body{margin:0;padding:1.5rem 1rem 3rem;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:36rem;margin:0 auto}
h1{font-size:1.6rem;line-height:1.25;margin:1.2rem 0 .6rem;overflow-wrap:anywhere}
p{margin:.6rem 0;overflow-wrap:anywhere}
img{display:block;max-width:100%;height:auto;margin:1rem auto;border-radius:10px}
a{color:var(--accent)}
.btn,button{display:block;width:100%;margin:.8rem 0;padding:.85rem 1rem;border:0;border-radius:10px;background:var(--accent);color:var(--on-accent);
font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer;overflow-wrap:anywhere}
form{margin-top:1.5rem}
label{display:block;margin:.9rem 0 .3rem;font-weight:600}
label.check{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}
input,textarea{width:100%;padding:.7rem;font:inherit;color:#111;background:#fff;border:1px solid #9ca3af;border-radius:8px}
input[type=checkbox]{width:auto;margin-top:.3rem}
textarea{min-height:7rem;resize:vertical}
.req{color:var(--accent)}
.hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
</style></head><body><main>
{{range .Blocks}}{{if eq .Type "heading"}}<h1>{{.Text}}</h1>
{{else if eq .Type "text"}}<p>{{range $i, $l := .Lines}}{{if $i}}<br>
{{end}}{{$l}}{{end}}</p>
{{else if eq .Type "image"}}<img src="{{.URL}}" alt="{{.Alt}}" loading="lazy" referrerpolicy="no-referrer">
{{else if eq .Type "button"}}<a class="btn" href="{{.URL}}" rel="noopener noreferrer nofollow">{{.Label}}</a>
{{end}}{{end}}{{with .Form}}<form method="post" action="{{.Action}}" accept-charset="utf-8">
{{range .Fields}}{{if eq .Type "checkbox"}}<label class="check" for="f-{{.Name}}"><input type="checkbox" id="f-{{.Name}}" name="{{.Name}}" value="yes"{{if .Required}} required{{end}}> <span>{{.Label}}{{if .Required}} <span class="req" aria-hidden="true">*</span>{{end}}</span></label>
{{else}}<label for="f-{{.Name}}">{{.Label}}{{if .Required}} <span class="req" aria-hidden="true">*</span>{{end}}</label>
{{if eq .Type "textarea"}}<textarea id="f-{{.Name}}" name="{{.Name}}" maxlength="5000"{{if .Required}} required{{end}}></textarea>
{{else}}<input type="{{.Type}}" id="f-{{.Name}}" name="{{.Name}}" maxlength="500"{{if eq .Type "email"}} autocomplete="email"{{else if eq .Type "tel"}} autocomplete="tel"{{end}}{{if .Required}} required{{end}}>
{{end}}{{end}}{{end}}<div class="hp" aria-hidden="true"><label for="f-hp">Leave this empty</label><input type="text" id="f-hp" name="` + HoneypotField + `" tabindex="-1" autocomplete="off"></div>
<button type="submit">{{.SubmitLabel}}</button>
</form>
{{end}}</main></body></html>
`))

// renderBlock is a Block flattened for the template.
type renderBlock struct {
	Type, Text, Alt, Label string
	URL                    string
	Lines                  []string
}

type renderForm struct {
	Action      string
	Fields      []FormField
	SubmitLabel string
}

type renderView struct {
	Title, Description       string
	Nonce                    string
	Background, Text, Accent template.CSS
	OnAccent                 template.CSS
	Blocks                   []renderBlock
	Form                     *renderForm
}

// CSP is the Content-Security-Policy of a hosted page with this style nonce:
// nothing may load but images (page owners link them from anywhere over
// http(s)) and the one nonce'd style element; forms post only back to us; the
// page cannot be framed.
func CSP(nonce string) string {
	return "default-src 'none'; img-src https: http:; style-src 'nonce-" + nonce + "'; form-action 'self'; " +
		"base-uri 'none'; frame-ancestors 'none'"
}

// NewNonce returns a fresh random CSP nonce.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Render writes the HTML of a page (published or not: the caller decides
// whether to show it) with the given style nonce.
func Render(w io.Writer, p Page, nonce string) error {
	v, err := viewOf(p, nonce)
	if err != nil {
		return err
	}
	if err := pageTmpl.Execute(w, v); err != nil {
		return fmt.Errorf("pages: render %s: %w", p.ID, err)
	}
	return nil
}

// WriteHTML answers a request with the rendered page and its security
// headers; a HEAD request gets the headers only. Rendering goes to a buffer
// first so that a failure can still become an error status.
func WriteHTML(w http.ResponseWriter, r *http.Request, p Page) error {
	nonce := NewNonce()
	var body strings.Builder
	if err := Render(&body, p, nonce); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	h.Set("Cache-Control", "no-store") // every view must reach us to be counted
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Content-Security-Policy", CSP(nonce))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body.String())
	}
	return nil
}

func viewOf(p Page, nonce string) (renderView, error) {
	th := p.Theme
	def := DefaultTheme()
	bg, err := cssColor(th.Background, def.Background)
	if err != nil {
		return renderView{}, err
	}
	fg, err := cssColor(th.Text, def.Text)
	if err != nil {
		return renderView{}, err
	}
	ac, err := cssColor(th.Accent, def.Accent)
	if err != nil {
		return renderView{}, err
	}
	v := renderView{Title: p.Title, Nonce: nonce, Background: bg, Text: fg, Accent: ac, OnAccent: onColor(string(ac))}
	if p.Description != nil {
		v.Description = *p.Description
	}
	for _, b := range p.Blocks {
		rb := renderBlock{Type: b.Type, Text: deref(b.Text), URL: deref(b.URL), Alt: deref(b.Alt), Label: deref(b.Label)}
		if b.Type == BlockText {
			rb.Lines = strings.Split(strings.ReplaceAll(rb.Text, "\r\n", "\n"), "\n")
		}
		v.Blocks = append(v.Blocks, rb)
	}
	if p.Form != nil {
		label := p.Form.SubmitLabel
		if label == "" {
			label = DefaultSubmitLabel
		}
		v.Form = &renderForm{Action: "/p/" + p.Slug, Fields: p.Form.Fields, SubmitLabel: label}
	}
	return v, nil
}

// cssColor returns a stored colour as trusted CSS, after checking it again:
// template.CSS bypasses escaping, so only #rrggbb may ever get there.
func cssColor(c, def string) (template.CSS, error) {
	if c == "" {
		c = def
	}
	if !colorRE.MatchString(c) {
		return "", fmt.Errorf("pages: stored colour %q is not #rrggbb", truncate(c))
	}
	return template.CSS(strings.ToLower(c)), nil // #nosec: validated just above
}

// onColor picks near-black or white text for a background colour, whichever
// has the higher WCAG contrast ratio against it.
func onColor(bg string) template.CSS {
	n, err := strconv.ParseUint(strings.TrimPrefix(bg, "#"), 16, 32)
	if err != nil {
		return "#ffffff"
	}
	lum := luminance(n>>16&0xff, n>>8&0xff, n&0xff)
	const white, dark = 1.0, 0.0056 // relative luminance of #ffffff and #111111
	if (white+0.05)/(lum+0.05) >= (lum+0.05)/(dark+0.05) {
		return "#ffffff"
	}
	return "#111111"
}

// luminance is the WCAG 2 relative luminance of an sRGB colour.
func luminance(r, g, b uint64) float64 {
	lin := func(c uint64) float64 {
		v := float64(c) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
