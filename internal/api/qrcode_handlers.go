package api

import (
	"net/http"
	"strings"

	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/ratelimit"
	"github.com/codeqr/codeqr/internal/tracking"
)

func (s *Server) createQRCode(w http.ResponseWriter, r *http.Request) error {
	var in qrcodes.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	q, err := s.QRCodes.Create(r.Context(), projectOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, q)
	return nil
}

func (s *Server) listQRCodes(w http.ResponseWriter, r *http.Request) error {
	page, pageSize, err := pagination(r)
	if err != nil {
		return err
	}
	archived, err := queryBool(r, "archived")
	if err != nil {
		return err
	}
	v := r.URL.Query()
	list, err := s.QRCodes.List(r.Context(), projectOf(r), qrcodes.ListFilter{
		Type: qrcodes.Type(v.Get("type")), TagID: v.Get("tagId"), Archived: archived, Search: v.Get("search"),
		Page: page, PageSize: pageSize,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) qrcodeInfo(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, err := s.QRCodes.Info(r.Context(), projectOf(r), qrcodes.InfoQuery{
		QRCodeID: v.Get("qrcodeId"), ExternalID: v.Get("externalId"), Domain: v.Get("domain"), Key: v.Get("key"),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) upsertQRCode(w http.ResponseWriter, r *http.Request) error {
	var in qrcodes.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	q, created, err := s.QRCodes.Upsert(r.Context(), projectOf(r), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, q)
	return nil
}

func (s *Server) bulkCreateQRCodes(w http.ResponseWriter, r *http.Request) error {
	var in []qrcodes.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	list, err := s.QRCodes.BulkCreate(r.Context(), projectOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, list)
	return nil
}

func (s *Server) bulkUpdateQRCodes(w http.ResponseWriter, r *http.Request) error {
	var req qrcodes.BulkUpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	list, err := s.QRCodes.BulkUpdate(r.Context(), projectOf(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) bulkDeleteQRCodes(w http.ResponseWriter, r *http.Request) error {
	var idList []string
	for _, id := range strings.Split(r.URL.Query().Get("qrcodeIds"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			idList = append(idList, id)
		}
	}
	if len(idList) == 0 {
		return badRequest("qrcodeIds is required: a comma-separated list of QR code ids")
	}
	n, err := s.QRCodes.BulkDelete(r.Context(), projectOf(r), idList)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"deletedCount": n})
	return nil
}

func (s *Server) getQRCode(w http.ResponseWriter, r *http.Request) error {
	q, err := s.QRCodes.Get(r.Context(), projectOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) updateQRCode(w http.ResponseWriter, r *http.Request) error {
	var in qrcodes.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	q, err := s.QRCodes.Update(r.Context(), projectOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) deleteQRCode(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.QRCodes.Delete(r.Context(), projectOf(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}

func (s *Server) qrcodeImage(w http.ResponseWriter, r *http.Request) error {
	f, err := qrcodes.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	img, err := s.QRCodes.Image(r.Context(), projectOf(r), r.PathValue("id"), f)
	if err != nil {
		return err
	}
	writeImage(w, f, img, "private, no-cache")
	return nil
}

// publicQR renders any text as a QR image without a key: the `image` URL of
// every code points here, so it must work from an <img> tag.
func (s *Server) publicQR(w http.ResponseWriter, r *http.Request) error {
	if s.qrLimit != nil {
		d := s.qrLimit.Allow(ratelimit.IPKey(tracking.ClientIP(r, s.Config.TrustedProxies)))
		if !d.Allowed {
			d.SetHeaders(w.Header())
			return rateLimited("more than %d QR renders in a minute from this address; retry after %d s", d.Limit, d.RetryAfterSeconds())
		}
	}
	q, err := qrcodes.ParseRenderQuery(r.URL.Query())
	if err != nil {
		return err
	}
	img, err := s.QRCodes.Render(r.Context(), q.Payload, q.Design, q.Format)
	if err != nil {
		return err
	}
	writeImage(w, q.Format, img, "public, max-age=86400")
	return nil
}

func writeImage(w http.ResponseWriter, f qrcodes.Format, img []byte, cacheControl string) {
	w.Header().Set("Content-Type", f.ContentType())
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if f == qrcodes.FormatSVG {
		// An SVG opened directly must not run anything.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(img)
}
