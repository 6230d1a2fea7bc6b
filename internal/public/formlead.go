package public

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/codeqr/codeqr/internal/conversions"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/pages"
)

// formSubmission is one valid form submission.
type formSubmission struct {
	Page        pages.Page
	Values      map[string]string // field name → value, for the form's fields only
	Interaction interactions.Interaction
}

// formEventName is the lead's eventName: one per page, so a visitor who sends
// the same form again is one lead (leads are unique per customer and event
// name), while forms of different pages each count.
func formEventName(p pages.Page) string { return "Form: " + p.Slug }

// Customer details taken from the form: the first email field is the e-mail
// (and the external id); the name is a field called name / fullName /
// full_name, else firstName + lastName.
func customerFields(f pages.Form, values map[string]string) (email, name *string) {
	for _, fd := range f.Fields {
		if v, ok := values[fd.Name]; ok && fd.Type == "email" && email == nil {
			v = strings.ToLower(v)
			email = &v
		}
	}
	byName := map[string]string{}
	for k, v := range values {
		byName[strings.ToLower(strings.ReplaceAll(k, "_", ""))] = v
	}
	switch {
	case byName["name"] != "":
		n := byName["name"]
		name = &n
	case byName["fullname"] != "":
		n := byName["fullname"]
		name = &n
	case byName["firstname"] != "" || byName["lastname"] != "":
		n := strings.TrimSpace(byName["firstname"] + " " + byName["lastname"])
		name = &n
	}
	return email, name
}

// formLead turns a submission into the conversions package's form lead: the
// first e-mail field is the customer's external id (else "form_<clickId>"),
// the eventName is per page, and the metadata names the page and the fields.
func formLead(s formSubmission) (conversions.FormLead, error) {
	p, in := s.Page, s.Interaction
	email, name := customerFields(*p.Form, s.Values)
	externalID := "form_" + in.ClickID
	if email != nil {
		externalID = *email
	}
	meta, err := json.Marshal(map[string]any{"pageId": p.ID, "fields": s.Values})
	if err != nil {
		return conversions.FormLead{}, fmt.Errorf("public: form metadata: %w", err)
	}
	return conversions.FormLead{ProjectID: p.ProjectID, PageID: p.ID, ExternalID: externalID, Name: name, Email: email,
		EventName: formEventName(p), Metadata: meta, Interaction: in}, nil
}
