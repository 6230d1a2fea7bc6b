package pages

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Optional is a PATCH field that tells "absent" from "null" from a value,
// which a pointer cannot: absent leaves the field unchanged, null clears it
// (where the field allows that), a value sets it.
//
//   - absent: Present == false (UnmarshalJSON is never called)
//   - null:   Present == true, Null == true
//   - value:  Present == true, Null == false, Value holds it
//
// The value is decoded with unknown fields refused, like every request body,
// because the decoder's own setting does not reach through a custom
// UnmarshalJSON.
type Optional[T any] struct {
	Present bool
	Null    bool
	Value   T
}

// Some returns an Optional holding v (for callers that build requests in Go).
func Some[T any](v T) Optional[T] { return Optional[T]{Present: true, Value: v} }

// Null returns an Optional that is present and null.
func Null[T any]() Optional[T] { return Optional[T]{Present: true, Null: true} }

// UnmarshalJSON records presence and decodes the value strictly.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Present = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		var zero T
		o.Value = zero
		return nil
	}
	o.Null = false
	return strictUnmarshal(b, &o.Value)
}

// MarshalJSON writes null or the value (absent fields cannot be omitted by
// encoding/json for a struct type, so they also come out as null).
func (o Optional[T]) MarshalJSON() ([]byte, error) {
	if !o.Present || o.Null {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

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
