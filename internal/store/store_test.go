package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

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

func TestUniqueViolationIsRecognised(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		insert := func() error {
			return st.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ('p1','p1','p',0,0)")
				return err
			})
		}
		if err := insert(); err != nil {
			t.Fatal(err)
		}
		if err := insert(); !st.Dialect().IsUniqueViolation(err) {
			t.Fatalf("want unique violation, got %v", err)
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
