package webhookverify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/codeqr/codeqr/webhookverify"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="

// Signatures made by the public Standard Webhooks library are accepted; tampering,
// wrong secrets and stale timestamps are not.
func TestStandardSignatures(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"evt_1","event":"link.created","createdAt":"2026-11-27T00:00:00.000Z","data":{}}`)
	now := time.Now()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign("evt_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "evt_1")
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", "v1,bm9wZQ== "+sig) // a stale rotated entry first
	if err := webhookverify.VerifyAt(secret, h, body, now); err != nil {
		t.Fatalf("valid: %v", err)
	}
	if err := webhookverify.VerifyAt(secret, h, append(body, ' '), now); !errors.Is(err, webhookverify.ErrBadSignature) {
		t.Fatalf("tampered body: %v", err)
	}
	if err := webhookverify.VerifyAt("whsec_b3RoZXI=", h, body, now); !errors.Is(err, webhookverify.ErrBadSignature) {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := webhookverify.VerifyAt(secret, h, body, now.Add(10*time.Minute)); !errors.Is(err, webhookverify.ErrTimestampTooOld) {
		t.Fatalf("replay: %v", err)
	}
	if err := webhookverify.VerifyAt(secret, http.Header{}, body, now); !errors.Is(err, webhookverify.ErrNoSignature) {
		t.Fatalf("no headers: %v", err)
	}
}

func TestCodeQRSignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"evt_1"}`)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	h := http.Header{}
	h.Set("CodeQR-Signature", hex.EncodeToString(mac.Sum(nil)))
	if err := webhookverify.Verify(secret, h, body); err != nil {
		t.Fatalf("valid: %v", err)
	}
	if err := webhookverify.Verify(secret, h, []byte(`{"id":"evt_2"}`)); !errors.Is(err, webhookverify.ErrBadSignature) {
		t.Fatalf("tampered: %v", err)
	}
}
