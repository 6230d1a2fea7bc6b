package webhookverify_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/codeqr/codeqr/webhookverify"
)

// The secret shown when the webhook was created (POST /api/webhooks), and one
// delivery exactly as the server sent it: the raw body and its signature
// headers. The Standard Webhooks signature was made by the public Standard
// Webhooks library, not by codeqr's own code.
const (
	exampleSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="
	exampleBody      = `{"id":"evt_2Jx9Qm4","event":"link.created","createdAt":"2026-11-27T09:30:00.000Z","data":{"link":{"id":"link_8fK2","key":"spring"}}}`
	exampleID        = "evt_2Jx9Qm4"
	exampleTimestamp = "1795771800" // 2026-11-27T09:30:00Z
	exampleStandard  = "v1,UcvCthHPMUu/tasgdxxY531OarZ27iNHnYY9OZ5KOKU="
	exampleCodeQR    = "975adcfb16353765a49aa5c75975f558304dc20c78bed568ea13f706c624764e"
)

// exampleSent is the moment the delivery was sent; a receiver uses Verify,
// which reads its own clock.
var exampleSent = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// A delivery signed with the Standard Webhooks headers: webhook-id,
// webhook-timestamp and webhook-signature. The timestamp is part of what is
// signed, so a replay outside Tolerance is refused even with a valid signature.
func ExampleVerifyAt_standardWebhooks() {
	h := http.Header{}
	h.Set("webhook-id", exampleID)
	h.Set("webhook-timestamp", exampleTimestamp)
	// During a secret rotation the header carries several space-separated
	// signatures; one that matches is enough.
	h.Set("webhook-signature", "v1,c3RhbGUgc2lnbmF0dXJl "+exampleStandard)

	fmt.Println("authentic:", webhookverify.VerifyAt(exampleSecret, h, []byte(exampleBody), exampleSent.Add(2*time.Second)))

	tampered := strings.Replace(exampleBody, "spring", "autumn", 1)
	fmt.Println("tampered body:", webhookverify.VerifyAt(exampleSecret, h, []byte(tampered), exampleSent))

	err := webhookverify.VerifyAt(exampleSecret, h, []byte(exampleBody), exampleSent.Add(time.Hour))
	fmt.Println("replayed an hour later:", errors.Is(err, webhookverify.ErrTimestampTooOld))
	// Output:
	// authentic: <nil>
	// tampered body: webhookverify: signature does not match
	// replayed an hour later: true
}

// A delivery checked by the CodeQR-Signature header alone: the hex HMAC-SHA256
// of the raw body, keyed with the whole secret string. It carries no
// timestamp, so it does not protect against replays; deduplicate on the
// event's "id".
func ExampleVerifyAt_codeQRSignature() {
	h := http.Header{}
	h.Set("CodeQR-Signature", exampleCodeQR)

	fmt.Println("authentic:", webhookverify.VerifyAt(exampleSecret, h, []byte(exampleBody), exampleSent))
	fmt.Println("wrong secret:", webhookverify.VerifyAt("whsec_b3RoZXI=", h, []byte(exampleBody), exampleSent))
	fmt.Println("no signature:", webhookverify.VerifyAt(exampleSecret, http.Header{}, []byte(exampleBody), exampleSent))
	// Output:
	// authentic: <nil>
	// wrong secret: webhookverify: signature does not match
	// no signature: webhookverify: no signature headers
}

// A receiver's handler: read the raw body (before any JSON decoding, which
// would change the bytes), verify, then act on the event.
func ExampleVerify_handler() {
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if err := webhookverify.Verify(exampleSecret, r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// A forged request: a body without a signature the secret can produce.
	r := httptest.NewRequest("POST", "/hooks/codeqr", strings.NewReader(exampleBody))
	r.Header.Set("CodeQR-Signature", strings.Repeat("0", 64))
	w := httptest.NewRecorder()
	hook.ServeHTTP(w, r)
	fmt.Println("forged:", w.Code)

	// The genuine delivery (its CodeQR-Signature does not depend on the clock).
	r = httptest.NewRequest("POST", "/hooks/codeqr", strings.NewReader(exampleBody))
	r.Header.Set("CodeQR-Signature", exampleCodeQR)
	w = httptest.NewRecorder()
	hook.ServeHTTP(w, r)
	fmt.Println("genuine:", w.Code)
	// Output:
	// forged: 401
	// genuine: 204
}
