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
}

type qrContentGroup struct {
	Type   qrcodes.Type
	Fields []field
}

// qrInput turns the designer's form into the API's create input.
func qrInput(v url.Values, baseDomain string) (qrcodes.Input, error) {
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
		}
	}
	return in, nil
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
	if err := d.qrFormData(r, c, &f); err != nil {
		return err
	}
	return d.ok(w, r, c, "qrcode_form", "Design a QR code", "qrcodes", f)
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
