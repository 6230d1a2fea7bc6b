package tracking

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 26, 18, 4, 11, 233_456_789, time.UTC)

func newTestEnricher(t testing.TB, opts Options) *Enricher {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func newRequest(method, remoteAddr, ua string) *http.Request {
	r := httptest.NewRequest(method, "http://go.example.com/spring", nil)
	r.RemoteAddr = remoteAddr
	r.Header.Del("User-Agent")
	if ua != "" {
		r.Header.Set("User-Agent", ua)
	}
	return r
}

// assertNoEmptyStrings enforces the contract rule that every string field of
// an Interaction is set ("Unknown" rather than ""), except url, which the
// caller fills, and ua, which is the raw header.
func assertNoEmptyStrings(t testing.TB, in Interaction) {
	t.Helper()
	v := reflect.ValueOf(in)
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Type.Kind() != reflect.String || f.Name == "URL" || f.Name == "UA" {
			continue
		}
		if v.Field(i).String() == "" {
			t.Errorf("%s is empty", f.Name)
		}
	}
}
