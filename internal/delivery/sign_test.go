package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestSignVerifiesWithStandardWebhooks(t *testing.T) {
	t.Parallel()
	current, previous := newSecret(t), newSecret(t)
	body := []byte(`{"id":"evt_1","event":"link.created","createdAt":"2026-01-01T00:00:00.000Z","data":{}}`)
	raw := http.Header{}
	if err := Sign(raw, "evt_1", time.Now(), body, current, previous); err != nil {
		t.Fatal(err)
	}
	// As a receiver sees them: header names are case-insensitive on the wire.
	h := http.Header{}
	for k, v := range raw {
		h[http.CanonicalHeaderKey(k)] = v
	}
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signature entries, want 2", n)
	}
	for _, s := range []string{current, previous} {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("verify: %v", err)
		}
		if err := wh.Verify(append([]byte(" "), body...), h); err == nil {
			t.Error("a changed body verified")
		}
	}
	mac := hmac.New(sha256.New, []byte(current))
	mac.Write(body)
	if h.Get("CodeQR-Signature") != hex.EncodeToString(mac.Sum(nil)) {
		t.Error("CodeQR-Signature is not the hex HMAC of the body keyed with the current secret")
	}
	other, _ := standardwebhooks.NewWebhook(newSecret(t))
	if err := other.Verify(body, h); err == nil {
		t.Error("an unrelated secret verified")
	}
	if err := Sign(http.Header{}, "evt_1", time.Now(), body, "nope"); !errors.Is(err, ErrBadSecret) {
		t.Errorf("bad secret: %v", err)
	}
}
