// Package cache keeps the in-memory caches of public traffic (the short-key
// resolver, the hosted-page cache) correct when what they hold changes.
//
// There are two halves. This node: the services that write links, QR codes
// and pages call Invalidator.Invalidate after their transaction commits
// (store.Tx.AfterCommit), so the very next request here sees the change.
// Every other node: database triggers write a row into cache_invalidations
// in the same transaction as the change, and every node polls that table.
// Both halves meet in one Bus: the services are given the Bus as their
// Invalidator, and the Bus hands every invalidation — its own node's and the
// polled ones — to the subscribers it was built with.
package cache

import (
	"log/slog"
	"sync"
	"time"

	"github.com/codeqr/codeqr/internal/startstop"
	"github.com/codeqr/codeqr/internal/store"
)

// Invalidator drops what a process has cached about a short key.
type Invalidator interface {
	// Invalidate forgets the resource resourceID wherever it is cached, and the
	// entry (found or not found) of domain and key. Either may be empty.
	Invalidate(resourceID, domain, key string)
}

// Nop is an Invalidator that does nothing, for services built without a cache.
type Nop struct{}

// Invalidate does nothing.
func (Nop) Invalidate(string, string, string) {}

// Options tune a Bus. Zero values take the defaults.
type Options struct {
	// PollInterval is how often cache_invalidations is read for other nodes'
	// changes. Default 50ms.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Bus is the one cache-invalidation component of a process: an Invalidator
// for the writing services, and the poller of other nodes' changes. Its
// subscribers are fixed at construction, so it is safe for concurrent use
// without a lock on the fan-out.
//
// A change is seen everywhere within PollInterval (default 50 ms) plus one
// query time after its commit; the caches' own TTLs bound staleness even if
// a poll fails.
type Bus struct {
	st   *store.Store
	opt  Options
	log  *slog.Logger
	subs []Invalidator

	startMu sync.Mutex
	poll    pollState // owned by the poller goroutine (and by Start, before it runs)
	svc     startstop.Service
}

// New returns a Bus that tells subs of every invalidation; Start begins
// polling st's cache_invalidations table.
func New(st *store.Store, o Options, subs ...Invalidator) *Bus {
	if o.PollInterval <= 0 {
		o.PollInterval = 50 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Bus{st: st, opt: o, log: o.Logger, subs: append([]Invalidator(nil), subs...)}
}

// Invalidate tells every subscriber (Invalidator). Safe from any goroutine.
func (b *Bus) Invalidate(resourceID, domain, key string) {
	for _, s := range b.subs {
		s.Invalidate(resourceID, domain, key)
	}
}

var _ Invalidator = (*Bus)(nil)
