package projects_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestKeysAreHashedScopedAndPerProject(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ps := projects.NewService(st, nil)
		p, key, created, err := ps.EnsureWithKey(ctx, "acme", "ci", nil)
		if err != nil || !created {
			t.Fatalf("create: %v created=%v", err, created)
		}
		if !regexp.MustCompile(`^codeqr_[0-9A-Za-z]{32}$`).MatchString(key) {
			t.Fatalf("key format %q", key)
		}
		// Only the hash is stored.
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM api_keys WHERE hash = $1", key); n != 0 {
			t.Fatal("clear-text key stored")
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM api_keys WHERE hash = $1", projects.HashKey(key)); n != 1 {
			t.Fatal("hash not stored")
		}
		k, err := ps.Authenticate(ctx, key)
		if err != nil || k.ProjectID != p.ID || len(k.Scopes) != len(projects.AllScopes()) {
			t.Fatalf("authenticate: %+v %v", k, err)
		}
		// A second key for the same project does not create a project.
		p2, key2, created, err := ps.EnsureWithKey(ctx, "acme", "ro", []string{projects.ScopeLinksRead})
		if err != nil || created || p2.ID != p.ID || key2 == key {
			t.Fatalf("second key: %v created=%v", err, created)
		}
		k2, err := ps.Authenticate(ctx, key2)
		if err != nil || !k2.Has(projects.ScopeLinksRead) || k2.Has(projects.ScopeLinksWrite) {
			t.Fatalf("scoped key: %+v %v", k2, err)
		}
		for _, bad := range []string{"", "codeqr_", key + "x", "Bearer " + key, "codeqr_" + string(make([]byte, 200))} {
			if _, err := ps.Authenticate(ctx, bad); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%q: want ErrNotFound, got %v", bad, err)
			}
		}
		if _, _, _, err := ps.EnsureWithKey(ctx, "acme", "x", []string{"links.delete"}); !errors.Is(err, projects.ErrInvalidScope) {
			t.Fatalf("unknown scope: %v", err)
		}
		if _, _, _, err := ps.EnsureWithKey(ctx, "Bad Slug", "x", nil); err == nil {
			t.Fatal("bad slug accepted")
		}
		if n, _ := ps.Count(ctx); n != 1 {
			t.Fatalf("want 1 project, got %d", n)
		}
	})
}

func TestModify(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ps := projects.NewService(st, nil)
		p, _, _, err := ps.EnsureWithKey(ctx, "acme", "ci", nil)
		if err != nil {
			t.Fatal(err)
		}
		name, email := "Acme Inc", "ops@acme.test"
		got, err := ps.Modify(ctx, p.ID, projects.Update{Name: &name, OwnerEmail: &email})
		if err != nil || got.Name != name || got.OwnerEmail == nil || *got.OwnerEmail != email || got.Slug != "acme" {
			t.Fatalf("modify: %+v %v", got, err)
		}
		again, err := ps.Get(ctx, p.ID)
		if err != nil || again.Name != name {
			t.Fatalf("get: %+v %v", again, err)
		}
		if _, err := ps.Get(ctx, "proj_nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("want ErrNotFound, got %v", err)
		}
		// Another project's slug is a conflict, and changes nothing.
		other, _, _, err := ps.EnsureWithKey(ctx, "other", "ci", nil)
		if err != nil {
			t.Fatal(err)
		}
		taken := "acme"
		if _, err := ps.Modify(ctx, other.ID, projects.Update{Slug: &taken, Name: &name}); errs.KindOf(err) != errs.KindConflict {
			t.Fatalf("taken slug: want a conflict, got %v", err)
		}
		if o, err := ps.Get(ctx, other.ID); err != nil || o.Slug != "other" || o.Name == name {
			t.Fatalf("after a refused modify: %+v %v", o, err)
		}
	})
}
