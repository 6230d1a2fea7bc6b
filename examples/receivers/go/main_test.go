package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testserver"
)

// The example's handler accepts a real signed delivery from the deliverer,
// calls handle once, and refuses a tampered copy of it.
func TestReceiverAcceptsRealDelivery(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		srv := testserver.Start(t, st)
		hookID, secret := srv.CreateWebhook(t, "https://example.com/placeholder")
		var (
			mu  sync.Mutex
			got []event
		)
		recv := httptest.NewServer(newHandler(secret, func(e event) {
			mu.Lock()
			got = append(got, e)
			mu.Unlock()
		}))
		t.Cleanup(recv.Close)
		srv.SetURL(t, hookID, recv.URL+"/hook")

		eventID, status, sent := srv.CreateLink(t, hookID)
		if status != http.StatusNoContent {
			t.Fatalf("real delivery answered %d", status)
		}
		mu.Lock()
		if len(got) != 1 || got[0].ID != eventID || got[0].Event != "link.created" || len(got[0].Data) == 0 {
			t.Fatalf("handled %+v, want %s", got, eventID)
		}
		mu.Unlock()

		body := srv.Payload(t, eventID)
		post := func(b []byte) int {
			req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(b))
			req.Header = sent.Clone()
			rec := httptest.NewRecorder()
			newHandler(secret, func(event) {}).ServeHTTP(rec, req)
			return rec.Code
		}
		if code := post(body); code != http.StatusNoContent {
			t.Fatalf("the same delivery replayed at once: %d", code)
		}
		if code := post(bytes.Replace(body, []byte("link.created"), []byte("link.deleted"), 1)); code != http.StatusUnauthorized {
			t.Fatalf("tampered body: %d", code)
		}
	})
}
