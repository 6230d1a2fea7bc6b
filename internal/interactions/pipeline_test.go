package interactions_test

import (
	"context"
	"fmt"
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
