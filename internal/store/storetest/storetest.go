// Package storetest gives tests real, isolated databases: a fresh SQLite file
// per test, and a fresh PostgreSQL schema per test on the server named by
// CODEQR_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
//
// PostgreSQL tests are skipped, loudly, when no server answers — unless
// CODEQR_TEST_POSTGRES=required (as .ci/run sets), which turns that into a
// failure so that CI can never pass on SQLite alone.
//
// CODEQR_TEST_DATABASES=sqlite (or =postgres) runs one database's half of the
// suite: every test or subtest on the other database is skipped. Unset, both
// run.
package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
)

// DefaultPostgresURL is the CI machine's PostgreSQL.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects lists the databases Each runs on.
var Dialects = []string{"sqlite", "postgres"}

// Only skips t unless CODEQR_TEST_DATABASES selects dialect (unset selects
// every dialect). An unknown value fails the test rather than running nothing.
func Only(t testing.TB, dialect string) {
	t.Helper()
	v := os.Getenv("CODEQR_TEST_DATABASES")
	switch v {
	case "", dialect:
		return
	case "sqlite", "postgres":
		t.Skipf("storetest: %s not selected (CODEQR_TEST_DATABASES=%s)", dialect, v)
	default:
		t.Fatalf("storetest: CODEQR_TEST_DATABASES=%q: want sqlite or postgres (or unset for both)", v)
	}
}

// Each runs fn as a subtest once per database, each with a fresh migrated store.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, New(t, d))
		})
	}
}

// EachURL runs fn once per database with a database location for a separate
// process: ("", dataDir) for SQLite, (postgresURL, "") for PostgreSQL.
func EachURL(t *testing.T, fn func(t *testing.T, databaseURL, dataDir string)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			if d == "sqlite" {
				Only(t, d)
				fn(t, "", t.TempDir())
				return
			}
			fn(t, PostgresURL(t), "")
		})
	}
}

// New returns a fresh, migrated store of the given dialect, closed at cleanup
// (the test is skipped when CODEQR_TEST_DATABASES selects another dialect).
func New(t testing.TB, dialect string) *store.Store {
	t.Helper()
	Only(t, dialect)
	ctx := context.Background()
	var (
		st  *store.Store
		err error
	)
	switch dialect {
	case "sqlite":
		st, err = store.Open(ctx, "", filepath.Join(t.TempDir(), "codeqr.db"), store.Options{})
	case "postgres":
		st, err = store.Open(ctx, PostgresURL(t), "", store.Options{MaxConns: 8})
	default:
		t.Fatalf("storetest: unknown dialect %q", dialect)
	}
	if err != nil {
		t.Fatalf("storetest: open %s: %v", dialect, err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate %s: %v", dialect, err)
	}
	return st
}

func adminURL() string {
	if u := os.Getenv("CODEQR_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// PostgresURL creates a fresh schema and returns a URL whose connections use it.
// The schema is dropped at cleanup.
func PostgresURL(t testing.TB) string {
	t.Helper()
	Only(t, "postgres")
	admin := adminURL()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		if os.Getenv("CODEQR_TEST_POSTGRES") == "required" {
			t.Fatalf("storetest: PostgreSQL is required (CODEQR_TEST_POSTGRES=required) but %s does not answer: %v", admin, err)
		}
		t.Skipf("storetest: PostgreSQL not reachable at %s (%v); set CODEQR_TEST_POSTGRES=required to make this a failure", admin, err)
	}
	schema := "t_" + strings.ToLower(ids.Random(12))
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("storetest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("storetest: parse %s: %v", admin, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MustExec runs a statement or fails the test.
func MustExec(t testing.TB, q store.Querier, query string, args ...any) {
	t.Helper()
	if _, err := q.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("exec %s: %v", query, err)
	}
}

// Count returns SELECT COUNT(*) of a query.
func Count(t testing.TB, q store.Querier, query string, args ...any) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", query, err)
	}
	return n
}

// TwoNodes opens one fresh, migrated database of dialect twice, as two server
// processes sharing it would; both stores are closed at cleanup.
func TwoNodes(t testing.TB, dialect string) (*store.Store, *store.Store) {
	t.Helper()
	ctx := context.Background()
	var url, path string
	switch dialect {
	case "sqlite":
		path = filepath.Join(t.TempDir(), "codeqr.db")
	case "postgres":
		url = PostgresURL(t)
	default:
		t.Fatalf("storetest: unknown dialect %q", dialect)
	}
	open := func() *store.Store {
		st, err := store.Open(ctx, url, path, store.Options{MaxConns: 4})
		if err != nil {
			t.Fatalf("storetest: open %s: %v", dialect, err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatalf("storetest: migrate %s: %v", dialect, err)
		}
		return st
	}
	return open(), open()
}
