package api

import "net/http"

// errTODO marks a route whose handler has not landed yet. It must be gone before
// the foundation issue is called done.
var errTODO = apiError(http.StatusNotImplemented, "internal_server_error", "not implemented yet")
