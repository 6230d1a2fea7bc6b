package tracking

import (
	"hash/maphash"
	"sync"
)

// uaCache is a bounded, sharded LRU of parsed User-Agents. Sharding keeps the
// lock of one shard from serialising every request of a busy server.
type uaCache struct {
	seed   maphash.Seed
	shards []lruShard
}

type lruShard struct {
	mu    sync.Mutex
	cap   int
	items map[string]*lruEntry
	head  lruEntry // sentinel: head.next is the most recent, head.prev the oldest
}

type lruEntry struct {
	key        string
	val        uaInfo
	prev, next *lruEntry
}

const uaCacheShards = 16

func newUACache(size int) *uaCache {
	per := max(size/uaCacheShards, 1)
	c := &uaCache{seed: maphash.MakeSeed(), shards: make([]lruShard, uaCacheShards)}
	for i := range c.shards {
		s := &c.shards[i]
		s.cap = per
		s.items = make(map[string]*lruEntry, per)
		s.head.next, s.head.prev = &s.head, &s.head
	}
	return c
}

func (c *uaCache) shard(key string) *lruShard {
	return &c.shards[maphash.String(c.seed, key)%uaCacheShards]
}

func (c *uaCache) get(key string) (uaInfo, bool) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.items[key]
	if !ok {
		return uaInfo{}, false
	}
	s.unlink(e)
	s.pushFront(e)
	return e.val, true
}

func (c *uaCache) put(key string, val uaInfo) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		e.val = val
		s.unlink(e)
		s.pushFront(e)
		return
	}
	var e *lruEntry
	if len(s.items) >= s.cap {
		e = s.head.prev // reuse the oldest entry's node
		s.unlink(e)
		delete(s.items, e.key)
	} else {
		e = new(lruEntry)
	}
	e.key, e.val = key, val
	s.items[key] = e
	s.pushFront(e)
}

func (c *uaCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.items)
		s.mu.Unlock()
	}
	return n
}

func (s *lruShard) unlink(e *lruEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (s *lruShard) pushFront(e *lruEntry) {
	e.prev, e.next = &s.head, s.head.next
	s.head.next.prev = e
	s.head.next = e
}
