package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature header names. The Standard Webhooks ones are lower-case on
// purpose: that is how the specification and its libraries spell them.
const (
	HeaderSignature          = "CodeQR-Signature"
	HeaderTest               = "CodeQR-Test"
	HeaderWebhookID          = "webhook-id"
	HeaderWebhookTimestamp   = "webhook-timestamp"
	HeaderWebhookSignature   = "webhook-signature"
	secretPrefix             = "whsec_"
	userAgent                = "codeqr-webhooks/1"
	maxResponseBody          = 16 << 10
	standardSignatureVersion = "v1,"
)

// ErrBadSecret means a stored secret is not "whsec_" + base64.
var ErrBadSecret = errors.New("delivery: malformed secret")

// Sign sets the signature headers of one attempt on h.
//
// secrets[0] is the current secret; any further (non-empty) secrets are ones
// still valid after a rotation. CodeQR-Signature is the hex HMAC-SHA256 of the
// body keyed with the whole current secret string (prefix included), so a
// receiver can verify it with nothing but the string it was shown.
// webhook-signature carries one Standard Webhooks "v1," entry per secret,
// space-separated, keyed with the base64-decoded part after "whsec_", so that
// receivers verifying with either secret accept the message during rotation.
// ts is the time of this attempt, not of the event: receivers reject stale
// timestamps to stop replays, and retries can come a day later.
func Sign(h http.Header, eventID string, ts time.Time, body []byte, secrets ...string) error {
	if len(secrets) == 0 || secrets[0] == "" {
		return ErrBadSecret
	}
	mac := hmac.New(sha256.New, []byte(secrets[0]))
	mac.Write(body)
	unix := strconv.FormatInt(ts.Unix(), 10)
	entries := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s == "" {
			continue
		}
		key, err := secretKey(s)
		if err != nil {
			return err
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(eventID))
		m.Write([]byte{'.'})
		m.Write([]byte(unix))
		m.Write([]byte{'.'})
		m.Write(body)
		entries = append(entries, standardSignatureVersion+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	h.Set(HeaderSignature, hex.EncodeToString(mac.Sum(nil)))
	h[HeaderWebhookID] = []string{eventID}
	h[HeaderWebhookTimestamp] = []string{unix}
	h[HeaderWebhookSignature] = []string{strings.Join(entries, " ")}
	return nil
}

// secretKey is the Standard Webhooks key of a secret.
func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: %v", ErrBadSecret, err)
	}
	return key, nil
}
