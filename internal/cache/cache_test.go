package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/cache"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testkit"
)

type call struct{ resourceID, domain, key string }

// recorder is a subscriber that remembers what it was told.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) Invalidate(resourceID, domain, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{resourceID, domain, key})
}

func (r *recorder) heard(c call) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, got := range r.calls {
		if got == c {
			return true
		}
	}
	return false
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// Every subscriber hears every local invalidation at once, from any number
// of goroutines (run with -race).
func TestBusFansOutToEverySubscriber(t *testing.T) {
	t.Parallel()
	a, b := &recorder{}, &recorder{}
	bus := cache.New(nil, cache.Options{}, a, b)
	const goroutines, each = 8, 100
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				bus.Invalidate(fmt.Sprintf("r%d-%d", g, i), "d", "k")
			}
		}()
	}
	wg.Wait()
	for name, r := range map[string]*recorder{"a": a, "b": b} {
		if n := r.len(); n != goroutines*each {
			t.Errorf("subscriber %s heard %d invalidations, want %d", name, n, goroutines*each)
		}
	}
	if !a.heard(call{"r3-7", "d", "k"}) || !b.heard(call{"r3-7", "d", "k"}) {
		t.Error("an invalidation did not reach both subscribers unchanged")
	}
}

func TestBusLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t, "sqlite")
	// Stop before Start is fine, and refuses a later Start.
	early := cache.New(st, cache.Options{})
	if err := early.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := early.Start(ctx); err == nil {
		t.Error("Start after Stop succeeded")
	}

	bus := cache.New(st, cache.Options{PollInterval: time.Millisecond})
	if err := bus.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := bus.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if err := bus.Stop(stopCtx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	// Start fails, with the error, when the table cannot be read.
	closed := storetest.New(t, "sqlite")
	closed.Close()
	if err := cache.New(closed, cache.Options{}).Start(ctx); err == nil {
		t.Error("Start on a closed store succeeded")
	}
}

// Two nodes sharing one database: a change committed on one reaches the
// subscribers of both through cache_invalidations, which a trigger fills in
// the change's transaction; a change made before a node started is not
// replayed to it (its caches were empty then).
func TestBusAcrossTwoNodes(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			stA, stB := storetest.TwoNodes(t, dialect)
			p, _, _, err := projects.NewService(stA, nil).EnsureWithKey(ctx, "p1", "k", nil)
			if err != nil {
				t.Fatal(err)
			}
			claim := func(key string) call {
				t.Helper()
				id := ids.New("link")
				if err := stA.InTx(ctx, func(tx *store.Tx) error {
					storetest.MustExec(t, tx, "INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ('d.test', $1, $2, 'link', $3)",
						key, p.ID, id)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return call{id, "d.test", key}
			}
			before := claim("before")

			recA, recB := &recorder{}, &recorder{}
			busA := cache.New(stA, cache.Options{PollInterval: 10 * time.Millisecond}, recA)
			busB := cache.New(stB, cache.Options{PollInterval: 10 * time.Millisecond}, recB)
			for _, b := range []*cache.Bus{busA, busB} {
				if err := b.Start(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := b.Stop(ctx); err != nil {
						t.Error(err)
					}
				})
			}

			// Local: synchronous, and this node only.
			busA.Invalidate("local", "", "")
			if !recA.heard(call{"local", "", ""}) {
				t.Fatal("a local invalidation did not reach this node's subscriber at once")
			}

			after := claim("after")
			d := testkit.Wait(t, 5*time.Second, "node B to hear node A's change", func() bool { return recB.heard(after) })
			t.Logf("%s: heard by the other node after %v", dialect, d)
			testkit.Wait(t, 5*time.Second, "node A to hear its own change through the table", func() bool { return recA.heard(after) })
			if recB.heard(call{"local", "", ""}) {
				t.Error("node A's local invalidation reached node B")
			}
			if recB.heard(before) || recA.heard(before) {
				t.Error("a change from before Start was replayed")
			}
		})
	}
}
