package projects

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
)

// Key is an authenticated API key: which project, and what it may do.
type Key struct {
	ID        string
	ProjectID string
	Name      string
	Scopes    []string
}

// Has reports whether the key carries scope.
func (k Key) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

// KeyInfo is an API key as it is listed: everything but the secret, which
// exists in clear only in the answer that created it.
type KeyInfo struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Start      string     `json:"start"` // the first characters, to recognise a key
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

// CreatedKey is the answer to a key's creation: the key and, once, its secret.
type CreatedKey struct {
	KeyInfo
	Key string `json:"key"`
}

// NewKey is what a key is created with. Empty Scopes means every scope.
type NewKey struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

// ErrInvalidScope names a scope that does not exist.
var ErrInvalidScope = errors.New("unknown scope")

// ErrKeyRevoked and ErrKeyExpired tell why a known key is refused.
var (
	ErrKeyRevoked = errors.New("this API key was revoked")
	ErrKeyExpired = errors.New("this API key has expired")
)

// LastUsedResolution is how stale a key's lastUsedAt may be. Authenticating
// writes it only when the stored value is older than this, so a busy key costs
// one write a minute, not one per request.
const LastUsedResolution = time.Minute

func checkScopes(scopes []string) error {
	for _, sc := range scopes {
		if !slices.Contains(AllScopes(), sc) {
			return fmt.Errorf("%w %q (known: %s)", ErrInvalidScope, sc, strings.Join(AllScopes(), ", "))
		}
	}
	return nil
}

// HashKey is the stored form of an API key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func insertKey(ctx context.Context, tx *store.Tx, projectID string, nk NewKey, now time.Time) (KeyInfo, string, error) {
	secret := "codeqr_" + ids.Random(32)
	info := KeyInfo{
		ID: ids.New("key"), Name: nk.Name, Start: secret[:11], Scopes: nk.Scopes,
		CreatedAt: toMillis(now),
	}
	if nk.ExpiresAt != nil {
		e := toMillis(*nk.ExpiresAt)
		info.ExpiresAt = &e
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, project_id, name, hash, start, scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		info.ID, projectID, info.Name, HashKey(secret), info.Start, strings.Join(info.Scopes, " "),
		store.Millis(now), store.MillisOrNil(info.ExpiresAt))
	if err != nil {
		return KeyInfo{}, "", fmt.Errorf("create key: %w", err)
	}
	return info, secret, nil
}

// CreateKey adds a key to the project. When grantor is not nil (a key creating
// a key over the API) the new key may carry only scopes the grantor has, so a
// key cannot mint itself more power.
func (s *Service) CreateKey(ctx context.Context, projectID string, nk NewKey, grantor *Key) (CreatedKey, error) {
	nk.Name = strings.TrimSpace(nk.Name)
	if nk.Name == "" || len(nk.Name) > 100 {
		return CreatedKey{}, errs.Invalid("name must be 1 to 100 characters")
	}
	if len(nk.Scopes) == 0 {
		nk.Scopes = AllScopes()
		if grantor != nil {
			nk.Scopes = slices.Clone(grantor.Scopes)
		}
	}
	slices.Sort(nk.Scopes)
	nk.Scopes = slices.Compact(nk.Scopes)
	if err := checkScopes(nk.Scopes); err != nil {
		return CreatedKey{}, errs.Invalid("%v", err)
	}
	if grantor != nil {
		for _, sc := range nk.Scopes {
			if !grantor.Has(sc) {
				return CreatedKey{}, errs.Invalid("scope %q: a key can grant only scopes it holds itself", sc)
			}
		}
	}
	now := s.now()
	if nk.ExpiresAt != nil && !nk.ExpiresAt.After(now) {
		return CreatedKey{}, errs.Invalid("expiresAt must be in the future")
	}
	var out CreatedKey
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM projects WHERE id = $1", projectID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.NotFound("no such project")
		}
		info, secret, err := insertKey(ctx, tx, projectID, nk, now)
		out = CreatedKey{KeyInfo: info, Key: secret}
		return err
	})
	return out, err
}

const keyColumns = "id, name, start, scopes, created_at, expires_at, last_used_at, revoked_at"

func scanKeyInfo(row interface{ Scan(...any) error }) (KeyInfo, error) {
	var (
		k                      KeyInfo
		scopes                 string
		created                int64
		expires, used, revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Name, &k.Start, &scopes, &created, &expires, &used, &revoked); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return KeyInfo{}, errs.NotFound("no such API key")
		}
		return KeyInfo{}, err
	}
	k.Scopes = strings.Fields(scopes)
	k.CreatedAt = store.FromMillis(created)
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = store.NullMillis(expires), store.NullMillis(used), store.NullMillis(revoked)
	return k, nil
}

// ListKeys returns the project's keys, newest first, revoked ones included
// (they say when). projectID "" lists the keys of every project (the CLI).
func (s *Service) ListKeys(ctx context.Context, projectID string) ([]KeyInfo, error) {
	rows, err := s.st.Read().QueryContext(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE ($1 = '' OR project_id = $1) ORDER BY created_at DESC, id DESC", projectID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	out := []KeyInfo{}
	for rows.Next() {
		k, err := scanKeyInfo(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey revokes a key of the project (projectID "" for any project: the
// CLI) and returns it. From the moment this returns, every node refuses the
// key: authentication reads the key's row on every request, there is no cache
// to go stale. Revoking a revoked key changes nothing.
func (s *Service) RevokeKey(ctx context.Context, projectID, id string) (KeyInfo, error) {
	var k KeyInfo
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND ($3 = '' OR project_id = $3) AND revoked_at IS NULL",
			store.Millis(s.now()), id, projectID); err != nil {
			return fmt.Errorf("revoke key: %w", err)
		}
		var err error
		k, err = scanKeyInfo(tx.QueryRowContext(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE id = $1 AND ($2 = '' OR project_id = $2)", id, projectID))
		return err
	})
	return k, err
}

// Authenticate returns the key behind a clear-text API key: store.ErrNotFound
// for an unknown one, ErrKeyRevoked or ErrKeyExpired for one that no longer
// works. It records the key's use at most once per LastUsedResolution.
func (s *Service) Authenticate(ctx context.Context, key string) (Key, error) {
	if !strings.HasPrefix(key, "codeqr_") || len(key) > 100 {
		return Key{}, store.ErrNotFound
	}
	var (
		k                      Key
		scopes                 string
		expires, used, revoked sql.NullInt64
	)
	err := s.st.Read().QueryRowContext(ctx, "SELECT id, project_id, name, scopes, expires_at, last_used_at, revoked_at FROM api_keys WHERE hash = $1", HashKey(key)).
		Scan(&k.ID, &k.ProjectID, &k.Name, &scopes, &expires, &used, &revoked)
	if err != nil {
		return Key{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.now()
	if revoked.Valid {
		return Key{}, ErrKeyRevoked
	}
	if expires.Valid && expires.Int64 <= store.Millis(now) {
		return Key{}, ErrKeyExpired
	}
	k.Scopes = strings.Fields(scopes)
	if !used.Valid || store.Millis(now)-used.Int64 >= LastUsedResolution.Milliseconds() {
		s.touch(ctx, k.ID, now)
	}
	return k, nil
}

// touch records a key's use. The WHERE makes concurrent requests (and other
// nodes) that all saw a stale value write once between them; a failure only
// leaves lastUsedAt older, so it does not fail the request.
func (s *Service) touch(ctx context.Context, id string, now time.Time) {
	s.mu.Lock()
	if s.touching[id] {
		s.mu.Unlock()
		return
	}
	s.touching[id] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.touching, id)
		s.mu.Unlock()
	}()
	cutoff := store.Millis(now) - LastUsedResolution.Milliseconds()
	_ = s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
			store.Millis(now), id, cutoff)
		return err
	})
}
