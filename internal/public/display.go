package public

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"github.com/codeqr/codeqr/internal/qrcodes"
)

// The public pages are tiny, self-contained, mobile-first HTML: no scripts, no
// external assets, nothing about the project beyond what the page is for.
var tmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;padding:2rem 1rem;background:#f6f7f9;color:#111}
main{max-width:28rem;margin:0 auto;background:#fff;border-radius:12px;padding:1.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 1rem}pre{white-space:pre-wrap;word-break:break-word;font:inherit}
dl{margin:0}dt{font-size:.8rem;color:#666;margin-top:.8rem}dd{margin:0;word-break:break-word}
a.btn,button{display:block;width:100%;box-sizing:border-box;text-align:center;padding:.8rem;margin-top:1rem;border:0;
border-radius:8px;background:#111;color:#fff;text-decoration:none;font-size:1rem}
input{width:100%;box-sizing:border-box;padding:.7rem;font-size:1rem;border:1px solid #ccc;border-radius:8px}
.err{color:#b00020}</style></head><body><main>
<h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Password}}<form method="post">{{if .Wrong}}<p class="err">Wrong password, try again.</p>{{end}}
<label for="pw">This link is password-protected.</label>
<input id="pw" type="password" name="password" autocomplete="current-password" required autofocus>
<button type="submit">Continue</button></form>{{end}}
{{if .Text}}<pre>{{.Text}}</pre>{{end}}
{{if .Fields}}<dl>{{range .Fields}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}
{{range .Actions}}<a class="btn" href="{{.Href}}">{{.Label}}</a>{{end}}
</main></body></html>
`))

type field struct{ Name, Value string }

type action struct {
	Label string
	Href  template.URL // only ever built from our own schemes below
}

type view struct {
	Title, Message, Text string
	Password, Wrong      bool
	Fields               []field
	Actions              []action
}

func render(w http.ResponseWriter, r *http.Request, status int, v view) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = tmpl.Execute(w, v)
}

func page(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	render(w, r, status, view{Title: title, Message: msg})
}

// notFound is the one answer for every unknown, archived or foreign key: it
// says nothing about any project.
func notFound(w http.ResponseWriter, r *http.Request) {
	page(w, r, http.StatusNotFound, "Not found", "There is nothing at this address.")
}

func passwordForm(w http.ResponseWriter, r *http.Request, status int, wrong bool) {
	render(w, r, status, view{Title: "Password required", Password: true, Wrong: wrong})
}

// display shows a dynamic QR code's content (every type but url).
func display(w http.ResponseWriter, r *http.Request, t Target) {
	v := view{Title: t.Title}
	raw := t.Content
	get := func(k string) string {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			return ""
		}
		s, _ := m[k].(string)
		return s
	}
	payload := qrcodes.Payload(qrcodes.QRCode{Type: qrcodes.Type(t.QRType), Static: true, Content: raw})
	add := func(name, value string) {
		if value != "" {
			v.Fields = append(v.Fields, field{name, value})
		}
	}
	switch t.QRType {
	case "text":
		v.Text = get("text")
		defTitle(&v, "Text")
	case "email":
		add("To", get("to"))
		add("Subject", get("subject"))
		add("Message", get("body"))
		v.Actions = append(v.Actions, action{"Write e-mail", template.URL(payload)})
		defTitle(&v, "E-mail")
	case "phone":
		add("Number", get("number"))
		v.Actions = append(v.Actions, action{"Call", template.URL(payload)})
		defTitle(&v, "Phone")
	case "sms":
		add("Number", get("number"))
		add("Message", get("message"))
		href := "sms:" + get("number")
		if m := get("message"); m != "" {
			href += "?body=" + strings.ReplaceAll(templateEscape(m), "+", "%20")
		}
		v.Actions = append(v.Actions, action{"Send SMS", template.URL(href)})
		defTitle(&v, "SMS")
	case "whatsapp":
		add("Number", get("number"))
		add("Message", get("message"))
		v.Actions = append(v.Actions, action{"Open WhatsApp", template.URL(payload)})
		defTitle(&v, "WhatsApp")
	case "wifi":
		add("Network", get("ssid"))
		if get("encryption") != "nopass" {
			add("Password", get("password"))
		}
		add("Security", get("encryption"))
		v.Message = "Join this network from your phone's Wi-Fi settings."
		defTitle(&v, "Wi-Fi")
	case "vcard":
		add("Name", strings.TrimSpace(get("firstName")+" "+get("lastName")))
		add("Organization", get("organization"))
		add("Title", get("title"))
		add("Phone", get("phone"))
		add("E-mail", get("email"))
		add("Website", get("url"))
		add("Address", get("address"))
		add("Note", get("note"))
		v.Actions = append(v.Actions, action{"Save contact", template.URL("/" + t.Key + "?download=vcf")})
		defTitle(&v, "Contact")
	case "geo":
		v.Actions = append(v.Actions, action{"Open in maps", template.URL(payload)})
		v.Text = strings.TrimPrefix(payload, "geo:")
		defTitle(&v, "Location")
	default:
		notFound(w, r)
		return
	}
	render(w, r, http.StatusOK, v)
}

func defTitle(v *view, s string) {
	if v.Title == "" {
		v.Title = s
	}
}

func templateEscape(s string) string { return template.URLQueryEscaper(s) }

// vcardDownload sends the contact as a .vcf file.
func vcardDownload(w http.ResponseWriter, r *http.Request, t Target) {
	body := qrcodes.Payload(qrcodes.QRCode{Type: qrcodes.TypeVCard, Static: true, Content: t.Content})
	h := w.Header()
	h.Set("Content-Type", "text/vcard; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="contact.vcf"`)
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write([]byte(body + "\r\n"))
}
