package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// delivery is one request the receiver got.
type delivery struct {
	Body   []byte
	Header http.Header
	At     time.Time
	// Status is what the receiver answered.
	Status int
}

// eventID is the envelope id of the delivery ("" if the body is not JSON).
func (d delivery) eventID() string {
	var e struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(d.Body, &e)
	return e.ID
}

// receiver is a real webhook endpoint that records every request. It can be told
// to fail the next requests or to answer slowly.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	got      []delivery
	failNext int
	delay    time.Duration
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is where webhooks should point.
func (r *receiver) URL() string { return r.srv.URL + "/hook" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 4<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	delay := r.delay
	status := http.StatusOK
	if r.failNext > 0 {
		r.failNext--
		status = http.StatusInternalServerError
	}
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return // the sender went away (e.g. was killed): not a delivery
		}
	}
	r.mu.Lock()
	r.got = append(r.got, delivery{Body: body, Header: req.Header.Clone(), At: time.Now(), Status: status})
	r.mu.Unlock()
	w.WriteHeader(status)
}

// failNextN makes the next n requests answer 500.
func (r *receiver) failNextN(n int) {
	r.mu.Lock()
	r.failNext = n
	r.mu.Unlock()
}

// setDelay makes every request take d before it is answered.
func (r *receiver) setDelay(d time.Duration) {
	r.mu.Lock()
	r.delay = d
	r.mu.Unlock()
}

// all returns a copy of every delivery so far, in arrival order.
func (r *receiver) all() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// eventIDs is the set of event ids received with a 2xx answer.
func (r *receiver) eventIDs() map[string]int {
	out := map[string]int{}
	for _, d := range r.all() {
		if d.Status/100 == 2 {
			out[d.eventID()]++
		}
	}
	return out
}
