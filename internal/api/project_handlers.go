package api

import (
	"net/http"

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
	p, err := s.Projects.Change(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.Projects.ListKeys(r.Context(), projectOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keys)
	return nil
}

// createKey answers the new key with its secret: the only time it is shown.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var req projects.NewKey
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	grantor := keyOf(r)
	k, err := s.Projects.CreateKey(r.Context(), projectOf(r), req, &grantor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.Projects.RevokeKey(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
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
