// Package store is the one door to the database: it opens SQLite or PostgreSQL,
// applies the versioned migrations of each, and runs transactions.
//
// Contract, for every package that writes SQL against it:
//   - SQL is written once, with $1, $2 … placeholders, which both dialects accept.
//     Where the dialects really differ, the difference is a method of Dialect,
//     never an `if sqlite` in domain code.
//   - Times are int64 Unix milliseconds (see Millis), booleans are BOOLEAN,
//     JSON documents are TEXT.
//   - A lookup that finds nothing returns ErrNotFound, never (nil, nil).
//   - The store translates driver errors itself: a single-row query with no
//     row gives ErrNotFound (Row.Scan), a write refused by a unique key gives a
//     *UniqueViolation (errors.Is(err, ErrUniqueViolation)). Domain code never
//     looks at database/sql or driver errors.
//   - ErrNotFound is errs.ErrNotFound: the failure vocabulary (errs) is the
//     innermost package and imports nothing of ours; the store speaks it, so a
//     missing row is a not-found failure everywhere, including the API's one
//     error mapping, without errs depending on the store.
//   - Every change and the events describing it are written through one Tx
//     (InTx), so they commit together or not at all.
//
// SQLite runs with one write connection beside a pool of readers: writers queue
// in Go instead of failing with "database is locked", and readers never wait for
// writers (WAL). Busy errors that still come from other processes sharing the
// file (e.g. `codeqr keys create` while `serve` runs) are retried in InTx.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Querier is what both the read pool (Read) and a transaction (Tx) offer;
// functions that only read take a Querier so they work inside and outside
// transactions. Its errors are already translated (ErrNotFound,
// *UniqueViolation).
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *Row
}

// Dialect is everything that differs between SQLite and PostgreSQL.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// IsBusy reports whether err means "try the transaction again" (SQLite busy,
	// PostgreSQL serialization failure or deadlock).
	IsBusy(err error) bool
	// SkipLocked is appended to a claiming SELECT: " FOR UPDATE SKIP LOCKED" on
	// PostgreSQL, where several nodes claim concurrently; empty on SQLite, where
	// the single writer already serialises claims.
	SkipLocked() string
	// NowMillis is a SQL expression for the database's current time in Unix
	// milliseconds (the schema's time format). Leases are written and judged
	// with it, so nodes whose clocks disagree still agree on when a lease
	// has run out.
	NowMillis() string
	// SharedByNodes reports whether several server processes may use the
	// database at once: true on PostgreSQL; false on SQLite, whose file is one
	// node's by construction, so every lease found at start is that node's
	// own, left by a crash.
	SharedByNodes() bool
	// rebind adapts a query's $N placeholders to what the driver binds
	// fastest (the query text every caller writes uses $1, $2 …).
	rebind(query string) string
	// uniqueViolation describes err when it is a unique or primary key
	// violation, else returns nil.
	uniqueViolation(err error) *UniqueViolation
	// lockMigrations makes concurrent migrators wait for each other.
	lockMigrations(ctx context.Context, tx *sql.Tx) error
}

// Store holds the connection pools of one database.
type Store struct {
	write   *sql.DB
	read    *sql.DB
	reader  Querier // read, translating errors
	dialect Dialect
	logger  *slog.Logger
	// batcher groups SQLite write transactions (nil on PostgreSQL).
	batcher *batchWriter
}

// Options tune Open. The zero value is right for a server.
type Options struct {
	// MaxConns caps PostgreSQL connections (default 20) and SQLite readers (default 4).
	MaxConns int
	Logger   *slog.Logger
}

// Open connects to PostgreSQL when databaseURL is set, else to the SQLite file
// at sqlitePath (creating its folder). It does not migrate; see Migrate.
func Open(ctx context.Context, databaseURL, sqlitePath string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var (
		s   *Store
		err error
	)
	if databaseURL != "" {
		s, err = openPostgres(databaseURL, opts)
	} else {
		s, err = openSQLite(sqlitePath, opts)
	}
	if err != nil {
		return nil, err
	}
	s.reader = reader{db: s.read, dialect: s.dialect}
	if err := s.write.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", s.dialect.Name(), err)
	}
	return s, nil
}

// Close closes every pool.
func (s *Store) Close() error {
	if s.batcher != nil {
		s.batcher.close()
	}
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Dialect tells which database this is and how it differs.
func (s *Store) Dialect() Dialect { return s.dialect }

// Read is for queries outside a transaction. On SQLite it is a pool of readers
// that sees every committed write.
func (s *Store) Read() Querier { return s.reader }

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.write.PingContext(ctx) }

// Tx is a write transaction. Besides the three query methods it can run
// functions after it commits, e.g. to wake the delivery dispatcher only once
// its rows are visible.
//
// Once begun, a transaction runs to its end: its statements ignore the
// cancellation of the context passed to them. On SQLite several callers'
// functions may share one database transaction (group commit, see batchWriter)
// and a cancelled statement would make SQLite roll back all of them; on
// PostgreSQL a cancelled statement makes the driver drop the connection. A
// client that goes away mid-request should not do either.
type Tx struct {
	tx          *sql.Tx
	dialect     Dialect
	stmts       *stmtCache // nil: no statement cache (PostgreSQL caches itself)
	shielded    bool       // statements ignore ctx cancellation
	afterCommit []func()
}

// AfterCommit registers f to run once the transaction has committed.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

func (tx *Tx) prepare(ctx context.Context, query string) (context.Context, *sql.Stmt) {
	if tx.shielded {
		ctx = context.WithoutCancel(ctx)
	}
	if tx.stmts == nil {
		return ctx, nil
	}
	stmt := tx.stmts.get(query)
	if stmt == nil {
		return ctx, nil
	}
	return ctx, tx.tx.StmtContext(ctx, stmt)
}

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = tx.dialect.rebind(query)
	ctx, stmt := tx.prepare(ctx, query)
	var (
		res sql.Result
		err error
	)
	if stmt != nil {
		res, err = stmt.ExecContext(ctx, args...)
	} else {
		res, err = tx.tx.ExecContext(ctx, query, args...)
	}
	return res, translate(tx.dialect, err)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = tx.dialect.rebind(query)
	ctx, stmt := tx.prepare(ctx, query)
	var (
		rows *sql.Rows
		err  error
	)
	if stmt != nil {
		rows, err = stmt.QueryContext(ctx, args...)
	} else {
		rows, err = tx.tx.QueryContext(ctx, query, args...)
	}
	return rows, translate(tx.dialect, err)
}

// QueryRowContext runs a query that returns at most one row in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *Row {
	query = tx.dialect.rebind(query)
	ctx, stmt := tx.prepare(ctx, query)
	if stmt != nil {
		return &Row{row: stmt.QueryRowContext(ctx, args...), dialect: tx.dialect}
	}
	return &Row{row: tx.tx.QueryRowContext(ctx, query, args...), dialect: tx.dialect}
}

const maxBusyRetries = 20

// InTx runs fn in a write transaction and commits it if fn returns nil; if fn
// returns an error nothing it wrote is kept. fn may run more than once when the
// database asks for a retry, so it must not have side effects outside tx (use
// AfterCommit for those), and it must not call InTx itself.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	for attempt := 0; ; attempt++ {
		var err error
		if s.batcher != nil {
			err = s.batcher.run(ctx, fn)
		} else {
			err = s.inTxOnce(ctx, fn)
		}
		if err == nil || !(s.dialect.IsBusy(err) || errors.Is(err, errBeginBadConn)) || attempt >= maxBusyRetries || ctx.Err() != nil {
			return err
		}
		s.logger.DebugContext(ctx, "store: retrying busy transaction", "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
}

// errBeginBadConn marks a transaction that could not begin on a broken
// connection (e.g. after the database restarted): nothing ran, so it is retried.
var errBeginBadConn = errors.New("store: begin on a broken connection")

func (s *Store) inTxOnce(ctx context.Context, fn func(tx *Tx) error) error {
	// Waiting for a connection honours ctx, but the transaction itself is
	// begun without cancellation: pgx commits with the context given to
	// BeginTx, and a cancellation during COMMIT drops the connection with the
	// outcome unknown — the commit may have happened while the caller sees an
	// error. (The deliverer's claim, cancelled by Stop, then left rows leased
	// that no node knew it held until the lease ran out.)
	conn, err := s.write.Conn(ctx)
	if err != nil {
		if errors.Is(err, driver.ErrBadConn) {
			return fmt.Errorf("%w: %w", errBeginBadConn, err)
		}
		return fmt.Errorf("store: begin: %w", err)
	}
	defer conn.Close()
	sqlTx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		if errors.Is(err, driver.ErrBadConn) {
			return fmt.Errorf("%w: %w", errBeginBadConn, err)
		}
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, dialect: s.dialect, shielded: true}
	defer func() {
		// A panicking fn must not leave its connection inside a transaction.
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// Millis converts a time to the stored representation.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis converts a stored time back, in UTC.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// NullMillis converts a nullable stored time; nil when NULL.
func NullMillis(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := FromMillis(v.Int64)
	return &t
}

// MillisOrNil is the argument form of an optional time.
func MillisOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// NullString returns nil for NULL, else a pointer to the string.
func NullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}

// StringOrNil is the argument form of an optional string.
func StringOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// Placeholders returns "$start, $start+1, …" n times, for IN lists.
func Placeholders(start, n int) string {
	b := make([]byte, 0, n*4)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "$%d", start+i)
	}
	return string(b)
}
