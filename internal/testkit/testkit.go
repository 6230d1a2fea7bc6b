// Package testkit holds the small helpers the tests of many packages share:
// waiting for a condition with a deadline, sending HTTP requests to a test
// server, and reading the documented error body (docs/errors.md). It is test
// support only.
package testkit

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Wait polls cond every few milliseconds until it holds and returns how long
// that took; when timeout passes first, the test fails naming what it waited
// for.
func Wait(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// NoRedirects is a client that returns redirects instead of following them,
// with a deadline on every request.
func NoRedirects() *http.Client {
	return &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Request describes one request for Do. Empty fields are left out.
type Request struct {
	Method string // default GET
	URL    string
	Key    string // sent as Authorization: Bearer <Key>
	Body   string // sent as application/json unless Header sets Content-Type
	Host   string
	Header map[string]string // a value "" deletes the header
}

// Do sends r with c (nil: http.DefaultClient) and returns the response, whose
// body has been read into the returned bytes and closed.
func Do(t testing.TB, c *http.Client, r Request) (*http.Response, []byte) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, r.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.Key != "" {
		req.Header.Set("Authorization", "Bearer "+r.Key)
	}
	if r.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Host != "" {
		req.Host = r.Host
	}
	for k, v := range r.Header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.Method, r.URL, err)
	}
	return resp, b
}

// API sends an authenticated JSON request and returns the status and body.
func API(t testing.TB, c *http.Client, method, url, key, body string) (int, []byte) {
	t.Helper()
	resp, b := Do(t, c, Request{Method: method, URL: url, Key: key, Body: body})
	return resp.StatusCode, b
}

// ErrorBody is the documented error body of the API.
type ErrorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		DocURL  string            `json:"doc_url"`
		Fields  map[string]string `json:"fields,omitempty"`
	} `json:"error"`
}

// DecodeError decodes body as an ErrorBody, failing the test if it is not one.
func DecodeError(t testing.TB, body []byte) ErrorBody {
	t.Helper()
	var e ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not an error body (%v): %s", err, body)
	}
	return e
}

// WantError checks that a response is the documented error of status and
// code: a message, and a doc_url pointing at the code's section.
func WantError(t testing.TB, status int, body []byte, wantStatus int, wantCode string) ErrorBody {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
	}
	e := DecodeError(t, body)
	if e.Error.Code != wantCode || e.Error.Message == "" || !strings.HasSuffix(e.Error.DocURL, "#"+wantCode) {
		t.Fatalf("error body %s, want code %q with a message and its doc_url", body, wantCode)
	}
	return e
}
