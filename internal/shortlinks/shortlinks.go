// Package shortlinks is the key space shared by links and dynamic QR codes:
// one (domain, key) belongs to at most one of them, claimed in the short_keys
// table inside the transaction that creates the resource. It also holds the
// URL rules every destination must pass.
package shortlinks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
)

// Kinds of resources that own a short key.
const (
	KindLink   = "link"
	KindQRCode = "qrcode"
)

// MaxURLLength bounds destination URLs.
const MaxURLLength = 32000

// reserved keys are paths the server itself answers on the short domain.
var reserved = []string{"api", "p", "healthz", "readyz", "metrics", "favicon.ico", "robots.txt", "static", "_", "docs"}

var keyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]{0,189}$`)

// ValidateKey checks a user-chosen key.
func ValidateKey(key string) error {
	if !keyRE.MatchString(key) || strings.Contains(key, "..") {
		return errs.Invalid("key %q: use 1 to 190 of A-Z a-z 0-9 _ . - starting with a letter or digit", truncate(key))
	}
	if slices.Contains(reserved, strings.ToLower(key)) {
		return errs.Invalid("key %q is reserved", key)
	}
	return nil
}

// ValidateURL checks a destination: absolute http(s) with a host, bounded length.
// field names the field in the message.
func ValidateURL(field, raw string) error {
	if raw == "" {
		return errs.Invalid("%s must not be empty", field)
	}
	if len(raw) > MaxURLLength {
		return errs.Invalid("%s is longer than %d characters", field, MaxURLLength)
	}
	if strings.ContainsAny(raw, " \t\r\n\x00") {
		return errs.Invalid("%s must not contain spaces or control characters", field)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errs.Invalid("%s is not a valid URL", field)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errs.Invalid("%s must be an http or https URL (got scheme %q)", field, truncate(u.Scheme))
	}
	if u.Host == "" || u.Hostname() == "" {
		return errs.Invalid("%s must be an absolute URL with a host", field)
	}
	return nil
}

// ShortLink is the public URL of a key on a domain.
func ShortLink(cfg config.Config, domain, key string) string {
	return cfg.BaseScheme() + "://" + domain + "/" + key
}

// QRImageURL is the public renderer URL for a short link opened as a QR scan.
func QRImageURL(cfg config.Config, shortLink string) string {
	return cfg.BaseURL + "/api/qr?url=" + url.QueryEscape(shortLink+"?qr=1")
}

// CheckDomain accepts the server's base domain, or a domain the project added.
func CheckDomain(ctx context.Context, q store.Querier, cfg config.Config, projectID, domain string) error {
	if strings.EqualFold(domain, cfg.BaseDomain()) {
		return nil
	}
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM domains WHERE slug = $1 AND project_id = $2", strings.ToLower(domain), projectID).Scan(&one)
	if errors.Is(err, store.ErrNotFound) {
		return errs.Invalid("domain %q is not a domain of this project", truncate(domain))
	}
	return err
}

// Claim takes (domain, key) for a resource, or fails with a 409 if it is taken.
// ON CONFLICT DO NOTHING (rather than catching the unique violation) keeps the
// transaction usable on PostgreSQL without a savepoint, so callers can try
// another key, and costs one statement instead of three.
func Claim(ctx context.Context, tx *store.Tx, _ store.Dialect, domain, key, projectID, kind, resourceID string) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (domain, key) DO NOTHING`, domain, key, projectID, kind, resourceID)
	if err != nil {
		return fmt.Errorf("shortlinks: claim: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("shortlinks: claim: %w", err)
	} else if n == 0 {
		return errs.Conflict("key %q is already in use on %s", key, domain)
	}
	return nil
}

// ClaimRandom claims a fresh random 7-character key and returns it.
func ClaimRandom(ctx context.Context, tx *store.Tx, dialect store.Dialect, domain, projectID, kind, resourceID string) (string, error) {
	for i := 0; i < 10; i++ {
		key := ids.ShortKey()
		err := Claim(ctx, tx, dialect, domain, key, projectID, kind, resourceID)
		if err == nil {
			return key, nil
		}
		if errs.KindOf(err) != errs.KindConflict {
			return "", err
		}
	}
	return "", errors.New("shortlinks: no free random key after 10 tries")
}

// Move re-points an owned key to a new (domain, key) (on update).
func Move(ctx context.Context, tx *store.Tx, dialect store.Dialect, oldDomain, oldKey, newDomain, newKey, projectID, kind, resourceID string) error {
	if err := Release(ctx, tx, oldDomain, oldKey); err != nil {
		return err
	}
	return Claim(ctx, tx, dialect, newDomain, newKey, projectID, kind, resourceID)
}

// Release frees a key (on delete).
func Release(ctx context.Context, tx *store.Tx, domain, key string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM short_keys WHERE domain = $1 AND key = $2", domain, key); err != nil {
		return fmt.Errorf("shortlinks: release: %w", err)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
