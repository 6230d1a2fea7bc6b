package api

import "net/http"

// NotOffered lists the routes of Dub's API for features codeqr does not have.
// They answer 501 not_implemented in the documented error format (rather than
// the generic 404 of an unknown route), so that a client written against
// Dub's SDK learns at once which feature is missing. The README's
// compatibility table lists the same methods. Like every other API route they
// need a key with the scope of the resource they would touch (Dub's own
// routes need one too), so the 501 is only told to a caller who could use
// the feature.
var NotOffered = []struct{ Pattern, Feature, Scope string }{
	{"GET /api/folders", "folders", "links.read"},
	{"POST /api/folders", "folders", "links.write"},
	{"PATCH /api/folders/{id}", "folders", "links.write"},
	{"DELETE /api/folders/{id}", "folders", "links.write"},
	{"POST /api/domains/register", "domain registration", "links.write"},
	{"GET /api/domains/status", "domain registration", "links.read"},
	{"POST /api/tokens/embed/referrals", "embed tokens", "partners.write"},
	{"GET /api/commissions", "commissions", "partners.read"},
	{"POST /api/commissions", "commissions", "partners.write"},
	{"PATCH /api/commissions/{id}", "commissions", "partners.write"},
	{"PATCH /api/commissions/bulk", "commissions", "partners.write"},
	{"GET /api/payouts", "payouts", "partners.read"},
	{"GET /api/bounties/{bountyId}/submissions", "bounties", "partners.read"},
	{"POST /api/bounties/{bountyId}/submissions/{submissionId}/approve", "bounties", "partners.write"},
	{"POST /api/bounties/{bountyId}/submissions/{submissionId}/reject", "bounties", "partners.write"},
	{"GET /api/discount-codes", "discount codes", "partners.read"},
	{"POST /api/discount-codes", "discount codes", "partners.write"},
	{"DELETE /api/discount-codes/{idOrCode}", "discount codes", "partners.write"},
	{"GET /api/partners/applications", "partner applications", "partners.read"},
	{"POST /api/partners/applications/approve", "partner applications", "partners.write"},
	{"POST /api/partners/applications/reject", "partner applications", "partners.write"},
	{"POST /api/partners/ban", "partner bans", "partners.write"},
	{"POST /api/partners/deactivate", "partner deactivation", "partners.write"},
	{"DELETE /api/customers/{id}", "customer deletion", "conversions.write"},
}

// notOffered answers one route of NotOffered.
func notOffered(feature string) handlerFunc {
	return func(http.ResponseWriter, *http.Request) error {
		return apiError(http.StatusNotImplemented, "not_implemented",
			"%s: not offered by codeqr (a Dub API feature codeqr does not have; see the README's Dub compatibility table)", feature)
	}
}
