package public

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/codeqr/codeqr/internal/cache"
	"github.com/codeqr/codeqr/internal/store"
)

// Target is everything a redirect or scan needs to know about a short key,
// cached in memory.
type Target struct {
	Kind       string // "link" or "qrcode"
	ProjectID  string
	ResourceID string
	Domain     string
	Key        string
	URL        string // destination (links, url QR codes)
	Archived   bool

	// links only
	ExpiresAt       *time.Time
	ExpiredURL      string
	PasswordHash    string
	IOS             string
	Android         string
	Geo             map[string]string
	TrackConversion bool

	// QR codes only
	QRType  string
	Static  bool
	Content json.RawMessage
	Title   string
}

// ResolverOptions tune a Resolver. Zero values take the defaults.
type ResolverOptions struct {
	// TTL bounds how long a found entry is trusted without any invalidation
	// (a safety net; invalidation is what keeps it correct). Default 60s.
	TTL time.Duration
	// NegativeTTL is how long an unknown key is remembered. Default 5s.
	NegativeTTL time.Duration
	// MaxEntries bounds the cache; when full, arbitrary entries are dropped. Default 100000.
	MaxEntries int
	// Clock is the time source of expiries; nil means time.Now.
	Clock func() time.Time
}

type entry struct {
	t       Target
	found   bool
	expires int64 // Unix ns
}

type call struct {
	done chan struct{}
	e    entry
	err  error
}

// Resolver maps (domain, key) to a Target through an in-memory cache.
//
// Correctness on change: the Resolver is a subscriber of the process's
// cache.Bus, which calls Invalidate for every change committed on this node
// (at once) and on other nodes (polled); the TTL bounds staleness even if a
// poll fails.
type Resolver struct {
	st  *store.Store
	opt ResolverOptions
	now func() time.Time

	mu       sync.RWMutex
	entries  map[string]entry               // domain + "\x00" + key
	byID     map[string]map[string]struct{} // resource id → cache keys
	gen      uint64                         // bumped by every invalidation
	inflight map[string]*call
}

// NewResolver returns a Resolver reading st; give it to cache.New as a
// subscriber so that it hears of changes.
func NewResolver(st *store.Store, o ResolverOptions) *Resolver {
	if o.TTL <= 0 {
		o.TTL = 60 * time.Second
	}
	if o.NegativeTTL <= 0 {
		o.NegativeTTL = 5 * time.Second
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100000
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Resolver{st: st, opt: o, now: o.Clock,
		entries: map[string]entry{}, byID: map[string]map[string]struct{}{}, inflight: map[string]*call{}}
}

func cacheKey(domain, key string) string { return domain + "\x00" + key }

// Lookup returns the target of domain and key; found is false for an unknown key.
func (r *Resolver) Lookup(ctx context.Context, domain, key string) (t Target, found bool, err error) {
	ck := cacheKey(domain, key)
	now := r.now().UnixNano()
	r.mu.RLock()
	e, ok := r.entries[ck]
	r.mu.RUnlock()
	if ok && now < e.expires {
		return e.t, e.found, nil
	}
	e, err = r.load(ctx, ck, domain, key)
	return e.t, e.found, err
}

// load reads one key, with concurrent misses of the same key sharing one query.
func (r *Resolver) load(ctx context.Context, ck, domain, key string) (entry, error) {
	r.mu.Lock()
	if c, ok := r.inflight[ck]; ok {
		r.mu.Unlock()
		select {
		case <-c.done:
			return c.e, c.err
		case <-ctx.Done():
			return entry{}, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	r.inflight[ck] = c
	gen := r.gen
	r.mu.Unlock()

	t, found, err := r.query(context.WithoutCancel(ctx), domain, key)
	now := r.now()
	e := entry{t: t, found: found}
	if found {
		e.expires = now.Add(r.opt.TTL).UnixNano()
	} else {
		e.expires = now.Add(r.opt.NegativeTTL).UnixNano()
	}

	r.mu.Lock()
	delete(r.inflight, ck)
	// An invalidation that arrived while we read may describe a change our read
	// missed: then the result is returned but not cached.
	if err == nil && r.gen == gen {
		r.store(ck, e)
	}
	r.mu.Unlock()
	c.e, c.err = e, err
	close(c.done)
	return e, err
}

func (r *Resolver) store(ck string, e entry) {
	if len(r.entries) >= r.opt.MaxEntries {
		n := 0
		for k, old := range r.entries { // map order is random: an arbitrary tenth goes
			r.drop(k, old)
			if n++; n >= r.opt.MaxEntries/10+1 {
				break
			}
		}
	}
	r.entries[ck] = e
	if e.found {
		ids := r.byID[e.t.ResourceID]
		if ids == nil {
			ids = map[string]struct{}{}
			r.byID[e.t.ResourceID] = ids
		}
		ids[ck] = struct{}{}
	}
}

func (r *Resolver) drop(ck string, e entry) {
	delete(r.entries, ck)
	if e.found {
		if ids := r.byID[e.t.ResourceID]; ids != nil {
			delete(ids, ck)
			if len(ids) == 0 {
				delete(r.byID, e.t.ResourceID)
			}
		}
	}
}

// Invalidate forgets resourceID wherever it is cached and the entry of domain
// and key (cache.Invalidator). Safe to call from any goroutine.
func (r *Resolver) Invalidate(resourceID, domain, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	if domain != "" || key != "" {
		ck := cacheKey(domain, key)
		if e, ok := r.entries[ck]; ok {
			r.drop(ck, e)
		}
	}
	if resourceID != "" {
		for ck := range r.byID[resourceID] {
			r.drop(ck, r.entries[ck])
		}
		delete(r.byID, resourceID)
	}
}

// Len returns how many entries are cached (for tests and metrics).
func (r *Resolver) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.entries)
}

func (r *Resolver) query(ctx context.Context, domain, key string) (Target, bool, error) {
	t := Target{Domain: domain, Key: key}
	db := r.st.Read()
	err := db.QueryRowContext(ctx, "SELECT kind, project_id, resource_id FROM short_keys WHERE domain = $1 AND key = $2",
		domain, key).Scan(&t.Kind, &t.ProjectID, &t.ResourceID)
	if errors.Is(err, store.ErrNotFound) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("public: resolve %s/%s: %w", domain, key, err)
	}
	switch t.Kind {
	case "link":
		err = r.queryLink(ctx, db, &t)
	case "qrcode":
		err = r.queryQRCode(ctx, db, &t)
	default:
		return t, false, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return t, false, nil // the key was just released
	}
	if err != nil {
		return t, false, fmt.Errorf("public: resolve %s %s: %w", t.Kind, t.ResourceID, err)
	}
	return t, true, nil
}

func (r *Resolver) queryLink(ctx context.Context, db store.Querier, t *Target) error {
	var (
		expires                             sql.NullInt64
		expiredURL, hash, ios, android, geo sql.NullString
	)
	err := db.QueryRowContext(ctx, `SELECT url, archived, expires_at, expired_url, password_hash, ios, android, geo, track_conversion
FROM links WHERE id = $1 AND project_id = $2`, t.ResourceID, t.ProjectID).Scan(
		&t.URL, &t.Archived, &expires, &expiredURL, &hash, &ios, &android, &geo, &t.TrackConversion)
	if err != nil {
		return err
	}
	t.ExpiresAt = store.NullMillis(expires)
	t.ExpiredURL, t.PasswordHash, t.IOS, t.Android = expiredURL.String, hash.String, ios.String, android.String
	if geo.Valid && geo.String != "" && geo.String != "null" {
		if err := json.Unmarshal([]byte(geo.String), &t.Geo); err != nil {
			return fmt.Errorf("geo: %w", err)
		}
	}
	return nil
}

var _ cache.Invalidator = (*Resolver)(nil)

func (r *Resolver) queryQRCode(ctx context.Context, db store.Querier, t *Target) error {
	var url, content, title sql.NullString
	err := db.QueryRowContext(ctx, `SELECT type, static, url, content, archived, title FROM qrcodes WHERE id = $1 AND project_id = $2`,
		t.ResourceID, t.ProjectID).Scan(&t.QRType, &t.Static, &url, &content, &t.Archived, &title)
	if err != nil {
		return err
	}
	t.URL, t.Title = url.String, title.String
	if content.Valid {
		t.Content = json.RawMessage(content.String)
	}
	return nil
}
