package api

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/domains"
)

// createDomain: POST /api/domains, body domains.CreateRequest → 201 Domain.
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

// listDomains: GET /api/domains?archived=&search=&page=&pageSize= → 200 [Domain].
func (s *Server) listDomains(w http.ResponseWriter, r *http.Request) error {
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	archived, err := queryBool(r, "archived")
	if err != nil {
		return err
	}
	ds, err := s.Domains.List(r.Context(), projectOf(r), domains.ListOptions{
		Archived: archived, Search: r.URL.Query().Get("search"), Page: page, PageSize: pageSize,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ds)
	return nil
}

// updateDomain: PATCH /api/domains/{slug} (the slug or the id), body
// domains.UpdateRequest → 200 Domain.
func (s *Server) updateDomain(w http.ResponseWriter, r *http.Request) error {
	var req domains.UpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	d, err := s.Domains.Update(r.Context(), projectOf(r), s.Config.BaseDomain(), r.PathValue("slug"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// deleteDomain: DELETE /api/domains/{slug} (the slug or the id) → 200 {"id", "slug"}.
func (s *Server) deleteDomain(w http.ResponseWriter, r *http.Request) error {
	d, err := s.Domains.Delete(r.Context(), projectOf(r), r.PathValue("slug"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": d.ID, "slug": d.Slug})
	return nil
}
