package qrcodes

import (
	"bytes"
	"encoding/json"
)

// Optional is a PATCH field: it tells "absent" (Set false) from "null" (Set
// and Null) from a value, which a pointer cannot.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// Some is a present, non-null value.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }

// Null is an explicit null.
func Null[T any]() Optional[T] { return Optional[T]{Set: true, Null: true} }

// UnmarshalJSON records that the field was present. encoding/json calls it
// for null too, which is how null is told from absence.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		var zero T
		o.Value = zero
		return nil
	}
	o.Null = false
	return json.Unmarshal(b, &o.Value)
}

// MarshalJSON writes the value, or null when absent or null.
func (o Optional[T]) MarshalJSON() ([]byte, error) {
	if !o.Set || o.Null {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

// Has reports a present, non-null value.
func (o Optional[T]) Has() bool { return o.Set && !o.Null }
