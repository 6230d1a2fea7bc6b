// Package webhookverify checks that a webhook request really comes from a codeqr
// server. Receivers import it; it depends on nothing but the standard library.
//
//	func hook(w http.ResponseWriter, r *http.Request) {
//		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//		if err := webhookverify.Verify(secret, r.Header, body); err != nil {
//			http.Error(w, "bad signature", http.StatusUnauthorized)
//			return
//		}
//		// body is authentic; deduplicate on its "id".
//	}
//
// Verify accepts a request when either signature scheme checks out: the
// Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature,
// with a timestamp no further than Tolerance from now, against replays) or the
// CodeQR-Signature header (HMAC of the body alone, no replay protection — prefer
// the former). Comparisons are constant-time.
package webhookverify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far webhook-timestamp may be from the receiver's clock.
const Tolerance = 5 * time.Minute

// Errors Verify returns.
var (
	ErrNoSignature     = errors.New("webhookverify: no signature headers")
	ErrBadSignature    = errors.New("webhookverify: signature does not match")
	ErrBadTimestamp    = errors.New("webhookverify: webhook-timestamp missing or malformed")
	ErrTimestampTooOld = errors.New("webhookverify: webhook-timestamp outside the tolerance")
	ErrBadSecret       = errors.New("webhookverify: secret must look like whsec_<base64>")
)

// Verify checks headers and body against secret ("whsec_…") at the current time.
func Verify(secret string, headers http.Header, body []byte) error {
	return VerifyAt(secret, headers, body, time.Now())
}

// VerifyAt is Verify with an explicit clock.
func VerifyAt(secret string, headers http.Header, body []byte, now time.Time) error {
	if headers.Get("webhook-signature") != "" {
		return verifyStandard(secret, headers, body, now)
	}
	if sig := headers.Get("CodeQR-Signature"); sig != "" {
		return verifyCodeQR(secret, sig, body)
	}
	return ErrNoSignature
}

func verifyStandard(secret string, headers http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") || len(key) == 0 {
		return ErrBadSecret
	}
	id, ts := headers.Get("webhook-id"), headers.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestampTooOld
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, entry := range strings.Fields(headers.Get("webhook-signature")) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}

func verifyCodeQR(secret, sig string, body []byte) error {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}
