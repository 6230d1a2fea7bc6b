package public

import (
	"context"
	"sync"
	"time"

	"github.com/codeqr/codeqr/internal/cache"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/pages"
)

// PageCache keeps what GET /p/{slug} needs in memory, so a page view reads no
// database. It is kept correct the same way as the Resolver, as a subscriber
// of the cache.Bus: a change committed on this node drops its entry at once,
// one on another node when the Bus polls cache_invalidations (which a trigger
// on pages fills, see migration 0008). Entries also expire (TTL) as a last
// line of defence. Unknown slugs are cached briefly too, so a flood of random
// slugs does not reach the database.
type PageCache struct {
	mu          sync.Mutex
	entries     map[string]slugEntry
	gen         uint64 // bumped by every invalidation, to drop loads that raced one
	ttl, negTTL time.Duration
	max         int
	now         func() time.Time
}

type slugEntry struct {
	page    pages.Page
	found   bool
	expires time.Time
}

// NewPageCache returns an empty PageCache; clock nil means time.Now.
func NewPageCache(clock func() time.Time) *PageCache {
	if clock == nil {
		clock = time.Now
	}
	return &PageCache{entries: map[string]slugEntry{}, ttl: time.Minute, negTTL: 5 * time.Second, max: 20_000, now: clock}
}

// get returns the page with slug, from memory or through load.
func (c *PageCache) get(ctx context.Context, slug string, load func(context.Context, string) (pages.Page, error)) (pages.Page, bool, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[slug]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.page, e.found, nil
	}
	p, err := load(ctx, slug)
	found := err == nil
	if err != nil && errs.KindOf(err) != errs.KindNotFound {
		return pages.Page{}, false, err
	}
	ttl := c.ttl
	if !found {
		ttl = c.negTTL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen { // no invalidation ran while we loaded
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
		c.entries[slug] = slugEntry{page: p, found: found, expires: now.Add(ttl)}
	}
	return p, found, nil
}

// Invalidate drops the entry of slug (key) and every entry of the page
// resourceID (cache.Invalidator; domain is not used by pages).
func (c *PageCache) Invalidate(resourceID, _, slug string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if slug != "" {
		delete(c.entries, slug)
	}
	if resourceID != "" {
		for s, e := range c.entries {
			if e.found && e.page.ID == resourceID {
				delete(c.entries, s)
			}
		}
	}
}

var _ cache.Invalidator = (*PageCache)(nil)
