package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

type postgresDialect struct{}

func (postgresDialect) Name() string { return "postgres" }

func (postgresDialect) rebind(query string) string { return query }

func (postgresDialect) uniqueViolation(err error) *UniqueViolation {
	var e *pgconn.PgError
	if !errors.As(err, &e) || e.Code != "23505" {
		return nil
	}
	return &UniqueViolation{Constraint: e.ConstraintName, Table: e.TableName, Columns: pgKeyColumns(e.Detail), err: err}
}

// pgKeyColumns reads the columns out of a unique violation's detail,
// "Key (domain, key)=(…) already exists."; nil when it has another shape
// (e.g. an index on an expression).
func pgKeyColumns(detail string) []string {
	rest, ok := strings.CutPrefix(detail, "Key (")
	if !ok {
		return nil
	}
	cols, _, ok := strings.Cut(rest, ")=(")
	if !ok || strings.ContainsAny(cols, "()") {
		return nil
	}
	parts := strings.Split(cols, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func (postgresDialect) IsBusy(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

func (postgresDialect) SkipLocked() string { return " FOR UPDATE SKIP LOCKED" }

// statement_timestamp: the start of the statement, not of its transaction.
func (postgresDialect) NowMillis() string {
	return "CAST(FLOOR(EXTRACT(EPOCH FROM statement_timestamp()) * 1000) AS BIGINT)"
}

func (postgresDialect) SharedByNodes() bool { return true }

// migrationLockKey is an arbitrary constant shared by every codeqr node.
const migrationLockKey = 7_207_323_001

func (postgresDialect) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey)
	return err
}

func openPostgres(databaseURL string, opts Options) (*Store, error) {
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 20
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	return &Store{write: db, read: db, dialect: postgresDialect{}, logger: opts.Logger}, nil
}
