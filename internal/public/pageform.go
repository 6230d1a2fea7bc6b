package public

// pageForm takes the public submissions of hosted page forms:
// POST /p/{slug}, application/x-www-form-urlencoded, at most 64 KiB.
//
// CSRF: a submission is accepted only from a browser page of this server. The
// Origin header (or, when it is absent or "null", the Referer) must name the
// host the request was sent to or the host of --base-url; anything else, and a
// request carrying neither header, is refused with 403. Browsers always send
// Origin on a cross-site POST and cannot forge it, so no token is needed and
// the page renderer embeds nothing for it.
//
// Bots: the rendered form carries a hidden honeypot input (pages.HoneypotField,
// "website") that people never fill; a submission with it filled is answered
// exactly like a success but records nothing. (A form field of that name would
// clash with it: pages should refuse the name.)
//
// A valid submission records a page view through the interactions pipeline
// (the interaction of the lead), creates or fills the customer (externalId =
// the e-mail when the form has one, else a generated id), and writes the lead,
// the lead counters and lead.created (with page) in one transaction. The
// visitor gets the form's thank-you page, or a 303 to its redirectUrl.

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/store"
)

// MaxFormBody bounds a form submission.
const MaxFormBody = 64 << 10

// Form field value limits, by field type.
const (
	MaxFormValue    = 500
	MaxFormTextarea = 5000
)

type pageForm struct {
	*Server
	baseHost string
}

func newPageForm(s *Server) *pageForm {
	return &pageForm{Server: s, baseHost: strings.ToLower(s.cfg.BaseDomain())}
}

func (h *pageForm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !h.sameOrigin(r) {
		h.fail(w, r, http.StatusForbidden, "forbidden", "This form can only be sent from its page.", nil)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		h.fail(w, r, http.StatusUnsupportedMediaType, "bad_request", "Send the form as application/x-www-form-urlencoded.", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, r, http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("The form is larger than %d bytes.", MaxFormBody), nil)
			return
		}
		h.fail(w, r, http.StatusBadRequest, "bad_request", "The form could not be read.", nil)
		return
	}
	if !pages.ValidSlug(slug) {
		h.fail(w, r, http.StatusNotFound, "not_found", "There is nothing at this address.", nil)
		return
	}
	p, err := h.pages.GetBySlug(r.Context(), slug)
	if errs.KindOf(err) == errs.KindNotFound || (err == nil && (!p.Published || p.Form == nil)) {
		h.fail(w, r, http.StatusNotFound, "not_found", "There is nothing at this address.", nil)
		return
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "public: load form page", "err", err)
		h.fail(w, r, http.StatusServiceUnavailable, "internal_server_error", "Please try again in a moment.", nil)
		return
	}
	if r.PostForm.Get(pages.HoneypotField) != "" {
		h.log.InfoContext(r.Context(), "public: honeypot filled; submission dropped", "page", p.ID)
		h.done(w, r, p)
		return
	}
	values, problems := validateForm(*p.Form, r.PostForm)
	if len(problems) > 0 {
		h.fail(w, r, http.StatusUnprocessableEntity, "unprocessable_entity", "Please correct the form.", problems)
		return
	}
	in := h.enr.Enrich(r, h.now())
	in.URL = p.URL
	// The submission's page view is the lead's interaction: recorded like any
	// view (counted, page.visited), and named by its clickId on the lead.
	h.rec.Record(interactions.Record{Kind: interactions.KindView, ProjectID: p.ProjectID, ResourceID: p.ID, Interaction: in})
	fl, err := formLead(formSubmission{Page: p, Values: values, Interaction: in})
	if err == nil {
		err = h.st.InTx(r.Context(), func(tx *store.Tx) error {
			_, err := h.conv.RecordFormLead(r.Context(), tx, fl)
			return err
		})
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "public: write form lead", "err", err, "page", p.ID)
		h.fail(w, r, http.StatusServiceUnavailable, "internal_server_error", "Your answer could not be saved. Please try again.", nil)
		return
	}
	h.done(w, r, p)
}

// sameOrigin is the CSRF check (see the package comment).
func (h *pageForm) sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" || src == "null" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return false
	}
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Host)
	return host == strings.ToLower(r.Host) || host == h.baseHost
}

// validateForm checks the submitted values against the form definition and
// returns the values of the form's fields (trimmed; checkboxes "true"/"false").
func validateForm(f pages.Form, form url.Values) (map[string]string, map[string]string) {
	values := make(map[string]string, len(f.Fields))
	problems := map[string]string{}
	for _, fd := range f.Fields {
		v := strings.TrimSpace(form.Get(fd.Name))
		if fd.Type == "checkbox" {
			checked := slices.Contains([]string{"on", "true", "1", "yes"}, strings.ToLower(v))
			if fd.Required && !checked {
				problems[fd.Name] = fd.Label + " must be checked."
			}
			values[fd.Name] = fmt.Sprint(checked)
			continue
		}
		limit := MaxFormValue
		if fd.Type == "textarea" {
			limit = MaxFormTextarea
		} else {
			v = strings.Join(strings.Fields(v), " ")
		}
		switch {
		case v == "" && fd.Required:
			problems[fd.Name] = fd.Label + " is required."
		case !utf8.ValidString(v) || strings.ContainsFunc(v, isControl(fd.Type == "textarea")):
			problems[fd.Name] = fd.Label + " contains characters that are not allowed."
		case utf8.RuneCountInString(v) > limit:
			problems[fd.Name] = fmt.Sprintf("%s must be at most %d characters.", fd.Label, limit)
		case v != "" && fd.Type == "email" && !validEmail(v):
			problems[fd.Name] = fd.Label + " must be an e-mail address."
		case v != "" && fd.Type == "tel" && !validPhone(v):
			problems[fd.Name] = fd.Label + " must be a phone number."
		}
		if v != "" {
			values[fd.Name] = v
		}
	}
	return values, problems
}

func isControl(multiline bool) func(rune) bool {
	return func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return r < 0x20 || r == 0x7f
	}
}

func validEmail(s string) bool {
	at := strings.LastIndex(s, "@")
	if at < 1 || len(s) > 254 || strings.ContainsAny(s, " <>\"(),;:[]\\") {
		return false
	}
	dom := s[at+1:]
	return strings.Contains(dom, ".") && !strings.HasPrefix(dom, ".") && !strings.HasSuffix(dom, ".") && !strings.Contains(dom, "..")
}

func validPhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-(). ", r):
		default:
			return false
		}
	}
	return digits >= 4 && digits <= 20
}

// done answers a stored (or silently dropped) submission.
func (h *pageForm) done(w http.ResponseWriter, r *http.Request, p pages.Page) {
	if p.Form.RedirectURL != nil {
		http.Redirect(w, r, *p.Form.RedirectURL, http.StatusSeeOther)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"message": p.Form.SuccessMessage})
		return
	}
	renderForm(w, http.StatusOK, formView{Title: p.Title, Message: p.Form.SuccessMessage, Theme: p.Theme})
}

// fail answers a refused submission: JSON for clients that ask for it, else a
// small HTML page.
func (h *pageForm) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string, fields map[string]string) {
	if wantsJSON(r) {
		var body struct {
			Error struct {
				Code    string            `json:"code"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields,omitempty"`
			} `json:"error"`
		}
		body.Error.Code, body.Error.Message, body.Error.Fields = code, msg, fields
		writeJSON(w, status, body)
		return
	}
	v := formView{Title: http.StatusText(status), Message: msg, Theme: pages.DefaultTheme()}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		v.Problems = append(v.Problems, fields[n])
	}
	renderForm(w, status, v)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var formTmpl = template.Must(template.New("thanks").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;padding:2rem 1rem;background:{{.Theme.Background}};color:{{.Theme.Text}}}
main{max-width:32rem;margin:0 auto}h1{font-size:1.3rem}p{white-space:pre-wrap}.err{color:#b00020}
a{color:{{.Theme.Accent}}}</style></head><body><main>
<h1>{{.Title}}</h1><p>{{.Message}}</p>
{{if .Problems}}<ul class="err">{{range .Problems}}<li>{{.}}</li>{{end}}</ul><p>Go back to the form to correct it.</p>{{end}}
</main></body></html>
`))

type formView struct {
	Title, Message string
	Problems       []string
	Theme          pages.Theme
}

func renderForm(w http.ResponseWriter, status int, v formView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = formTmpl.Execute(w, v)
}
