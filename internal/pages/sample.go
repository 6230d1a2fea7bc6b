package pages

import (
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
)

// Sample returns a realistic published page with a form, as page events carry
// it, for test events: the webhook's first selected page id, if any.
func Sample(in events.SampleInput) Page {
	prefix, _ := in.ShortBase()
	return Page{
		ID: events.FirstOr(in.PageIDs, ids.New("page")), Slug: "spring-launch", URL: prefix + "/p/spring-launch",
		Title: "Spring launch", Description: ref("Be first to hear about the spring collection."),
		Blocks: []Block{
			{Type: BlockHeading, Text: ref("Spring is here")},
			{Type: BlockText, Text: ref("New colours, new fabrics.\nOut on Monday.")},
			{Type: BlockImage, URL: ref("https://shop.example.com/img/spring.jpg"), Alt: ref("The spring collection")},
			{Type: BlockButton, Label: ref("Shop now"), URL: ref("https://shop.example.com/spring")},
		},
		Form: &Form{
			Fields: []FormField{
				{Name: "name", Label: "Your name", Type: "text", Required: false},
				{Name: "email", Label: "E-mail", Type: "email", Required: true},
			},
			SubmitLabel: "Notify me", SuccessMessage: "Thanks! We will be in touch.", RedirectURL: nil,
		},
		Theme:     Theme{Background: "#ffffff", Text: "#111827", Accent: "#16a34a"},
		Published: true, Views: 311, Leads: 12, ProjectID: in.ProjectID,
		CreatedAt: in.Now.Add(-10 * 24 * time.Hour), UpdatedAt: in.Now.Add(-5 * time.Hour),
	}
}

// SampleEvent is the data of a sample page.created, .updated or .deleted.
func SampleEvent(in events.SampleInput) any { return map[string]any{"page": Sample(in)} }

// ref returns a pointer to v: the optional fields of a sample.
func ref[T any](v T) *T { return &v }
