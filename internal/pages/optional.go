package pages

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/codeqr/codeqr/internal/patch"
)

// Optional is a PATCH field: absent leaves it alone, null clears it, a value
// sets it (see internal/patch).
type Optional[T any] = patch.Field[T]

// Some returns a present, non-null Optional.
func Some[T any](v T) Optional[T] { return patch.Some(v) }

// Null returns a present Optional that clears the field.
func Null[T any]() Optional[T] { return patch.Null[T]() }

// strictUnmarshal decodes one JSON value into dst, refusing unknown fields.
func strictUnmarshal(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("pages: trailing data after JSON value")
	}
	return nil
}
