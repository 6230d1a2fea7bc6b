// Package errs lets domain packages say what kind of failure happened without
// knowing about HTTP: the api package turns each kind into the documented status
// and error code, in one place.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies a failure the caller can do something about.
type Kind int

// The kinds, with the HTTP status the API gives them.
const (
	KindInvalid   Kind = iota + 1 // 422 unprocessable_entity
	KindBadInput                  // 400 bad_request
	KindConflict                  // 409 conflict
	KindNotFound                  // 404 not_found
	KindForbidden                 // 403 forbidden
	KindTooLarge                  // 413 payload_too_large
)

// Error is a failure with a message meant for the API user.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

// Invalid is a validation failure (well-formed input that breaks a rule).
func Invalid(format string, args ...any) error {
	return &Error{Kind: KindInvalid, Message: fmt.Sprintf(format, args...)}
}

// BadInput is input that cannot be read at all (bad JSON, wrong types).
func BadInput(format string, args ...any) error {
	return &Error{Kind: KindBadInput, Message: fmt.Sprintf(format, args...)}
}

// Conflict is a clash with existing data (a taken key, a duplicate external id).
func Conflict(format string, args ...any) error {
	return &Error{Kind: KindConflict, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a missing resource, also one that belongs to another project.
func NotFound(format string, args ...any) error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf(format, args...)}
}

// TooLarge is input over a size limit.
func TooLarge(format string, args ...any) error {
	return &Error{Kind: KindTooLarge, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is the bare "not found" of a lookup that has no better message.
// The store returns it (as store.ErrNotFound) for a missing row, so this
// package needs to know nothing of the store.
var ErrNotFound error = &Error{Kind: KindNotFound, Message: "not found"}

// KindOf returns the kind of err, and 0 for unexpected errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}
