package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/codeqr/codeqr/internal/errs"
)

// ErrNotFound is returned when a row that was asked for does not exist: by
// Row.Scan for a single-row query that found none, and by domain lookups. It
// is errs.ErrNotFound itself, so it is a not-found failure (errs.KindOf) to
// every caller without the failure vocabulary having to know the store.
var ErrNotFound = errs.ErrNotFound

// ErrUniqueViolation matches (errors.Is) every *UniqueViolation.
var ErrUniqueViolation = errors.New("store: unique violation")

// UniqueViolation is a write refused by a unique index or primary key. Use
// errors.Is(err, ErrUniqueViolation) to test for one, errors.As for the detail.
type UniqueViolation struct {
	// Constraint is the index or constraint name where the database tells it
	// (PostgreSQL); empty on SQLite.
	Constraint string
	// Table and Columns name the clashing key where the database tells them
	// (SQLite always; PostgreSQL when the detail is readable).
	Table   string
	Columns []string
	err     error
}

func (e *UniqueViolation) Error() string {
	what := e.Constraint
	if what == "" {
		what = e.Table + "(" + strings.Join(e.Columns, ", ") + ")"
	}
	return fmt.Sprintf("store: unique violation on %s: %v", what, e.err)
}

// Unwrap gives the driver's error.
func (e *UniqueViolation) Unwrap() error { return e.err }

// Is makes every UniqueViolation match ErrUniqueViolation.
func (e *UniqueViolation) Is(target error) bool { return target == ErrUniqueViolation }

// translate turns driver errors into the store's own: no row becomes
// ErrNotFound, a unique violation becomes *UniqueViolation. Other errors pass
// unchanged.
func translate(d Dialect, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var uv *UniqueViolation
	if errors.As(err, &uv) {
		return err
	}
	if uv := d.uniqueViolation(err); uv != nil {
		return uv
	}
	return err
}

// Row is the result of a single-row query. Its Scan returns ErrNotFound when
// there was no row and *UniqueViolation when the statement (an INSERT …
// RETURNING) broke a unique key.
type Row struct {
	row     *sql.Row
	dialect Dialect
}

// Scan copies the row's columns into dest, like sql.Row.Scan.
func (r *Row) Scan(dest ...any) error { return translate(r.dialect, r.row.Scan(dest...)) }

// Err reports the query's error without scanning, like sql.Row.Err.
func (r *Row) Err() error { return translate(r.dialect, r.row.Err()) }

// reader is the Querier of the read pool.
type reader struct {
	db      *sql.DB
	dialect Dialect
}

func (r reader) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := r.db.ExecContext(ctx, r.dialect.rebind(query), args...)
	return res, translate(r.dialect, err)
}

func (r reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := r.db.QueryContext(ctx, r.dialect.rebind(query), args...)
	return rows, translate(r.dialect, err)
}

func (r reader) QueryRowContext(ctx context.Context, query string, args ...any) *Row {
	return &Row{row: r.db.QueryRowContext(ctx, r.dialect.rebind(query), args...), dialect: r.dialect}
}
