package public_test

import (
	"context"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/cache"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/public"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/testkit"
)

func TestResolversOnTwoNodesSeeEachOthersChanges(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			stA, stB := storetest.TwoNodes(t, dialect)
			resA := public.NewResolver(stA, public.ResolverOptions{})
			resB := public.NewResolver(stB, public.ResolverOptions{})
			busA := cache.New(stA, cache.Options{}, resA)
			busB := cache.New(stB, cache.Options{}, resB)
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
			cfg := config.Config{BaseURL: "http://" + domain}.WithDefaults()
			p, _, _, err := projects.NewService(stA, nil).EnsureWithKey(ctx, "p1", "k", nil)
			if err != nil {
				t.Fatal(err)
			}
			ls := links.NewService(stA, events.NewWriter(nil, nil), tags.NewService(stA, nil), cfg, busA)
			lookupURL := func(r *public.Resolver) string {
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
			d := testkit.Wait(t, 5*time.Second, "node B to see the create", func() bool { return lookupURL(resB) == url1 })
			t.Logf("%s: create seen by the other node after %v", dialect, d)

			url2 := "https://example.com/2"
			if _, err := ls.Update(ctx, p.ID, l.ID, links.UpdateRequest{URL: links.Some(url2)}); err != nil {
				t.Fatal(err)
			}
			if u := lookupURL(resA); u != url2 {
				t.Fatalf("node A still resolves %q after its own update", u)
			}
			d = testkit.Wait(t, 5*time.Second, "node B to see the update", func() bool { return lookupURL(resB) == url2 })
			t.Logf("%s: update seen by the other node after %v", dialect, d)
			if d > time.Second {
				t.Errorf("invalidation took %v", d)
			}
			if err := ls.Delete(ctx, p.ID, l.ID); err != nil {
				t.Fatal(err)
			}
			testkit.Wait(t, 5*time.Second, "node B to see the delete", func() bool { return lookupURL(resB) == "" })
		})
	}
}
