package interactions

import (
	"hash/maphash"
	"sync"
	"time"
)

// deduper remembers which visitor (IP + User-Agent) touched which resource
// recently. It is in memory and per node: behind a load balancer that does not
// pin visitors to nodes, a repeat that lands on another node is counted again.
//
// Memory is bounded with two generations of a map: lookups check both, and the
// current generation is retired when it is older than the window or holds max
// entries. Retiring early (under a flood of distinct visitors) can only make a
// repeat count again, never hide a first visit.
type deduper struct {
	window time.Duration
	max    int
	seed   maphash.Seed

	mu        sync.Mutex
	cur, prev map[uint64]int64 // key hash → last seen, Unix ns
	curSince  int64
}

func newDeduper(window time.Duration, max int) *deduper {
	if max <= 0 {
		max = 1 << 20
	}
	return &deduper{window: window, max: max, seed: maphash.MakeSeed(),
		cur: make(map[uint64]int64), prev: make(map[uint64]int64)}
}

// repeat records a visit and reports whether the same visitor already visited
// the same resource within the window.
func (d *deduper) repeat(resourceID, ip, ua string, at time.Time) bool {
	if d.window <= 0 {
		return false
	}
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(resourceID)
	h.WriteByte(0)
	h.WriteString(ip)
	h.WriteByte(0)
	h.WriteString(ua)
	k := h.Sum64()
	now := at.UnixNano()
	win := d.window.Nanoseconds()

	d.mu.Lock()
	defer d.mu.Unlock()
	if now-d.curSince > win || len(d.cur) >= d.max {
		d.prev, d.cur, d.curSince = d.cur, make(map[uint64]int64, len(d.cur)), now
	}
	last, ok := d.cur[k]
	if !ok {
		last, ok = d.prev[k]
	}
	if ok && now-last < win && now >= last {
		return true // a repeat does not extend the window: it starts at the counted visit
	}
	d.cur[k] = now
	return false
}
