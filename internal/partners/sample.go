package partners

import (
	"strings"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/links"
)

// SampleEnrolled is the data of a realistic partner.enrolled, for test
// events: an approved partner with one link of its own.
func SampleEnrolled(in events.SampleInput) Enrolled {
	l := links.Sample(in)
	country := "US"
	return Enrolled{
		Partner: Partner{ID: ids.New("pn"), Name: "Acme Affiliates", Email: "partners@acme.example",
			Image: nil, Country: &country, Status: StatusApproved, ProgramID: ids.New("prog"), CreatedAt: in.Now},
		Links: []LinkSummary{{ID: l.ID, Domain: l.Domain, Key: "acme", ShortLink: strings.TrimSuffix(l.ShortLink, "/spring") + "/acme",
			URL: l.URL, Clicks: 0, Leads: 0, Sales: 0, SaleAmount: 0}},
	}
}
