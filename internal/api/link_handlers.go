package api

import (
	"net/http"
	"strings"

	"github.com/codeqr/codeqr/internal/links"
)

// createLink: POST /api/links, body links.CreateRequest → 201 Link.
func (s *Server) createLink(w http.ResponseWriter, r *http.Request) error {
	var req links.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := s.Links.Create(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

// listLinks: GET /api/links?search=&tagId=&domain=&archived=&page=&pageSize= → 200 [Link].
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) error {
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	archived, err := queryBool(r, "archived")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	out, err := s.Links.List(r.Context(), projectOf(r), links.ListOptions{
		Search: q.Get("search"), TagID: q.Get("tagId"), Domain: q.Get("domain"),
		Archived: archived, Page: page, PageSize: pageSize,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// linkInfo: GET /api/links/info?linkId=|externalId=|domain=&key= → 200 Link.
func (s *Server) linkInfo(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	l, err := s.Links.Info(r.Context(), projectOf(r), links.InfoQuery{
		LinkID: q.Get("linkId"), ExternalID: q.Get("externalId"), Domain: q.Get("domain"), Key: q.Get("key"),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// upsertLink: PUT /api/links/upsert, body links.CreateRequest → 200 Link when
// an existing link matched (see links.Service.Upsert), 201 Link when created.
func (s *Server) upsertLink(w http.ResponseWriter, r *http.Request) error {
	var req links.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, created, err := s.Links.Upsert(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, l)
	return nil
}

// bulkCreateLinks: POST /api/links/bulk, body [links.CreateRequest] (≤100) → 201 [Link].
func (s *Server) bulkCreateLinks(w http.ResponseWriter, r *http.Request) error {
	var reqs []links.CreateRequest
	if err := decodeJSON(w, r, &reqs); err != nil {
		return err
	}
	out, err := s.Links.BulkCreate(r.Context(), projectOf(r), reqs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// BulkUpdateLinksRequest is the body of PATCH /api/links/bulk.
type BulkUpdateLinksRequest struct {
	LinkIDs []string            `json:"linkIds"`
	Data    links.UpdateRequest `json:"data"`
}

// bulkUpdateLinks: PATCH /api/links/bulk, body {"linkIds": [...], "data": UpdateRequest} → 200 [Link].
func (s *Server) bulkUpdateLinks(w http.ResponseWriter, r *http.Request) error {
	var req BulkUpdateLinksRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	out, err := s.Links.BulkUpdate(r.Context(), projectOf(r), req.LinkIDs, req.Data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// BulkDeleteLinksRequest is the optional body of DELETE /api/links/bulk.
type BulkDeleteLinksRequest struct {
	LinkIDs []string `json:"linkIds"`
}

// bulkDeleteLinks: DELETE /api/links/bulk?linkIds=a,b,c (or body {"linkIds": [...]})
// → 200 {"deletedCount": n}.
func (s *Server) bulkDeleteLinks(w http.ResponseWriter, r *http.Request) error {
	var req BulkDeleteLinksRequest
	if q := r.URL.Query().Get("linkIds"); q != "" {
		req.LinkIDs = strings.Split(q, ",")
	} else if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	n, err := s.Links.BulkDelete(r.Context(), projectOf(r), req.LinkIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"deletedCount": n})
	return nil
}

// getLink: GET /api/links/{id} → 200 Link.
func (s *Server) getLink(w http.ResponseWriter, r *http.Request) error {
	l, err := s.Links.Get(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// updateLink: PATCH /api/links/{id}, body links.UpdateRequest → 200 Link.
func (s *Server) updateLink(w http.ResponseWriter, r *http.Request) error {
	var req links.UpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := s.Links.Update(r.Context(), projectOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// deleteLink: DELETE /api/links/{id} → 200 {"id": id}.
func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.Links.Delete(r.Context(), projectOf(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}
