package projects_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestKeyLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.UTC)}
		ps := projects.NewService(st, clk.now)
		p, admin, _, err := ps.EnsureWithKey(ctx, "acme", "admin", nil)
		if err != nil {
			t.Fatal(err)
		}
		adminKey, err := ps.Authenticate(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		exp := clk.now().Add(time.Hour)
		ro := projects.Key{Scopes: []string{projects.ScopeLinksRead, projects.ScopeKeysWrite}}
		if _, err := ps.CreateKey(ctx, p.ID, projects.NewKey{Name: "x", Scopes: []string{projects.ScopeLinksWrite}}, &ro); errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("a key granted a scope it lacks: %v", err)
		}
		for _, bad := range []projects.NewKey{
			{Name: "", Scopes: nil},
			{Name: "x", Scopes: []string{"links.delete"}},
			{Name: "x", ExpiresAt: ptr(clk.now().Add(-time.Second))},
		} {
			if _, err := ps.CreateKey(ctx, p.ID, bad, &adminKey); errs.KindOf(err) != errs.KindInvalid {
				t.Fatalf("%+v: want invalid, got %v", bad, err)
			}
		}
		ck, err := ps.CreateKey(ctx, p.ID, projects.NewKey{Name: "ci", Scopes: []string{projects.ScopeLinksRead}, ExpiresAt: &exp}, &adminKey)
		if err != nil {
			t.Fatal(err)
		}
		if ck.Key == "" || ck.Start != ck.Key[:11] || !slices.Equal(ck.Scopes, []string{projects.ScopeLinksRead}) || !ck.ExpiresAt.Equal(exp.Truncate(time.Millisecond)) {
			t.Fatalf("created %+v", ck)
		}
		keys, err := ps.ListKeys(ctx, p.ID)
		if err != nil || len(keys) != 2 || keys[0].ID != ck.ID {
			t.Fatalf("list: %+v %v", keys, err)
		}
		if keys[0].LastUsedAt != nil {
			t.Fatal("an unused key has lastUsedAt")
		}
		// Last use is written, and then not again within a minute.
		if _, err := ps.Authenticate(ctx, ck.Key); err != nil {
			t.Fatal(err)
		}
		first := lastUsed(t, ps, p.ID, ck.ID)
		if first == nil || !first.Equal(clk.now().Truncate(time.Millisecond)) {
			t.Fatalf("lastUsedAt %v", first)
		}
		clk.add(30 * time.Second)
		_, _ = ps.Authenticate(ctx, ck.Key)
		if got := lastUsed(t, ps, p.ID, ck.ID); !got.Equal(*first) {
			t.Fatalf("lastUsedAt rewritten within a minute: %v", got)
		}
		clk.add(31 * time.Second)
		_, _ = ps.Authenticate(ctx, ck.Key)
		if got := lastUsed(t, ps, p.ID, ck.ID); !got.After(*first) {
			t.Fatalf("lastUsedAt not advanced after a minute: %v", got)
		}
		// Expiry.
		clk.add(time.Hour)
		if _, err := ps.Authenticate(ctx, ck.Key); !errors.Is(err, projects.ErrKeyExpired) {
			t.Fatalf("expired key: %v", err)
		}
		// Revocation is project-scoped over the API, refused at once, idempotent.
		other, _, _, err := ps.EnsureWithKey(ctx, "other", "x", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ps.RevokeKey(ctx, other.ID, adminKey.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("revoked another project's key: %v", err)
		}
		k, err := ps.RevokeKey(ctx, p.ID, adminKey.ID)
		if err != nil || k.RevokedAt == nil {
			t.Fatalf("revoke: %+v %v", k, err)
		}
		if _, err := ps.Authenticate(ctx, admin); !errors.Is(err, projects.ErrKeyRevoked) {
			t.Fatalf("revoked key: %v", err)
		}
		// A second service (another node) has nothing cached: refused too.
		if _, err := projects.NewService(st, nil).Authenticate(ctx, admin); !errors.Is(err, projects.ErrKeyRevoked) {
			t.Fatalf("revoked key on a second service: %v", err)
		}
		again, err := ps.RevokeKey(ctx, "", adminKey.ID)
		if err != nil || !again.RevokedAt.Equal(*k.RevokedAt) {
			t.Fatalf("second revoke: %+v %v", again, err)
		}
		all, err := ps.ListKeys(ctx, "")
		if err != nil || len(all) != 3 {
			t.Fatalf("list all: %d %v", len(all), err)
		}
	})
}

func lastUsed(t *testing.T, ps *projects.Service, projectID, id string) *time.Time {
	t.Helper()
	keys, err := ps.ListKeys(context.Background(), projectID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id {
			return k.LastUsedAt
		}
	}
	t.Fatalf("key %s not listed", id)
	return nil
}

func ptr[T any](v T) *T { return &v }
