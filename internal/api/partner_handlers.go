package api

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/partners"
)

func (s *Server) createPartner(w http.ResponseWriter, r *http.Request) error {
	var req partners.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p, err := s.Partners.Create(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) listPartners(w http.ResponseWriter, r *http.Request) error {
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	ps, err := s.Partners.List(r.Context(), projectOf(r), partners.ListOptions{Page: page, PageSize: pageSize, Status: q.Get("status"),
		Email: q.Get("email"), TenantID: q.Get("tenantId"), Country: q.Get("country"), Search: q.Get("search")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

func (s *Server) getPartner(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Partners.Get(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) approvePartner(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Partners.Approve(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) createPartnerLink(w http.ResponseWriter, r *http.Request) error {
	var req partners.LinkRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := s.Partners.AddLink(r.Context(), projectOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

// partnerLinks: GET /api/partners/links?partnerId=|tenantId= → 200 [LinkSummary] (Dub's retrieveLinks).
func (s *Server) partnerLinks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ls, err := s.Partners.Links(r.Context(), projectOf(r), q.Get("partnerId"), q.Get("tenantId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ls)
	return nil
}

// createPartnerLinkByBody: POST /api/partners/links, body partners.LinkRequest
// naming the partner by partnerId or tenantId → 201 Link (Dub's createLink).
func (s *Server) createPartnerLinkByBody(w http.ResponseWriter, r *http.Request) error {
	var req partners.LinkRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := s.Partners.CreateLink(r.Context(), projectOf(r), "", req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

// upsertPartnerLink: PUT /api/partners/links/upsert, body partners.LinkRequest → 200 Link.
func (s *Server) upsertPartnerLink(w http.ResponseWriter, r *http.Request) error {
	var req partners.LinkRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := s.Partners.UpsertLink(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// partnerAnalytics: GET /api/partners/analytics?partnerId=|tenantId=&groupBy=count|top_links → 200.
func (s *Server) partnerAnalytics(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	out, err := s.Partners.Analytics(r.Context(), projectOf(r), q.Get("partnerId"), q.Get("tenantId"), q.Get("groupBy"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
