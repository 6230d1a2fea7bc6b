package api

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/pages"
)

func (s *Server) createPage(w http.ResponseWriter, r *http.Request) error {
	var req pages.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p, err := s.Pages.Create(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) listPages(w http.ResponseWriter, r *http.Request) error {
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	published, err := queryBool(r, "published")
	if err != nil {
		return err
	}
	ps, err := s.Pages.List(r.Context(), projectOf(r), pages.ListOptions{Published: published, Page: page, PageSize: pageSize})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

func (s *Server) getPage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Pages.Get(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) updatePage(w http.ResponseWriter, r *http.Request) error {
	var req pages.UpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p, err := s.Pages.Update(r.Context(), projectOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) deletePage(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.Pages.Delete(r.Context(), projectOf(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}
