// Package cache names the one hook by which the services that write links and
// QR codes tell the redirect cache of this process that what a short key
// resolves to has changed.
//
// It is the fast, local half of cache correctness: services call it after
// their transaction commits (store.Tx.AfterCommit), so the very next request
// on this node sees the change. The other half — every other node — is the
// cache_invalidations table, written by database triggers in the same
// transaction and polled by every node (see internal/redirects).
package cache

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
