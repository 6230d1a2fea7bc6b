// Package patch has the one type PATCH requests need and pointers cannot give:
// a field that tells "absent" (leave it alone) from "null" (clear it) from a
// value (set it).
package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Field is one PATCH field.
//
//   - absent: Set == false (UnmarshalJSON is never called)
//   - null:   Set == true, Null == true
//   - value:  Set == true, Null == false, Value holds it
type Field[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// Some returns a present, non-null field (for callers that build requests in Go).
func Some[T any](v T) Field[T] { return Field[T]{Set: true, Value: v} }

// Null returns a present field that clears.
func Null[T any]() Field[T] { return Field[T]{Set: true, Null: true} }

// Has reports a present, non-null value.
func (f Field[T]) Has() bool { return f.Set && !f.Null }

// UnmarshalJSON records presence (encoding/json calls it for null too, which is
// how null is told from absence) and decodes the value with unknown fields
// refused, like every request body: the outer decoder's setting does not reach
// through a custom UnmarshalJSON.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	f.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		f.Null = true
		var zero T
		f.Value = zero
		return nil
	}
	f.Null = false
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f.Value); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// MarshalJSON writes null when absent or null, else the value.
func (f Field[T]) MarshalJSON() ([]byte, error) {
	if !f.Set || f.Null {
		return []byte("null"), nil
	}
	return json.Marshal(f.Value)
}
