package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
)

// formErrors are a service's validation messages placed on a form: next to
// the field a message names, or above the form when it names none.
type formErrors struct {
	Fields  map[string]string
	General string
	err     error
}

// Any reports whether there is any message.
func (f formErrors) Any() bool { return f.General != "" || len(f.Fields) > 0 }

// leadingField is the field name a domain message starts with: "url must…",
// "key \"x\" is reserved", "geo.US must…", "links[2].url …".
var leadingField = regexp.MustCompile(`^(?:links\[\d+\]\.)?([A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_])`)

// fieldErrors turns a user error of a service into form messages; fields are
// the form's field names (the API's JSON names). Any other error (the
// server's) comes back as is, for the error page.
func fieldErrors(err error, fields ...string) (formErrors, error) {
	var de *errs.Error
	if !errors.As(err, &de) {
		return formErrors{}, err
	}
	if de.Kind == errs.KindNotFound || de.Kind == errs.KindForbidden {
		return formErrors{}, err
	}
	fe := formErrors{err: err}
	if m := leadingField.FindStringSubmatch(de.Message); m != nil {
		// The whole dotted name ("content.to"), then its head ("geo" of "geo.US").
		head, _, _ := strings.Cut(m[1], ".")
		for _, name := range []string{m[1], head} {
			for _, f := range fields {
				if strings.EqualFold(name, f) {
					fe.Fields = map[string]string{f: de.Message}
					return fe, nil
				}
			}
		}
	}
	fe.General = de.Message
	return fe, nil
}

// field is what the "field" template needs to draw one labelled input.
type field struct {
	Name, Label, Type, Value, Error, Hint, Placeholder string
	Autocomplete                                       string
	Required                                           bool
	Options                                            []option
	Checked                                            bool
}

type option struct {
	Value, Label string
	Selected     bool
}

var funcs = template.FuncMap{
	// fld builds a field: name, label, type, value, the form's errors, then
	// optional "required", "hint=…", "placeholder=…" and "autocomplete=…" words.
	"fld": func(name, label, typ string, value any, fe formErrors, extra ...string) field {
		f := field{Name: name, Label: label, Type: typ, Value: str(value), Error: fe.Fields[name]}
		for _, e := range extra {
			switch {
			case e == "required":
				f.Required = true
			case strings.HasPrefix(e, "hint="):
				f.Hint = strings.TrimPrefix(e, "hint=")
			case strings.HasPrefix(e, "placeholder="):
				f.Placeholder = strings.TrimPrefix(e, "placeholder=")
			case strings.HasPrefix(e, "autocomplete="):
				f.Autocomplete = strings.TrimPrefix(e, "autocomplete=")
			}
		}
		return f
	},
	"check": func(name, label string, checked bool) field {
		return field{Name: name, Label: label, Type: "checkbox", Checked: checked}
	},
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	"derefInt": func(p *int) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprint(*p)
	},
	"pretty": prettyBody,
	"money":  func(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) },
	"add":    func(a, b int) int { return a + b },
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	"str": str,
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case *string:
		if x == nil {
			return ""
		}
		return *x
	}
	return fmt.Sprint(v)
}

// prettyBody indents a JSON body for reading; anything else is shown as is.
func prettyBody(p *string) string {
	if p == nil {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(*p), &v); err != nil {
		return *p
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return *p
	}
	return string(b)
}
