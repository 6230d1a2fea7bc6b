package qrcodes

import "github.com/codeqr/codeqr/internal/patch"

// Optional is a PATCH field: absent leaves it alone, null clears it, a value
// sets it (see internal/patch).
type Optional[T any] = patch.Field[T]

// Some returns a present, non-null Optional.
func Some[T any](v T) Optional[T] { return patch.Some(v) }

// Null returns a present Optional that clears the field.
func Null[T any]() Optional[T] { return patch.Null[T]() }
