package projects_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// Keys made before the projects.* and keys.* scopes keep what they could do:
// migration 0014 gives every key projects.read, and a key that held every
// scope of the time projects.write, keys.read and keys.write as well.
func TestUpgradeGivesOldKeysTheNewScopes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ps := projects.NewService(st, nil)
		p, _, _, err := ps.EnsureWithKey(ctx, "acme", "seed", nil)
		if err != nil {
			t.Fatal(err)
		}
		old := "links.read links.write qrcodes.read qrcodes.write pages.read pages.write analytics.read webhooks.read webhooks.write conversions.write partners.read partners.write"
		exec := func(q string, args ...any) {
			t.Helper()
			if err := st.InTx(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// The database as it was before 0014, with two keys of that time.
		exec("DELETE FROM api_keys")
		exec("ALTER TABLE api_keys DROP COLUMN expires_at")
		exec("ALTER TABLE api_keys DROP COLUMN revoked_at")
		exec("ALTER TABLE deliveries DROP COLUMN lease_owner")
		exec("DELETE FROM schema_migrations WHERE version = 14")
		for _, k := range [][3]string{{"key_full", "hash_full", old}, {"key_ro", "hash_ro", "links.read"}} {
			exec("INSERT INTO api_keys (id, project_id, name, hash, start, scopes, created_at) VALUES ($1, $2, 'old', $3, 'codeqr_xxxx', $4, 0)",
				k[0], p.ID, k[1], k[2])
		}
		if n, err := st.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("migrate: applied %d, %v", n, err)
		}
		keys, err := ps.ListKeys(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, k := range keys {
			got[k.ID] = k.Scopes
		}
		full := append(strings.Fields(old), "projects.read", "projects.write", "keys.read", "keys.write")
		if !sameSet(got["key_full"], full) || !sameSet(got["key_full"], projects.AllScopes()) {
			t.Errorf("full key after the upgrade: %v", got["key_full"])
		}
		if !sameSet(got["key_ro"], []string{"links.read", "projects.read"}) {
			t.Errorf("read-only key after the upgrade: %v", got["key_ro"])
		}
		// Running it again changes nothing (it is recorded once).
		if n, err := st.Migrate(ctx); err != nil || n != 0 {
			t.Fatalf("second migrate: applied %d, %v", n, err)
		}
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
