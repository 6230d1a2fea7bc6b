package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// MaxBodyBytes bounds every request body; larger bodies get 413.
const MaxBodyBytes = 1 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads one JSON value into dst. Unknown fields are refused, so a
// misspelt field is an error rather than silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return badRequest("Content-Type must be application/json")
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge("request body is larger than %d bytes", MaxBodyBytes)
		}
		return badRequest("request body must hold exactly one JSON value")
	}
	return nil
}

// DecodeJSONBytes is decodeJSON for a body already in memory (used by fuzz tests
// and bulk endpoints).
func DecodeJSONBytes(data []byte, dst any) error {
	if len(data) > MaxBodyBytes {
		return tooLarge("request body is larger than %d bytes", MaxBodyBytes)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("request body must hold exactly one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var (
		mbe    *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge("request body is larger than %d bytes", MaxBodyBytes)
	case errors.Is(err, io.EOF):
		return badRequest("request body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("request body is not valid JSON: %v", err)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return badRequest("field %q must be %s, not %s", typ.Field, typ.Type.String(), typ.Value)
		}
		return badRequest("request body must be %s, not %s", typ.Type.String(), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return badRequest("request body could not be read: %v", err)
	}
}

// pagination reads page (1-based) and pageSize (default 50, max 100).
func pagination(r *http.Request) (page, pageSize int, err error) {
	page, pageSize = 1, 50
	if v := r.URL.Query().Get("page"); v != "" {
		page, err = strconv.Atoi(v)
		if err != nil || page < 1 || page > 1_000_000 {
			return 0, 0, badRequest("page must be a whole number from 1")
		}
	}
	if v := r.URL.Query().Get("pageSize"); v != "" {
		pageSize, err = strconv.Atoi(v)
		if err != nil || pageSize < 1 || pageSize > 100 {
			return 0, 0, badRequest("pageSize must be a whole number from 1 to 100")
		}
	}
	return page, pageSize, nil
}

// queryBool parses an optional boolean query parameter.
func queryBool(r *http.Request, name string) (*bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, badRequest("%s must be true or false", name)
	}
	return &b, nil
}

// queryList reads a list query parameter given as a,b,c or repeated
// (name=a&name=b), as Dub's clients send either; empty items are dropped.
func queryList(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}
