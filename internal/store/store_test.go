package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestMigrateIsIdempotentAndChecked(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		n, err := st.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second migrate: applied %d, err %v", n, err)
		}
		if err := st.CheckSchema(ctx); err != nil {
			t.Fatalf("check schema: %v", err)
		}
	})
}

func TestSchemaBehindIsRefused(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), "", t.TempDir()+"/x.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CheckSchema(context.Background()); !errors.Is(err, store.ErrSchemaBehind) {
		t.Fatalf("want ErrSchemaBehind, got %v", err)
	}
}

// Concurrent writers must queue, never fail with "database is locked".
func TestConcurrentWritersDoNotFail(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		storetest.MustExec(t, st.Read(), "SELECT 1")
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p1','p1','p',0,0)")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 400)
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					err := st.InTx(ctx, func(tx *store.Tx) error {
						var n int
						if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM tags").Scan(&n); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, "INSERT INTO tags (id, project_id, name, color, created_at, updated_at) VALUES ($1, 'p1', $1, 'red', 0, 0)",
							fmt.Sprintf("t%d-%d", w, i))
						return err
					})
					if err != nil {
						errs <- err
					}
					if _, err := st.Read().ExecContext(ctx, "SELECT COUNT(*) FROM tags"); err != nil {
						errs <- err
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent write failed: %v", err)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM tags"); n != 400 {
			t.Fatalf("want 400 tags, got %d", n)
		}
	})
}

// The store translates driver errors itself, on the same seam domain code
// uses (Read, InTx, Row.Scan): no row is ErrNotFound, a duplicate key is a
// *UniqueViolation naming the key.
func TestStoreTranslatesMissingRowsAndDuplicates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		exec := func(query string) error {
			return st.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, query)
				return err
			})
		}
		if err := exec("INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p1','p1','p',0,0)"); err != nil {
			t.Fatal(err)
		}

		// A missing row, outside and inside a transaction.
		var name string
		err := st.Read().QueryRowContext(ctx, "SELECT name FROM projects WHERE id = $1", "nope").Scan(&name)
		if !errors.Is(err, store.ErrNotFound) || errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("read of a missing row: want ErrNotFound (a not-found kind), got %v", err)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, "SELECT name FROM projects WHERE id = $1", "nope").Scan(&name)
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("read of a missing row in a transaction: want ErrNotFound, got %v", err)
		}
		if err := st.Read().QueryRowContext(ctx, "SELECT name FROM projects WHERE id = $1", "p1").Scan(&name); err != nil || name != "p" {
			t.Fatalf("read of a present row: %q, %v", name, err)
		}

		// A duplicate by Exec, with the key named.
		err = exec("INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p2','p1','p',0,0)")
		var uv *store.UniqueViolation
		if !errors.Is(err, store.ErrUniqueViolation) || !errors.As(err, &uv) {
			t.Fatalf("duplicate slug: want a unique violation, got %v", err)
		}
		if uv.Table != "projects" || !slices.Equal(uv.Columns, []string{"slug"}) {
			t.Fatalf("duplicate slug: want projects(slug), got table %q columns %q (%v)", uv.Table, uv.Columns, err)
		}
		if st.Dialect().Name() == "postgres" && uv.Constraint == "" {
			t.Fatalf("postgres names the constraint: %v", err)
		}
		if errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a unique violation is not a missing row: %v", err)
		}
		// A duplicate primary key.
		if err := exec("INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p1','other','p',0,0)"); !errors.Is(err, store.ErrUniqueViolation) {
			t.Fatalf("duplicate id: want a unique violation, got %v", err)
		}

		// A duplicate of a two-column key, found by an INSERT … RETURNING.
		if err := exec("INSERT INTO tags (id, project_id, name, color, created_at, updated_at) VALUES ('t1','p1','a','red',0,0)"); err != nil {
			t.Fatal(err)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			var id string
			return tx.QueryRowContext(ctx, "INSERT INTO tags (id, project_id, name, color, created_at, updated_at) VALUES ('t2','p1','a','red',0,0) RETURNING id").Scan(&id)
		})
		if !errors.As(err, &uv) || !slices.Equal(uv.Columns, []string{"project_id", "name"}) {
			t.Fatalf("duplicate tag name: want a unique violation on (project_id, name), got %v", err)
		}

		// Concurrent duplicates (on SQLite several may share one group commit):
		// exactly one wins, every other one sees a unique violation.
		const n = 8
		results := make(chan error, n)
		for range n {
			go func() {
				results <- exec("INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p3','p3','p',0,0)")
			}()
		}
		won := 0
		for range n {
			err := <-results
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrUniqueViolation):
				t.Errorf("concurrent duplicate: want a unique violation, got %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("concurrent duplicates: %d won, want 1", won)
		}
	})
}

func TestAfterCommitRunsOnlyOnCommit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ran := 0
		_ = st.InTx(context.Background(), func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran++ })
			return errors.New("rollback")
		})
		_ = st.InTx(context.Background(), func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran += 10 })
			return nil
		})
		if ran != 10 {
			t.Fatalf("after-commit ran %d", ran)
		}
	})
}

// Callers that share a group commit stay independent: a failing caller's writes
// are rolled back alone, the others commit, and a panic reaches its own caller.
func TestSharedCommitsKeepCallersIndependent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p1','p1','p',0,0)")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		committed, failed, panics := 0, 0, 0
		for i := 0; i < 300; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer func() {
					if recover() != nil {
						mu.Lock()
						panics++
						mu.Unlock()
					}
				}()
				err := st.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.ExecContext(ctx, "INSERT INTO tags (id, project_id, name, color, created_at, updated_at) VALUES ($1, 'p1', $1, 'red', 0, 0)", fmt.Sprintf("t%d", i)); err != nil {
						return err
					}
					switch i % 10 {
					case 3:
						return errors.New("caller gives up after writing")
					case 7:
						panic("caller panics after writing")
					case 9:
						// A constraint error half-way through.
						_, err := tx.ExecContext(ctx, "INSERT INTO tags (id, project_id, name, color, created_at, updated_at) VALUES ($1, 'p1', $1, 'red', 0, 0)", fmt.Sprintf("t%d", i))
						return err
					}
					return nil
				})
				mu.Lock()
				if err == nil {
					committed++
				} else {
					failed++
				}
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		if committed != 210 || failed != 60 || panics != 30 {
			t.Fatalf("committed %d failed %d panics %d", committed, failed, panics)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM tags"); n != 210 {
			t.Fatalf("want 210 tags, got %d", n)
		}
		for _, bad := range []int{3, 7, 9, 13, 299} {
			if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM tags WHERE id = $1", fmt.Sprintf("t%d", bad)); n != 0 {
				t.Fatalf("failed caller t%d left its write", bad)
			}
		}
	})
}

// A caller whose context is cancelled while its statements run must not take
// other callers' writes down with it.
func TestCancelledCallerDoesNotBreakOthers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		storetest.MustExec(t, st.Read(), "SELECT 1")
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p1','p1','p',0,0)")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				cctx, cancel := context.WithCancel(ctx)
				if i%2 == 0 {
					defer cancel()
				}
				err := st.InTx(cctx, func(tx *store.Tx) error {
					if i%2 == 1 {
						cancel()
					}
					_, err := tx.ExecContext(cctx, "INSERT INTO tags (id, project_id, name, color, created_at, updated_at) VALUES ($1, 'p1', $1, 'red', 0, 0)", fmt.Sprintf("t%d", i))
					if err == nil && cctx.Err() != nil {
						return cctx.Err()
					}
					return err
				})
				if i%2 == 0 && err != nil {
					t.Errorf("uncancelled caller %d: %v", i, err)
				}
			}(i)
		}
		wg.Wait()
		for i := 0; i < 200; i += 2 {
			if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM tags WHERE id = $1", fmt.Sprintf("t%d", i)); n != 1 {
				t.Fatalf("uncancelled caller t%d lost its write", i)
			}
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM tags"); n != 100 {
			t.Fatalf("want 100 tags, got %d", n)
		}
	})
}

// The schema check compares the set of applied migrations with the embedded
// set: a database that skipped an intermediate migration is behind even though
// its highest version is current, and one that a newer binary migrated is
// refused. Both messages name the versions.
func TestSchemaCheckComparesVersionSets(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		exec := func(query string, args ...any) {
			t.Helper()
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, query, args...)
				return err
			}); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		applied, known, err := st.SchemaVersion(ctx)
		if err != nil || applied != known || known < 13 {
			t.Fatalf("fresh store: applied %d, known %d, err %v", applied, known, err)
		}

		// An intermediate version missing: the maximum still matches.
		exec("DELETE FROM schema_migrations WHERE version = 12")
		if applied, _, _ := st.SchemaVersion(ctx); applied != known {
			t.Fatalf("the highest version must be unchanged, got %d want %d", applied, known)
		}
		err = st.CheckSchema(ctx)
		if !errors.Is(err, store.ErrSchemaBehind) || !strings.Contains(err.Error(), "0012_analytics_indexes") {
			t.Fatalf("a missing 0012: want ErrSchemaBehind naming 0012_analytics_indexes, got %v", err)
		}
		exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (12, '0012_analytics_indexes.up.sql', 0)")
		if err := st.CheckSchema(ctx); err != nil {
			t.Fatalf("restored 0012: %v", err)
		}

		// A version this binary does not know: a newer binary migrated it.
		exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.up.sql', 0)")
		err = st.CheckSchema(ctx)
		if err == nil || errors.Is(err, store.ErrSchemaBehind) || !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), "upgrade codeqr") {
			t.Fatalf("an unknown 9999: want a refusal naming 9999 that asks for an upgrade, got %v", err)
		}
		// Migrate leaves the unknown version alone and the check still refuses.
		if n, err := st.Migrate(ctx); err != nil || n != 0 {
			t.Fatalf("migrate with an unknown version: applied %d, err %v", n, err)
		}
		if err := st.CheckSchema(ctx); err == nil {
			t.Fatal("an unknown version must still be refused after migrate")
		}
	})
}
