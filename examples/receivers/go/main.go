// Command receiver is a minimal codeqr webhook receiver in Go.
//
//	CODEQR_WEBHOOK_SECRET=whsec_… PORT=3000 go run ./examples/receivers/go
//
// It accepts POST /hook, verifies the signature with the webhookverify
// package (Standard Webhooks headers with a 5-minute timestamp tolerance, or
// CodeQR-Signature), ignores events it has already seen (deliveries are at
// least once), and answers 204 quickly: do slow work after answering.
package main

import (
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"

	"github.com/codeqr/codeqr/webhookverify"
)

// maxBody bounds what the receiver reads; codeqr payloads are far smaller.
const maxBody = 1 << 20

// event is the envelope every codeqr delivery has.
type event struct {
	ID    string          `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// newHandler returns the webhook endpoint. handle is called once per event.
func newHandler(secret string, handle func(event)) http.Handler {
	var (
		mu   sync.Mutex
		seen = map[string]bool{} // use a table with a unique key in production
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		// Verify the raw bytes, before any parsing.
		if err := webhookverify.Verify(secret, r.Header, body); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var e event
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, "invalid JSON", http.StatusBadRequest)
			return
		}
		mu.Lock()
		dup := seen[e.ID]
		seen[e.ID] = true
		mu.Unlock()
		if !dup {
			handle(e)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func main() {
	secret := os.Getenv("CODEQR_WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("set CODEQR_WEBHOOK_SECRET to the webhook's signing secret (whsec_…)")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	mux := http.NewServeMux()
	mux.Handle("/hook", newHandler(secret, func(e event) {
		log.Printf("verified %s %s", e.Event, e.ID)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
