package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/store"
)

// docBase is where each error code is explained (docs/errors.md in this repo).
const docBase = "https://github.com/codeqr/codeqr/blob/main/docs/errors.md#"

// Error is an API failure: an HTTP status and the documented code and message.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, in seconds, is sent as Retry-After when not zero.
	RetryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func apiError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *Error {
	return apiError(http.StatusBadRequest, "bad_request", format, args...)
}

func unauthorized(format string, args ...any) *Error {
	return apiError(http.StatusUnauthorized, "unauthorized", format, args...)
}

func forbidden(format string, args ...any) *Error {
	return apiError(http.StatusForbidden, "forbidden", format, args...)
}

func notFound(format string, args ...any) *Error {
	return apiError(http.StatusNotFound, "not_found", format, args...)
}

func unprocessable(format string, args ...any) *Error {
	return apiError(http.StatusUnprocessableEntity, "unprocessable_entity", format, args...)
}

func tooLarge(format string, args ...any) *Error {
	return apiError(http.StatusRequestEntityTooLarge, "payload_too_large", format, args...)
}

// rateLimited is a 429; d's headers (Retry-After among them) are already set.
func rateLimited(format string, args ...any) *Error {
	return apiError(http.StatusTooManyRequests, "rate_limit_exceeded", format, args...)
}

// unavailable is a 503: the request may well work after retryAfter seconds.
func unavailable(retryAfter int, format string, args ...any) *Error {
	e := apiError(http.StatusServiceUnavailable, "service_unavailable", format, args...)
	e.RetryAfter = retryAfter
	return e
}

// dbRetryAfter is the Retry-After of a 503 for an unreachable database.
const dbRetryAfter = 5

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		DocURL  string `json:"doc_url"`
	} `json:"error"`
}

// toAPIError maps any error to the documented shape. Unexpected errors become a
// 500 whose message says nothing about internals.
func toAPIError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var de *errs.Error
	if errors.As(err, &de) {
		switch de.Kind {
		case errs.KindInvalid:
			return unprocessable("%s", de.Message)
		case errs.KindBadInput:
			return badRequest("%s", de.Message)
		case errs.KindConflict:
			return apiError(http.StatusConflict, "conflict", "%s", de.Message)
		case errs.KindNotFound:
			return notFound("%s", de.Message)
		case errs.KindForbidden:
			return forbidden("%s", de.Message)
		case errs.KindTooLarge:
			return tooLarge("%s", de.Message)
		}
	}
	if errs.KindOf(err) == errs.KindNotFound {
		return notFound("not found")
	}
	if errors.Is(err, qrcodes.ErrRendererBusy) {
		return unavailable(1, "the QR renderer is busy; try again in a moment")
	}
	if store.IsUnavailable(err) {
		return unavailable(dbRetryAfter, "the database is unreachable; try again in a moment")
	}
	return apiError(http.StatusInternalServerError, "internal_server_error", "the server failed to handle this request")
}

// writeError sends err in the documented format and logs server failures once.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae.Status >= 500 {
		level := slog.LevelError
		switch {
		case errors.Is(err, context.Canceled):
			level = slog.LevelDebug
		case ae.Status == http.StatusServiceUnavailable:
			level = slog.LevelWarn // overload or an outage, logged where it starts
		}
		s.logger.Log(r.Context(), level, "api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.RetryAfter))
	}
	var body errorBody
	body.Error.Code = ae.Code
	body.Error.Message = ae.Message
	body.Error.DocURL = docBase + ae.Code
	writeJSON(w, ae.Status, body)
}
