package api

import "net/http"

// NotOffered lists the routes of Dub's API for features codeqr does not have.
// They answer 501 not_implemented in the documented error format (rather than
// the generic 404 of an unknown route), so that a client written against
// Dub's SDK learns at once which feature is missing. The README's
// compatibility table lists the same methods.
var NotOffered = []struct{ Pattern, Feature string }{
	{"GET /api/folders", "folders"},
	{"POST /api/folders", "folders"},
	{"PATCH /api/folders/{id}", "folders"},
	{"DELETE /api/folders/{id}", "folders"},
	{"POST /api/domains/register", "domain registration"},
	{"GET /api/domains/status", "domain registration"},
	{"POST /api/tokens/embed/referrals", "embed tokens"},
	{"GET /api/commissions", "commissions"},
	{"POST /api/commissions", "commissions"},
	{"PATCH /api/commissions/{id}", "commissions"},
	{"PATCH /api/commissions/bulk", "commissions"},
	{"GET /api/payouts", "payouts"},
	{"GET /api/bounties/{bountyId}/submissions", "bounties"},
	{"POST /api/bounties/{bountyId}/submissions/{submissionId}/approve", "bounties"},
	{"POST /api/bounties/{bountyId}/submissions/{submissionId}/reject", "bounties"},
	{"GET /api/discount-codes", "discount codes"},
	{"POST /api/discount-codes", "discount codes"},
	{"DELETE /api/discount-codes/{idOrCode}", "discount codes"},
	{"GET /api/partners/applications", "partner applications"},
	{"POST /api/partners/applications/approve", "partner applications"},
	{"POST /api/partners/applications/reject", "partner applications"},
	{"POST /api/partners/ban", "partner bans"},
	{"POST /api/partners/deactivate", "partner deactivation"},
	{"DELETE /api/customers/{id}", "customer deletion"},
}

// notOffered answers one route of NotOffered.
func notOffered(feature string) handlerFunc {
	return func(http.ResponseWriter, *http.Request) error {
		return apiError(http.StatusNotImplemented, "not_implemented",
			"%s: not offered by codeqr (a Dub API feature codeqr does not have; see the README's Dub compatibility table)", feature)
	}
}
