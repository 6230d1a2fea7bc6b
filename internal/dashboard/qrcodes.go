package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/qrcodes"
)

// contentFields are the designer's inputs of each type's content, in the
// order shown; the form names are "<type>.<json field>".
var contentFields = map[qrcodes.Type][]contentField{
	qrcodes.TypeText:     {{"text", "Text", "textarea"}},
	qrcodes.TypeEmail:    {{"to", "To (e-mail)", "email"}, {"subject", "Subject", "text"}, {"body", "Message", "textarea"}},
	qrcodes.TypePhone:    {{"number", "Phone number", "tel"}},
	qrcodes.TypeSMS:      {{"number", "Phone number", "tel"}, {"message", "Message", "textarea"}},
	qrcodes.TypeWiFi:     {{"ssid", "Network name (SSID)", "text"}, {"password", "Wi-Fi password", "text"}, {"encryption", "Encryption (WPA, WEP or nopass)", "text"}, {"hidden", "Hidden network", "checkbox"}},
	qrcodes.TypeVCard:    {{"firstName", "First name", "text"}, {"lastName", "Last name", "text"}, {"organization", "Organization", "text"}, {"title", "Job title", "text"}, {"phone", "Phone", "tel"}, {"email", "E-mail", "email"}, {"url", "Website", "url"}, {"address", "Address", "text"}, {"note", "Note", "textarea"}},
	qrcodes.TypeWhatsApp: {{"number", "WhatsApp number", "tel"}, {"message", "Message", "textarea"}},
	qrcodes.TypeGeo:      {{"latitude", "Latitude", "text"}, {"longitude", "Longitude", "text"}},
}

type contentField struct{ Key, Label, Type string }

// qrForm is the designer: the raw values, the errors, the preview.
type qrForm struct {
	V          url.Values
	Errors     formErrors
	Types      []qrcodes.Type
	Content    []qrContentGroup
	Preview    string // the preview image's address (the dashboard's own)
	Levels     []string
	Domains    []string
	PreviewErr string
	// Action is where the form posts, PreviewAction where its no-JavaScript
	// "Preview" button sends it, Submit the main button's name; ID is the
	// edited code's (empty in the designer of a new one).
	Action, PreviewAction, Submit, ID string
}

// forNew and forEdit set the form's addresses and main button.
func (f *qrForm) forNew() {
	f.Action, f.PreviewAction, f.Submit = "/app/qrcodes", "/app/qrcodes/new", "Create QR code"
}

func (f *qrForm) forEdit(id string) {
	f.Action, f.PreviewAction, f.Submit, f.ID = "/app/qrcodes/"+id, "/app/qrcodes/"+id+"/edit", "Save QR code", id
}

type qrContentGroup struct {
	Type   qrcodes.Type
	Fields []field
}

// qrInput turns the designer's form into the API's create input.
func qrInput(v url.Values, baseDomain string) (qrcodes.Input, error) {
	return qrFormInput(v, baseDomain, false)
}

// qrFormInput is qrInput; as an update (the API's PATCH) an empty logo or
// title clears it and the server's own domain replaces a custom one. The
// static/dynamic rules are the PATCH's own: a code made static loses its
// short link, one made dynamic gets one (a random key when the field is
// empty).
func qrFormInput(v url.Values, baseDomain string, update bool) (qrcodes.Input, error) {
	t := qrcodes.Type(v.Get("type"))
	if t == "" {
		t = qrcodes.TypeURL
	}
	in := qrcodes.Input{Type: qrcodes.Some(t), Static: qrcodes.Some(v.Get("static") == "on")}
	if t == qrcodes.TypeURL {
		in.URL = qrcodes.Some(strings.TrimSpace(v.Get("url")))
	} else if fs, ok := contentFields[t]; ok {
		c := map[string]any{}
		for _, f := range fs {
			raw := strings.TrimSpace(v.Get(string(t) + "." + f.Key))
			switch {
			case f.Type == "checkbox":
				c[f.Key] = raw == "on"
			case t == qrcodes.TypeGeo:
				if raw == "" {
					continue
				}
				n, err := strconv.ParseFloat(raw, 64)
				if err != nil {
					return in, errs.Invalid("content.%s must be a number such as 52.52", f.Key)
				}
				c[f.Key] = n
			case raw != "":
				c[f.Key] = raw
			}
		}
		b, _ := json.Marshal(c)
		in.Content = qrcodes.Some(json.RawMessage(b))
	}
	if v.Get("static") != "on" {
		if k := strings.TrimSpace(v.Get("key")); k != "" {
			in.Key = qrcodes.Some(k)
		}
		if dm := strings.TrimSpace(v.Get("domain")); dm != "" && !strings.EqualFold(dm, baseDomain) {
			in.Domain = qrcodes.Some(dm)
		} else if update && dm != "" {
			in.Domain = qrcodes.Null[string]()
		}
	}
	for _, p := range []struct {
		name string
		dst  *qrcodes.Optional[int]
	}{{"size", &in.Size}, {"margin", &in.Margin}} {
		if s := strings.TrimSpace(v.Get(p.name)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return in, errs.Invalid("%s must be a whole number", p.name)
			}
			*p.dst = qrcodes.Some(n)
		}
	}
	for _, p := range []struct {
		name string
		dst  *qrcodes.Optional[string]
	}{{"fgColor", &in.FgColor}, {"bgColor", &in.BgColor}, {"level", &in.Level}, {"logo", &in.Logo}, {"title", &in.Title}} {
		if s := strings.TrimSpace(v.Get(p.name)); s != "" {
			*p.dst = qrcodes.Some(s)
		} else if update && (p.name == "logo" || p.name == "title") {
			*p.dst = qrcodes.Null[string]()
		}
	}
	return in, nil
}

// qrValues are a saved code's form values, for the edit form.
func qrValues(q qrcodes.QRCode, baseDomain string) url.Values {
	v := url.Values{"type": {string(q.Type)}, "fgColor": {q.FgColor}, "bgColor": {q.BgColor},
		"size": {strconv.Itoa(q.Size)}, "margin": {strconv.Itoa(q.Margin)}, "level": {q.Level}, "domain": {baseDomain}}
	if q.Static {
		v.Set("static", "on")
	}
	for name, p := range map[string]*string{"url": q.URL, "key": q.Key, "domain": q.Domain, "logo": q.Logo, "title": q.Title} {
		if p != nil {
			v.Set(name, *p)
		}
	}
	var content map[string]any
	if len(q.Content) > 0 && json.Unmarshal(q.Content, &content) == nil {
		for _, f := range contentFields[q.Type] {
			name := string(q.Type) + "." + f.Key
			switch x := content[f.Key].(type) {
			case bool:
				if x {
					v.Set(name, "on")
				}
			case float64:
				v.Set(name, strconv.FormatFloat(x, 'f', -1, 64))
			case string:
				v.Set(name, x)
			}
		}
	}
	return v
}

// qrFieldNames are the names a service message may start with.
func qrFieldNames(t qrcodes.Type) []string {
	out := []string{"url", "key", "domain", "size", "margin", "fgColor", "bgColor", "level", "logo", "title", "type"}
	for _, f := range contentFields[t] {
		out = append(out, "content."+f.Key)
	}
	return out
}

func (d *Dashboard) qrFormData(r *http.Request, c *reqCtx, f *qrForm) error {
	f.Types = qrcodes.Types()
	f.Levels = []string{"L", "M", "Q", "H"}
	t := qrcodes.Type(f.V.Get("type"))
	for _, ty := range qrcodes.Types()[1:] {
		g := qrContentGroup{Type: ty}
		for _, cf := range contentFields[ty] {
			name := string(ty) + "." + cf.Key
			fl := field{Name: name, Label: cf.Label, Type: cf.Type, Value: f.V.Get(name), Error: f.Errors.Fields[name]}
			if cf.Type == "checkbox" {
				fl.Checked = f.V.Get(name) == "on"
			}
			if ty == t {
				if m := f.Errors.Fields["content."+cf.Key]; m != "" {
					fl.Error = m
				}
			}
			g.Fields = append(g.Fields, fl)
		}
		f.Content = append(f.Content, g)
	}
	var err error
	f.Domains, err = d.domainNames(r, c)
	return err
}

func defaultQRValues() url.Values {
	d := qrcodes.DefaultDesign()
	return url.Values{"type": {"url"}, "fgColor": {d.FgColor}, "bgColor": {d.BgColor}, "size": {strconv.Itoa(d.Size)},
		"margin": {strconv.Itoa(d.Margin)}, "level": {d.Level}}
}

// newQRForm is the designer. Without JavaScript its "Preview" button sends
// the form here (GET) and the preview is drawn from the query; app.js
// refreshes the preview image as the user types.
func (d *Dashboard) newQRForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	v := r.URL.Query()
	if v.Get("type") == "" {
		v = defaultQRValues()
	}
	f := qrForm{V: v}
	if r.URL.Query().Get("type") != "" {
		if in, err := qrInput(v, d.Config.BaseDomain()); err == nil {
			if _, err := d.QRCodes.Preview(in); err != nil {
				if f.Errors, err = fieldErrors(err, qrFieldNames(qrcodes.Type(v.Get("type")))...); err != nil {
					return err
				}
			}
		}
	}
	f.Preview = "/app/qrcodes/preview.svg?" + v.Encode()
	f.forNew()
	if err := d.qrFormData(r, c, &f); err != nil {
		return err
	}
	return d.ok(w, r, c, "qrcode_form", "Design a QR code", "qrcodes", f)
}

// editQRForm is the designer of a saved code, filled with its values; like
// the new code's designer, its "Preview" button (without JavaScript) sends
// the form here as a GET and the preview is drawn from the query.
func (d *Dashboard) editQRForm(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	q, err := d.QRCodes.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := r.URL.Query()
	if v.Get("type") == "" {
		v = qrValues(q, d.Config.BaseDomain())
	} else if in, err := qrInput(v, d.Config.BaseDomain()); err == nil {
		if _, err := d.QRCodes.Preview(in); err != nil {
			var f qrForm
			if f.Errors, err = fieldErrors(err, qrFieldNames(qrcodes.Type(v.Get("type")))...); err != nil {
				return err
			}
			return d.showQRForm(w, r, c, http.StatusOK, q.ID, v, f.Errors)
		}
	}
	return d.showQRForm(w, r, c, http.StatusOK, q.ID, v, formErrors{})
}

// showQRForm renders the designer of the saved code id with values v.
func (d *Dashboard) showQRForm(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, id string, v url.Values, fe formErrors) error {
	f := qrForm{V: v, Errors: fe}
	preview := url.Values{}
	for k, x := range v {
		if k != "csrf" {
			preview[k] = x
		}
	}
	f.Preview = "/app/qrcodes/preview.svg?" + preview.Encode()
	f.forEdit(id)
	if err := d.qrFormData(r, c, &f); err != nil {
		return err
	}
	d.render(w, r, c, status, "qrcode_form", "Edit QR code", "qrcodes", f)
	return nil
}

// updateQR saves the edited code: the API's PATCH /api/qrcodes/{id}.
func (d *Dashboard) updateQR(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id := r.PathValue("id")
	in, err := qrFormInput(r.PostForm, d.Config.BaseDomain(), true)
	if err == nil {
		_, err = d.QRCodes.Update(r.Context(), c.ProjectID(), id, in)
	}
	if err != nil {
		fe, ferr := fieldErrors(err, qrFieldNames(qrcodes.Type(r.PostForm.Get("type")))...)
		if ferr != nil {
			return ferr
		}
		return d.showQRForm(w, r, c, statusOf(err), id, r.PostForm, fe)
	}
	return redirect(w, r, "/app/qrcodes/"+id, "qr-saved")
}

// previewQR draws the designer's current values (nothing is saved).
func (d *Dashboard) previewQR(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	in, err := qrInput(r.URL.Query(), d.Config.BaseDomain())
	if err != nil {
		return err
	}
	q, err := d.QRCodes.Preview(in)
	if err != nil {
		return err
	}
	img, err := d.QRCodes.Render(r.Context(), qrcodes.Payload(q), q.Design(), qrcodes.FormatSVG)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", qrcodes.FormatSVG.ContentType())
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
	_, _ = w.Write(img)
	return nil
}

func (d *Dashboard) createQR(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := qrForm{V: r.PostForm}
	in, err := qrInput(r.PostForm, d.Config.BaseDomain())
	var q qrcodes.QRCode
	if err == nil {
		q, err = d.QRCodes.Create(r.Context(), c.ProjectID(), in)
	}
	if err != nil {
		var ferr error
		if f.Errors, ferr = fieldErrors(err, qrFieldNames(qrcodes.Type(r.PostForm.Get("type")))...); ferr != nil {
			return ferr
		}
		f.Preview = "/app/qrcodes/preview.svg?" + r.PostForm.Encode()
		f.forNew()
		if err := d.qrFormData(r, c, &f); err != nil {
			return err
		}
		d.render(w, r, c, statusOf(err), "qrcode_form", "Design a QR code", "qrcodes", f)
		return nil
	}
	return redirect(w, r, "/app/qrcodes/"+q.ID, "qr-created")
}

type qrView struct {
	QR      qrcodes.QRCode
	Payload string
}

func (d *Dashboard) qrPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	q, err := d.QRCodes.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "qrcode", "QR code", "qrcodes", qrView{QR: q, Payload: qrcodes.Payload(q)})
}

// qrImage is the download (PNG or SVG) of a saved code.
func (d *Dashboard) qrImage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f, err := qrcodes.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	img, err := d.QRCodes.Image(r.Context(), c.ProjectID(), id, f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.Header().Set("Content-Disposition", `attachment; filename="qrcode-`+id+`.`+string(f)+`"`)
	if f == qrcodes.FormatSVG {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
	}
	_, _ = w.Write(img)
	return nil
}

func (d *Dashboard) confirmDeleteQR(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	q, err := d.QRCodes.Get(r.Context(), c.ProjectID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.ok(w, r, c, "confirm", "Delete QR code", "qrcodes", confirmData{What: "QR code", Name: string(q.Type) + " " + q.ID,
		Action: "/app/qrcodes/" + q.ID + "/delete", Back: "/app/qrcodes/" + q.ID})
}

func (d *Dashboard) deleteQR(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if err := d.QRCodes.Delete(r.Context(), c.ProjectID(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/app/qrcodes", "qr-deleted")
}
