package api

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/domains"
)

func (s *Server) createDomain(w http.ResponseWriter, r *http.Request) error {
	var req domains.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	d, err := s.Domains.Create(r.Context(), projectOf(r), s.Config.BaseDomain(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request) error {
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	ds, err := s.Domains.List(r.Context(), projectOf(r), page, pageSize)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ds)
	return nil
}

func (s *Server) deleteDomain(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.Domains.Delete(r.Context(), projectOf(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}
