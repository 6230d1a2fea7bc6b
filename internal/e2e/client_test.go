package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// client speaks JSON to the REST API with one key.
type client struct {
	t    *testing.T
	base string
	key  string
	hc   *http.Client
}

func newClient(t *testing.T, base, key string) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: base, key: key, hc: &http.Client{Transport: tr, Timeout: 15 * time.Second}}
}

// do sends one request; body (may be nil) is marshalled as JSON. It returns the
// status and raw body, or a transport error (which tests of crashes expect).
func (c *client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// must sends a request, fails the test unless the status is want, and decodes
// the answer into a generic JSON value.
func (c *client) must(method, path string, body any, want int) obj {
	c.t.Helper()
	status, raw, err := c.do(context.Background(), method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	var v any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			c.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return obj{v}
}

// obj wraps a decoded JSON value with terse accessors for assertions.
type obj struct{ v any }

func (o obj) get(path ...string) obj {
	v := o.v
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return obj{nil}
		}
		v = m[p]
	}
	return obj{v}
}

func (o obj) str(path ...string) string {
	s, _ := o.get(path...).v.(string)
	return s
}

func (o obj) has(field string) bool {
	m, ok := o.v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[field]
	return ok
}

func (o obj) list() []obj {
	a, _ := o.v.([]any)
	out := make([]obj, len(a))
	for i, v := range a {
		out[i] = obj{v}
	}
	return out
}

func (o obj) String() string {
	b, _ := json.Marshal(o.v)
	return string(b)
}

// listAll pages through a list endpoint (pageSize 100) and returns every item.
func (c *client) listAll(path string) []obj {
	c.t.Helper()
	var all []obj
	for page := 1; ; page++ {
		items := c.must(http.MethodGet, fmt.Sprintf("%s?page=%d&pageSize=100", path, page), nil, http.StatusOK).list()
		all = append(all, items...)
		if len(items) < 100 {
			return all
		}
	}
}
