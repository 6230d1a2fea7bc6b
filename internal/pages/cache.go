package pages

import (
	"context"
	"sync"
	"time"

	"github.com/codeqr/codeqr/internal/cache"
	"github.com/codeqr/codeqr/internal/errs"
)

// slugCache keeps what GET /p/{slug} needs in memory, so a page view reads no
// database. It is kept correct the same way as the redirect cache: the pages
// service drops an entry after its transaction commits (this node, at once),
// and other nodes drop it when they poll cache_invalidations, which a trigger
// on pages fills (see migration 0008 and internal/redirects). Entries also
// expire (TTL) as a last line of defence. Unknown slugs are cached briefly too,
// so a flood of random slugs does not reach the database.
type slugCache struct {
	mu          sync.Mutex
	entries     map[string]slugEntry
	gen         uint64 // bumped by every invalidation, to drop loads that raced one
	ttl, negTTL time.Duration
	max         int
	now         func() time.Time
}

type slugEntry struct {
	page    Page
	found   bool
	expires time.Time
}

func newSlugCache(now func() time.Time) *slugCache {
	return &slugCache{entries: map[string]slugEntry{}, ttl: time.Minute, negTTL: 5 * time.Second, max: 20_000, now: now}
}

// get returns the page with slug, from memory or through load.
func (c *slugCache) get(ctx context.Context, slug string, load func(context.Context, string) (Page, error)) (Page, bool, error) {
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
		return Page{}, false, err
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
func (c *slugCache) Invalidate(resourceID, _, slug string) {
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

var _ cache.Invalidator = (*slugCache)(nil)
