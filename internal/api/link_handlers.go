package api

import (
	"net/http"

	"github.com/codeqr/codeqr/internal/links"
)

// createLink: POST /api/links, body links.CreateRequest → 200 Link (Dub's status).
func (s *Server) createLink(w http.ResponseWriter, r *http.Request) error {
	var req links.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := s.Links.Create(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// listLinks: GET /api/links?search=&tagId=&tagIds=&tagNames=&folderId=&domain=
// &archived=&showArchived=&startingAfter=&endingBefore=&page=&pageSize= → 200 [Link].
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) error {
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	o, err := linkFilter(r)
	if err != nil {
		return err
	}
	o.Page, o.PageSize = page, pageSize
	q := r.URL.Query()
	o.StartingAfter, o.EndingBefore = q.Get("startingAfter"), q.Get("endingBefore")
	out, err := s.Links.List(r.Context(), projectOf(r), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// countLinks: GET /api/links/count?<the filters of listLinks>&groupBy= → 200
// n, or 200 [{<groupBy>: value, "_count": n}] with groupBy.
func (s *Server) countLinks(w http.ResponseWriter, r *http.Request) error {
	o, err := linkFilter(r)
	if err != nil {
		return err
	}
	if g := r.URL.Query().Get("groupBy"); g != "" {
		rows, err := s.Links.CountBy(r.Context(), projectOf(r), o, g)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, rows)
		return nil
	}
	n, err := s.Links.Count(r.Context(), projectOf(r), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

// linkFilter reads the filters that list and count share. showArchived is
// Dub's: false (the SDK's default) leaves archived links out, true keeps them;
// archived=true|false keeps only archived or only active links. Without
// either, every link is listed. withTags is accepted: tags are always given.
func linkFilter(r *http.Request) (links.ListOptions, error) {
	q := r.URL.Query()
	archived, err := queryBool(r, "archived")
	if err != nil {
		return links.ListOptions{}, err
	}
	show, err := queryBool(r, "showArchived")
	if err != nil {
		return links.ListOptions{}, err
	}
	if _, err := queryBool(r, "withTags"); err != nil {
		return links.ListOptions{}, err
	}
	if archived == nil && show != nil && !*show {
		f := false
		archived = &f
	}
	return links.ListOptions{
		Search: q.Get("search"), TagID: q.Get("tagId"), Domain: q.Get("domain"),
		TagIDs: queryList(r, "tagIds"), TagNames: queryList(r, "tagNames"),
		FolderID: q.Get("folderId"), TenantID: q.Get("tenantId"), UserID: q.Get("userId"),
		Archived: archived,
	}, nil
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

// upsertLink: PUT /api/links/upsert, body links.CreateRequest → 200 Link,
// whether an existing link matched (see links.Service.Upsert) or one was
// created (Dub answers 200 both ways).
func (s *Server) upsertLink(w http.ResponseWriter, r *http.Request) error {
	var req links.CreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, _, err := s.Links.Upsert(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// bulkCreateLinks: POST /api/links/bulk, body [links.CreateRequest] (≤100) → 200 [Link].
func (s *Server) bulkCreateLinks(w http.ResponseWriter, r *http.Request) error {
	var reqs []links.CreateRequest
	if err := decodeJSON(w, r, &reqs); err != nil {
		return err
	}
	out, err := s.Links.BulkCreate(r.Context(), projectOf(r), reqs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
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
	if ids := queryList(r, "linkIds"); len(ids) > 0 {
		req.LinkIDs = ids
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

// deleteLink: DELETE /api/links/{id} (or ext_<externalId}) → 200 {"id": id}.
func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request) error {
	id, err := s.Links.DeleteRef(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}
