package redirects_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/redirects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
)

// twoNodes opens the same database twice, as two server processes would.
func twoNodes(t *testing.T, dialect string) (*store.Store, *store.Store) {
	t.Helper()
	ctx := context.Background()
	var url, path string
	if dialect == "postgres" {
		url = storetest.PostgresURL(t)
	} else {
		path = filepath.Join(t.TempDir(), "codeqr.db")
	}
	open := func() *store.Store {
		st, err := store.Open(ctx, url, path, store.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return st
	}
	return open(), open()
}

func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func TestResolversOnTwoNodesSeeEachOthersChanges(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			stA, stB := twoNodes(t, dialect)
			resA := redirects.NewResolver(stA, redirects.ResolverOptions{})
			resB := redirects.NewResolver(stB, redirects.ResolverOptions{})
			for _, r := range []*redirects.Resolver{resA, resB} {
				if err := r.Start(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(r.Stop)
			}
			cfg := config.Config{BaseURL: "http://" + domain}.WithDefaults()
			p, _, _, err := projects.NewService(stA, nil).EnsureWithKey(ctx, "p1", "k", nil)
			if err != nil {
				t.Fatal(err)
			}
			ls := links.NewService(stA, events.NewWriter(nil, nil), tags.NewService(stA, nil), cfg).WithInvalidator(resA)
			lookupURL := func(r *redirects.Resolver) string {
				tg, found, err := r.Lookup(ctx, domain, "shared")
				if err != nil {
					t.Fatal(err)
				}
				if !found {
					return ""
				}
				return tg.URL
			}
			if u := lookupURL(resB); u != "" {
				t.Fatalf("unknown key resolved to %q", u)
			}
			key, url1 := "shared", "https://example.com/1"
			l, err := ls.Create(ctx, p.ID, links.CreateRequest{URL: url1, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			// B had cached "unknown"; the create reaches it through the table.
			d := waitFor(t, "node B to see the create", func() bool { return lookupURL(resB) == url1 })
			t.Logf("%s: create seen by the other node after %v", dialect, d)

			url2 := "https://example.com/2"
			if _, err := ls.Update(ctx, p.ID, l.ID, links.UpdateRequest{URL: links.Some(url2)}); err != nil {
				t.Fatal(err)
			}
			if u := lookupURL(resA); u != url2 {
				t.Fatalf("node A still resolves %q after its own update", u)
			}
			d = waitFor(t, "node B to see the update", func() bool { return lookupURL(resB) == url2 })
			t.Logf("%s: update seen by the other node after %v", dialect, d)
			if d > time.Second {
				t.Errorf("invalidation took %v", d)
			}
			if err := ls.Delete(ctx, p.ID, l.ID); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "node B to see the delete", func() bool { return lookupURL(resB) == "" })
		})
	}
}
