package qrcodes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/shortlinks"
)

// Type is what a QR code holds.
type Type string

// The nine types of the contract.
const (
	TypeURL      Type = "url"
	TypeText     Type = "text"
	TypeEmail    Type = "email"
	TypePhone    Type = "phone"
	TypeSMS      Type = "sms"
	TypeWiFi     Type = "wifi"
	TypeVCard    Type = "vcard"
	TypeWhatsApp Type = "whatsapp"
	TypeGeo      Type = "geo"
)

// Types lists every type.
func Types() []Type {
	return []Type{TypeURL, TypeText, TypeEmail, TypePhone, TypeSMS, TypeWiFi, TypeVCard, TypeWhatsApp, TypeGeo}
}

// Valid reports whether t is one of the nine types.
func (t Type) Valid() bool { return slices.Contains(Types(), t) }

// The content objects, one per non-url type. Optional text fields are empty
// strings when not given, so a receiver never has to tell "" from null inside content.

// TextContent is the content of a text code.
type TextContent struct {
	Text string `json:"text"`
}

// EmailContent is the content of an email code (a mailto: link).
type EmailContent struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// PhoneContent is the content of a phone code (a tel: link).
type PhoneContent struct {
	Number string `json:"number"`
}

// SMSContent is the content of an sms code.
type SMSContent struct {
	Number  string `json:"number"`
	Message string `json:"message"`
}

// WiFiContent is the content of a wifi code (the WIFI: network configuration format).
type WiFiContent struct {
	SSID       string `json:"ssid"`
	Password   string `json:"password"`
	Encryption string `json:"encryption"`
	Hidden     bool   `json:"hidden"`
}

// VCardContent is the content of a vcard code (a vCard 3.0).
type VCardContent struct {
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Organization string `json:"organization"`
	Title        string `json:"title"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	URL          string `json:"url"`
	Address      string `json:"address"`
	Note         string `json:"note"`
}

// WhatsAppContent is the content of a whatsapp code (a wa.me link).
type WhatsAppContent struct {
	Number  string `json:"number"`
	Message string `json:"message"`
}

// GeoContent is the content of a geo code (a geo: URI). Pointers make both
// coordinates required (0 is a valid coordinate).
type GeoContent struct {
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
}

// MaxPayloadBytes bounds what a symbol encodes: the public renderer takes the
// payload as its url parameter, which is capped at this length, so every code's
// image URL keeps working.
const MaxPayloadBytes = 2000

var phoneRE = regexp.MustCompile(`^\+?[0-9]{3,20}$`)

// normalizeNumber strips the separators people type ("+1 (555) 010-99") and
// checks what is left.
func normalizeNumber(field, s string) (string, error) {
	n := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" ()-./", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if !phoneRE.MatchString(n) {
		return "", errs.Invalid("%s must be a phone number of 3 to 20 digits, optionally starting with +", field)
	}
	return n, nil
}

func checkLen(field, s string, min, max int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) {
		return errs.Invalid("%s must be valid UTF-8", field)
	}
	if n < min {
		if min == 1 {
			return errs.Invalid("%s is required", field)
		}
		return errs.Invalid("%s must be at least %d characters", field, min)
	}
	if n > max {
		return errs.Invalid("%s must be at most %d characters", field, max)
	}
	return nil
}

func checkEmail(field, s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 {
		return errs.Invalid("%s must be a plain email address like name@example.com", field)
	}
	return nil
}

// decodeStrict reads exactly one JSON object into dst, refusing unknown fields.
func decodeStrict(raw json.RawMessage, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ) && typ.Field != "":
			return errs.Invalid("content.%s must be %s", typ.Field, typ.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errs.Invalid("content has unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return errs.Invalid("content must be a JSON object: %v", err)
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.Invalid("content must be one JSON object")
	}
	return nil
}

// normalizeContent validates the content of a non-url type and returns its
// canonical JSON (every field present, numbers normalised).
func normalizeContent(t Type, raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, errs.Invalid("content is required for %s codes", t)
	}
	if bytes.TrimSpace(raw)[0] != '{' {
		return nil, errs.Invalid("content must be a JSON object")
	}
	v, err := parseContent(t, raw)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("qrcodes: marshal content: %w", err)
	}
	return out, nil
}

// parseContent decodes and validates content of type t, normalising it.
func parseContent(t Type, raw json.RawMessage) (any, error) {
	switch t {
	case TypeText:
		var c TextContent
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		return c, checkLen("content.text", c.Text, 1, MaxPayloadBytes)
	case TypeEmail:
		var c EmailContent
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		c.To = strings.TrimSpace(c.To)
		if err := checkEmail("content.to", c.To); err != nil {
			return nil, err
		}
		if err := checkLen("content.subject", c.Subject, 0, 200); err != nil {
			return nil, err
		}
		return c, checkLen("content.body", c.Body, 0, 1000)
	case TypePhone:
		var c PhoneContent
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		n, err := normalizeNumber("content.number", c.Number)
		c.Number = n
		return c, err
	case TypeSMS:
		var c SMSContent
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		n, err := normalizeNumber("content.number", c.Number)
		if err != nil {
			return nil, err
		}
		c.Number = n
		return c, checkLen("content.message", c.Message, 0, 500)
	case TypeWhatsApp:
		var c WhatsAppContent
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		n, err := normalizeNumber("content.number", c.Number)
		if err != nil {
			return nil, err
		}
		c.Number = strings.TrimPrefix(n, "+")
		return c, checkLen("content.message", c.Message, 0, 500)
	case TypeWiFi:
		return parseWiFi(raw)
	case TypeVCard:
		return parseVCard(raw)
	case TypeGeo:
		var c GeoContent
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		if c.Latitude == nil || c.Longitude == nil {
			return nil, errs.Invalid("content.latitude and content.longitude are required")
		}
		if math.IsNaN(*c.Latitude) || *c.Latitude < -90 || *c.Latitude > 90 {
			return nil, errs.Invalid("content.latitude must be between -90 and 90")
		}
		if math.IsNaN(*c.Longitude) || *c.Longitude < -180 || *c.Longitude > 180 {
			return nil, errs.Invalid("content.longitude must be between -180 and 180")
		}
		return c, nil
	}
	return nil, errs.Invalid("type %q has no content", t)
}

func parseWiFi(raw json.RawMessage) (WiFiContent, error) {
	var c WiFiContent
	if err := decodeStrict(raw, &c); err != nil {
		return c, err
	}
	if c.SSID == "" || len(c.SSID) > 32 || !utf8.ValidString(c.SSID) {
		return c, errs.Invalid("content.ssid must be 1 to 32 bytes")
	}
	if c.Encryption == "" {
		c.Encryption = "nopass"
		if c.Password != "" {
			c.Encryption = "WPA"
		}
	}
	switch c.Encryption {
	case "nopass":
		if c.Password != "" {
			return c, errs.Invalid("content.password must be empty when content.encryption is nopass")
		}
	case "WPA":
		if len(c.Password) < 8 || len(c.Password) > 63 {
			return c, errs.Invalid("content.password must be 8 to 63 characters for WPA")
		}
	case "WEP":
		if c.Password == "" || len(c.Password) > 63 {
			return c, errs.Invalid("content.password must be 1 to 63 characters for WEP")
		}
	default:
		return c, errs.Invalid("content.encryption must be WPA, WEP or nopass")
	}
	return c, checkLen("content.password", c.Password, 0, 63)
}

func parseVCard(raw json.RawMessage) (VCardContent, error) {
	var c VCardContent
	if err := decodeStrict(raw, &c); err != nil {
		return c, err
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"firstName", &c.FirstName, 100}, {"lastName", &c.LastName, 100},
		{"organization", &c.Organization, 100}, {"title", &c.Title, 100},
		{"phone", &c.Phone, 40}, {"email", &c.Email, 254}, {"url", &c.URL, 500},
		{"address", &c.Address, 300}, {"note", &c.Note, 500},
	} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkLen("content."+f.name, *f.v, 0, f.max); err != nil {
			return c, err
		}
	}
	if c.FirstName == "" && c.LastName == "" && c.Organization == "" {
		return c, errs.Invalid("content needs firstName, lastName or organization")
	}
	if c.Phone != "" {
		n, err := normalizeNumber("content.phone", c.Phone)
		if err != nil {
			return c, err
		}
		c.Phone = n
	}
	if c.Email != "" {
		if err := checkEmail("content.email", c.Email); err != nil {
			return c, err
		}
	}
	if c.URL != "" {
		if err := shortlinks.ValidateURL("content.url", c.URL); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Payload is exactly what the symbol of q encodes. A dynamic code encodes its
// own short link; a static code encodes its content in the format phones
// understand for its type.
func Payload(q QRCode) string {
	if !q.Static && q.ShortLink != nil {
		return *q.ShortLink
	}
	if q.Type == TypeURL {
		if q.URL == nil {
			return ""
		}
		return *q.URL
	}
	v, err := parseContent(q.Type, q.Content)
	if err != nil {
		return ""
	}
	return staticPayload(v)
}

// escapeURI percent-encodes for a URI query value with spaces as %20, which
// mail and messaging apps read more reliably than "+".
func escapeURI(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// escapeWiFi applies the WIFI: format escaping of \ ; , : and ".
func escapeWiFi(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\;,:"`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapeVCard applies the vCard 3.0 text escaping.
func escapeVCard(s string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `;`, `\;`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

func staticPayload(v any) string {
	switch c := v.(type) {
	case TextContent:
		return c.Text
	case EmailContent:
		var q []string
		if c.Subject != "" {
			q = append(q, "subject="+escapeURI(c.Subject))
		}
		if c.Body != "" {
			q = append(q, "body="+escapeURI(c.Body))
		}
		s := "mailto:" + c.To
		if len(q) > 0 {
			s += "?" + strings.Join(q, "&")
		}
		return s
	case PhoneContent:
		return "tel:" + c.Number
	case SMSContent:
		return "SMSTO:" + c.Number + ":" + c.Message
	case WhatsAppContent:
		s := "https://wa.me/" + c.Number
		if c.Message != "" {
			s += "?text=" + escapeURI(c.Message)
		}
		return s
	case WiFiContent:
		s := "WIFI:T:" + c.Encryption + ";S:" + escapeWiFi(c.SSID) + ";"
		if c.Encryption != "nopass" {
			s += "P:" + escapeWiFi(c.Password) + ";"
		}
		if c.Hidden {
			s += "H:true;"
		}
		return s + ";"
	case VCardContent:
		return vcard(c)
	case GeoContent:
		return "geo:" + strconv.FormatFloat(*c.Latitude, 'f', -1, 64) + "," + strconv.FormatFloat(*c.Longitude, 'f', -1, 64)
	}
	return ""
}

func vcard(c VCardContent) string {
	lines := []string{"BEGIN:VCARD", "VERSION:3.0",
		"N:" + escapeVCard(c.LastName) + ";" + escapeVCard(c.FirstName) + ";;;"}
	fn := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if fn == "" {
		fn = c.Organization
	}
	lines = append(lines, "FN:"+escapeVCard(fn))
	add := func(prop, v string) {
		if v != "" {
			lines = append(lines, prop+":"+v)
		}
	}
	add("ORG", escapeVCard(c.Organization))
	add("TITLE", escapeVCard(c.Title))
	add("TEL", escapeVCard(c.Phone))
	add("EMAIL", escapeVCard(c.Email))
	add("URL", c.URL)
	if c.Address != "" {
		lines = append(lines, "ADR:;;"+escapeVCard(c.Address)+";;;;")
	}
	add("NOTE", escapeVCard(c.Note))
	lines = append(lines, "END:VCARD")
	return strings.Join(lines, "\r\n")
}
