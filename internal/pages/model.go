package pages

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/shortlinks"
)

// Page is the page object (docs/webhooks.md), used by the API and in the
// page.* event payloads.
type Page struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Description *string   `json:"description"`
	Blocks      []Block   `json:"blocks"`
	Form        *Form     `json:"form"`
	Theme       Theme     `json:"theme"`
	Published   bool      `json:"published"`
	Views       int64     `json:"views"`
	Leads       int64     `json:"leads"`
	ProjectID   string    `json:"projectId"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Block types.
const (
	BlockHeading = "heading"
	BlockText    = "text"
	BlockImage   = "image"
	BlockButton  = "button"
)

// Block is one content block of a page. The fields are pointers so that
// validation can tell which ones the client sent: each type takes exactly its
// own fields (heading, text: Text; image: URL, Alt; button: Label, URL), and
// MarshalJSON emits exactly those.
type Block struct {
	Type  string
	Text  *string
	URL   *string
	Alt   *string
	Label *string
}

// blockWire is every field any block type may carry; decoding into it with
// unknown fields refused rejects a misspelt or foreign field.
type blockWire struct {
	Type  *string `json:"type"`
	Text  *string `json:"text"`
	URL   *string `json:"url"`
	Alt   *string `json:"alt"`
	Label *string `json:"label"`
}

// UnmarshalJSON reads a block; fields of no block type are refused here (a
// 400 through the API), a wrong type or a field of another type by Validate (422).
func (b *Block) UnmarshalJSON(data []byte) error {
	var w blockWire
	if err := strictUnmarshal(data, &w); err != nil {
		return err
	}
	*b = Block{Text: w.Text, URL: w.URL, Alt: w.Alt, Label: w.Label}
	if w.Type != nil {
		b.Type = *w.Type
	}
	return nil
}

// MarshalJSON emits {"type": …} and exactly the fields of that type.
func (b Block) MarshalJSON() ([]byte, error) {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch b.Type {
	case BlockHeading, BlockText:
		return json.Marshal(struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}{b.Type, s(b.Text)})
	case BlockImage:
		return json.Marshal(struct {
			Type string `json:"type"`
			URL  string `json:"url"`
			Alt  string `json:"alt"`
		}{b.Type, s(b.URL), s(b.Alt)})
	case BlockButton:
		return json.Marshal(struct {
			Type  string `json:"type"`
			Label string `json:"label"`
			URL   string `json:"url"`
		}{b.Type, s(b.Label), s(b.URL)})
	}
	return nil, fmt.Errorf("pages: cannot marshal block of unknown type %q", b.Type)
}

// Form is the lead-capture form shown under the blocks.
type Form struct {
	Fields         []FormField `json:"fields"`
	SubmitLabel    string      `json:"submitLabel"`
	SuccessMessage string      `json:"successMessage"`
	RedirectURL    *string     `json:"redirectUrl"`
}

// FormField is one input of a form; Name is the key of the submitted value.
type FormField struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// Theme holds the page colours as #rrggbb.
type Theme struct {
	Background string `json:"background"`
	Text       string `json:"text"`
	Accent     string `json:"accent"`
}

// defaultTheme is used for every colour a client leaves out (never mutated).
var defaultTheme = Theme{Background: "#ffffff", Text: "#111827", Accent: "#2563eb"}

// DefaultTheme returns the colours of a page that sets none.
func DefaultTheme() Theme { return defaultTheme }

// Limits.
const (
	MaxBlocks         = 100
	MaxHeading        = 200
	MaxText           = 10_000
	MaxTitle          = 190
	MaxDescription    = 1_000
	MaxLabel          = 100
	MaxAlt            = 1_000
	MaxSuccessMessage = 1_000
	MaxFormFields     = 20
)

// Form defaults.
const (
	DefaultSubmitLabel    = "Submit"
	DefaultSuccessMessage = "Thank you!"
)

var (
	slugRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	fieldNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,49}$`)
	colorRE     = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	fieldTypes  = []string{"text", "email", "tel", "textarea", "checkbox"}
)

// ValidSlug reports whether s is a well-formed page slug.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// checkText enforces 1..max characters (runes) and no control characters,
// except line breaks and tabs where multiline is set.
func checkText(field, s string, max int, multiline bool) error {
	if strings.TrimSpace(s) == "" {
		return errs.Invalid("%s must not be empty", field)
	}
	return checkOptionalText(field, s, max, multiline)
}

// checkOptionalText is checkText that allows the empty string.
func checkOptionalText(field, s string, max int, multiline bool) error {
	if n := utf8.RuneCountInString(s); n > max {
		return errs.Invalid("%s must be at most %d characters (got %d)", field, max, n)
	}
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			if multiline {
				continue
			}
			return errs.Invalid("%s must be a single line", field)
		}
		if r < 0x20 || r == 0x7f {
			return errs.Invalid("%s must not contain control characters", field)
		}
	}
	return nil
}

// validateBlocks checks every block and normalises optional fields (alt "").
func validateBlocks(blocks []Block) error {
	if len(blocks) > MaxBlocks {
		return errs.Invalid("a page has at most %d blocks (got %d)", MaxBlocks, len(blocks))
	}
	for i := range blocks {
		if err := validateBlock(fmt.Sprintf("blocks[%d]", i), &blocks[i]); err != nil {
			return err
		}
	}
	return nil
}

func validateBlock(at string, b *Block) error {
	// allowed lists the fields of the type; every other set field is refused.
	var allowed map[string]bool
	switch b.Type {
	case BlockHeading, BlockText:
		allowed = map[string]bool{"text": true}
	case BlockImage:
		allowed = map[string]bool{"url": true, "alt": true}
	case BlockButton:
		allowed = map[string]bool{"label": true, "url": true}
	case "":
		return errs.Invalid("%s.type is required (heading, text, image or button)", at)
	default:
		return errs.Invalid("%s.type %q is unknown: use heading, text, image or button", at, truncate(b.Type))
	}
	for name, set := range map[string]bool{"text": b.Text != nil, "url": b.URL != nil, "alt": b.Alt != nil, "label": b.Label != nil} {
		if set && !allowed[name] {
			return errs.Invalid("%s: a %s block has no field %q", at, b.Type, name)
		}
	}
	need := func(field string, p *string) (string, error) {
		if p == nil {
			return "", errs.Invalid("%s.%s is required for a %s block", at, field, b.Type)
		}
		return *p, nil
	}
	switch b.Type {
	case BlockHeading, BlockText:
		text, err := need("text", b.Text)
		if err != nil {
			return err
		}
		if b.Type == BlockHeading {
			return checkText(at+".text", text, MaxHeading, false)
		}
		return checkText(at+".text", text, MaxText, true)
	case BlockImage:
		u, err := need("url", b.URL)
		if err != nil {
			return err
		}
		if err := shortlinks.ValidateURL(at+".url", u); err != nil {
			return err
		}
		if b.Alt == nil {
			b.Alt = new(string)
		}
		return checkOptionalText(at+".alt", *b.Alt, MaxAlt, false)
	default: // button
		label, err := need("label", b.Label)
		if err != nil {
			return err
		}
		if err := checkText(at+".label", label, MaxLabel, false); err != nil {
			return err
		}
		u, err := need("url", b.URL)
		if err != nil {
			return err
		}
		return shortlinks.ValidateURL(at+".url", u)
	}
}

// normalizeForm fills defaults and checks the form; nil is no form.
func normalizeForm(f *Form) error {
	if f == nil {
		return nil
	}
	if len(f.Fields) == 0 || len(f.Fields) > MaxFormFields {
		return errs.Invalid("form.fields must hold 1 to %d fields (got %d)", MaxFormFields, len(f.Fields))
	}
	seen := make(map[string]bool, len(f.Fields))
	for i := range f.Fields {
		fd := &f.Fields[i]
		at := fmt.Sprintf("form.fields[%d]", i)
		if !fieldNameRE.MatchString(fd.Name) {
			return errs.Invalid("%s.name %q: use 1 to 50 of a-z A-Z 0-9 _ starting with a letter", at, truncate(fd.Name))
		}
		if seen[fd.Name] {
			return errs.Invalid("%s.name %q is used twice in the form", at, fd.Name)
		}
		if strings.EqualFold(fd.Name, HoneypotField) {
			// The rendered form carries a hidden trap field of that name.
			return errs.Invalid("%s.name %q is reserved; use another name (e.g. url)", at, fd.Name)
		}
		seen[fd.Name] = true
		if fd.Label == "" {
			fd.Label = fd.Name
		}
		if err := checkText(at+".label", fd.Label, MaxLabel, false); err != nil {
			return err
		}
		if fd.Type == "" {
			fd.Type = "text"
		}
		if !slices.Contains(fieldTypes, fd.Type) {
			return errs.Invalid("%s.type %q is unknown: use %s", at, truncate(fd.Type), strings.Join(fieldTypes, ", "))
		}
	}
	if f.SubmitLabel == "" {
		f.SubmitLabel = DefaultSubmitLabel
	}
	if err := checkText("form.submitLabel", f.SubmitLabel, MaxLabel, false); err != nil {
		return err
	}
	if f.SuccessMessage == "" {
		f.SuccessMessage = DefaultSuccessMessage
	}
	if err := checkText("form.successMessage", f.SuccessMessage, MaxSuccessMessage, true); err != nil {
		return err
	}
	if f.RedirectURL != nil && *f.RedirectURL == "" {
		f.RedirectURL = nil
	}
	if f.RedirectURL != nil {
		return shortlinks.ValidateURL("form.redirectUrl", *f.RedirectURL)
	}
	return nil
}

// normalizeTheme fills absent colours with the defaults, checks and lower-cases them.
func normalizeTheme(t *Theme) (Theme, error) {
	out := defaultTheme
	if t == nil {
		return out, nil
	}
	for _, c := range []struct {
		field string
		in    string
		out   *string
	}{{"theme.background", t.Background, &out.Background}, {"theme.text", t.Text, &out.Text}, {"theme.accent", t.Accent, &out.Accent}} {
		if c.in == "" {
			continue
		}
		if !colorRE.MatchString(c.in) {
			return Theme{}, errs.Invalid("%s must be a colour like #1a2b3c (got %q)", c.field, truncate(c.in))
		}
		*c.out = strings.ToLower(c.in)
	}
	return out, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
