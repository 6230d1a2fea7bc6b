package api

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/conversions"
)

// trackLead is POST /api/track/lead (scope conversions.write): 200 with the
// new lead, or with the existing one when (customer, eventName) was already
// tracked (Dub answers 200 both ways).
func (s *Server) trackLead(w http.ResponseWriter, r *http.Request) error {
	var req conversions.LeadRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, _, err := s.Conversions.TrackLead(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// trackSale is POST /api/track/sale (scope conversions.write): 200 with the
// new sale, or with the existing one for an invoiceId already tracked.
func (s *Server) trackSale(w http.ResponseWriter, r *http.Request) error {
	var req conversions.SaleRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	sl, _, err := s.Conversions.TrackSale(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sl)
	return nil
}

// listCustomers is GET /api/customers?externalId=&email=&page=&pageSize=
// (scope analytics.read).
func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) error {
	page, size, err := pagination(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := s.Conversions.ListCustomers(r.Context(), projectOf(r), conversions.ListOptions{
		ExternalID: q.Get("externalId"), Email: q.Get("email"), Page: page, PageSize: size})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// getCustomer is GET /api/customers/{id} (scope analytics.read).
func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Conversions.GetCustomer(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// customerActivity is GET /api/customers/{id}/activity: the customer with
// each of their leads and sales.
func (s *Server) customerActivity(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Conversions.CustomerActivity(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// updateCustomer is PATCH /api/customers/{id} (or ext_<externalId}), body
// conversions.CustomerUpdate (scope conversions.write).
func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	var req conversions.CustomerUpdate
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := s.Conversions.UpdateCustomer(r.Context(), projectOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
