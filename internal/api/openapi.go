package api

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3 description of every /api route. It is written
// by hand and kept true by TestOpenAPIMatchesRoutes, which fails when a route
// in Handler() and a path in the document disagree, or when a schema's fields
// drift from the Go type's wire names.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI is GET /api/openapi.json: public, so tools can fetch it without a
// key, and cacheable, as it only changes with the binary.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(openAPIDoc)
	return nil
}
