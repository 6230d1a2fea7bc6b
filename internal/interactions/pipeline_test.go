package interactions_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func interaction(ip string, bot bool) interactions.Interaction {
	const u = "Unknown"
	return interactions.Interaction{Timestamp: time.Now().UTC().Truncate(time.Millisecond), ClickID: ids.ClickID(),
		URL: "https://example.com/", IP: ip, Continent: u, Country: u, Region: u, City: u, Device: "Desktop",
		DeviceVendor: u, DeviceModel: u, Browser: u, BrowserVersion: u, Engine: u, EngineVersion: u, OS: u, OSVersion: u,
		CPUArchitecture: u, UA: "test", Bot: bot, Referer: "(direct)", RefererURL: "(direct)"}
}

// Stop writes everything buffered, even when the flush interval never came.
func TestStopFlushesEverything(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p, _, _, err := projects.NewService(st, nil).EnsureWithKey(ctx, "p1", "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		linkID := ids.New("link")
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			storetest.MustExec(t, tx, "INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ('d', 'k', $1, 'link', $2)", p.ID, linkID)
			storetest.MustExec(t, tx, "INSERT INTO links (id, project_id, domain, key, url, created_at, updated_at) VALUES ($1, $2, 'd', 'k', 'https://example.com/', 0, 0)", linkID, p.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		pipe := interactions.New(st, events.NewWriter(nil, nil), interactions.Options{FlushInterval: time.Hour, MaxBatch: 700})
		if err := pipe.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		const n = 2500
		for i := range n {
			pipe.Record(interactions.Record{Kind: interactions.KindClick, ProjectID: p.ID, ResourceID: linkID,
				Interaction: interaction(fmt.Sprintf("10.0.%d.%d", i/256, i%256), i%10 == 0)})
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := pipe.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if got := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM interactions"); got != n {
			t.Fatalf("stored %d, want %d", got, n)
		}
		if got := storetest.Count(t, st.Read(), "SELECT clicks FROM links WHERE id = $1", linkID); got != n-n/10 {
			t.Fatalf("clicks %d, want %d (bots excluded)", got, n-n/10)
		}
		if pipe.Pending() != 0 {
			t.Fatal("pending after Stop")
		}
	})
}

// What waits in memory is bounded by the writer's measured rate (MaxDelay of
// writing), not by a large fixed count: Record blocks beyond it, and every
// record is still written.
func TestBufferBoundedByWriteRate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p, _, _, err := projects.NewService(st, nil).EnsureWithKey(ctx, "p1", "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		linkID := ids.New("link")
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			storetest.MustExec(t, tx, "INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ('d', 'k', $1, 'link', $2)", p.ID, linkID)
			storetest.MustExec(t, tx, "INSERT INTO links (id, project_id, domain, key, url, created_at, updated_at) VALUES ($1, $2, 'd', 'k', 'https://example.com/', 0, 0)", linkID, p.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		const batch, capacity = 50, 100000
		pipe := interactions.New(st, events.NewWriter(nil, nil), interactions.Options{FlushInterval: time.Hour, MaxBatch: batch,
			MaxDelay: 20 * time.Millisecond, MaxBuffered: capacity})
		if got := pipe.Limit(); got != 2*batch {
			t.Fatalf("limit before any write = %d, want the floor %d", got, 2*batch)
		}
		if err := pipe.Start(ctx); err != nil {
			t.Fatal(err)
		}
		const writers, each = 8, 300
		done := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					pipe.Record(interactions.Record{Kind: interactions.KindClick, ProjectID: p.ID, ResourceID: linkID,
						Interaction: interaction(fmt.Sprintf("10.%d.%d.%d", w, i/256, i%256), false)})
				}
			})
		}
		go func() { wg.Wait(); close(done) }()
		maxPending, maxLimit := 0, 0
	watch:
		for {
			select {
			case <-done:
				break watch
			default:
			}
			// Limit first: a record is appended only below the limit of its moment.
			maxLimit = max(maxLimit, pipe.Limit())
			maxPending = max(maxPending, pipe.Pending())
			runtime.Gosched()
		}
		stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := pipe.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		if got := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM interactions"); got != writers*each {
			t.Fatalf("stored %d, want %d", got, writers*each)
		}
		if maxLimit >= capacity || maxLimit < 2*batch {
			t.Errorf("limit reached %d: not set by the write rate (floor %d, cap %d)", maxLimit, 2*batch, capacity)
		}
		// The limit moves between samples, so allow twice the largest seen;
		// a fixed-count buffer would hold nearly all 2,400 records.
		if maxPending > 2*maxLimit {
			t.Errorf("%d records waited, beyond the largest limit %d", maxPending, maxLimit)
		}
		t.Logf("at most %d records waited; limit at most %d", maxPending, maxLimit)
	})
}
