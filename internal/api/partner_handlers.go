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
	ps, err := s.Partners.List(r.Context(), projectOf(r), partners.ListOptions{Page: page, PageSize: pageSize, Status: r.URL.Query().Get("status")})
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
