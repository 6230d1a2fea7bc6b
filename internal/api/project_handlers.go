package api

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/tags"
)

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Projects.Get(r.Context(), projectOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request) error {
	var req projects.Update
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Slug != nil && !projects.ValidSlug(*req.Slug) {
		return errs.Invalid("slug must be 1-48 characters of a-z, 0-9 and -")
	}
	if req.Name != nil && (*req.Name == "" || len(*req.Name) > 100) {
		return errs.Invalid("name must be 1 to 100 characters")
	}
	if req.OwnerEmail != nil && *req.OwnerEmail != "" && !validEmail(*req.OwnerEmail) {
		return errs.Invalid("ownerEmail is not an e-mail address")
	}
	p, err := s.Projects.Modify(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) createTag(w http.ResponseWriter, r *http.Request) error {
	var req tags.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := s.Tags.Create(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) listTags(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Tags.List(r.Context(), projectOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

func (s *Server) updateTag(w http.ResponseWriter, r *http.Request) error {
	var req tags.UpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := s.Tags.Update(r.Context(), projectOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) deleteTag(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.Tags.Delete(r.Context(), projectOf(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}

func validEmail(s string) bool {
	at := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			at = i
		}
		if s[i] <= ' ' {
			return false
		}
	}
	return at > 0 && at < len(s)-3 && len(s) <= 254
}
