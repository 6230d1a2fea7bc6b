package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

type sqliteDialect struct{}

func (sqliteDialect) Name() string { return "sqlite" }

// rebind turns $1 … $n into plain ? when each appears exactly once and in
// order (the multi-row inserts of the hot paths, for example), and leaves any
// other query as it is. SQLite finds a named parameter ($N) by a linear
// search of the statement's parameter list, so binding n of them costs n²:
// with the interaction batch's hundreds of parameters that search was half
// the CPU of a redirect load. Positional ? parameters are bound by index.
func (sqliteDialect) rebind(query string) string {
	if !strings.Contains(query, "$") || strings.ContainsAny(query, "?") ||
		strings.Contains(query, "--") || strings.Contains(query, "/*") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	next := 1
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote re-opens at once: same result
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '$':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(query[i+1 : j])
			if err != nil || n != next {
				return query // reused, out of order, or not a parameter
			}
			next++
			b.WriteByte('?')
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	if quote != 0 {
		return query
	}
	return b.String()
}

func (sqliteDialect) uniqueViolation(err error) *UniqueViolation {
	var e *sqlite.Error
	if !errors.As(err, &e) || (e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && e.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return nil
	}
	table, cols := sqliteKeyColumns(e.Error())
	return &UniqueViolation{Table: table, Columns: cols, err: err}
}

// sqliteKeyColumns reads table and columns out of SQLite's message,
// "UNIQUE constraint failed: links.domain, links.key"; empty when it has
// another shape (e.g. an index on an expression).
func sqliteKeyColumns(msg string) (table string, cols []string) {
	const marker = "constraint failed: " // the driver's message repeats it; the key follows the last
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return "", nil
	}
	list := msg[i+len(marker):]
	list, _, _ = strings.Cut(list, " (") // the driver appends " (2067)", the extended code
	for _, qualified := range strings.Split(list, ", ") {
		t, c, ok := strings.Cut(qualified, ".")
		if !ok {
			return "", nil
		}
		table = t
		cols = append(cols, c)
	}
	return table, cols
}

func (sqliteDialect) IsBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED
}

func (sqliteDialect) SkipLocked() string { return "" }

func (sqliteDialect) NowMillis() string { return "CAST(unixepoch('subsec') * 1000 AS INTEGER)" }

func (sqliteDialect) SharedByNodes() bool { return false }

// SQLite needs no lock: the migration transaction begins IMMEDIATE.
func (sqliteDialect) lockMigrations(context.Context, *sql.Tx) error { return nil }

func sqliteDSN(path string, write bool) string {
	q := url.Values{}
	// busy_timeout first, so that the pragmas after it already wait for a lock.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// A multi-row statement inside a transaction keeps a statement journal
	// (to undo just itself); in a temporary file that was a tenth of the
	// interaction batch's CPU, in syscalls.
	q.Add("_pragma", "temp_store(MEMORY)")
	if write {
		// The default 2 MiB page cache spills an interaction batch's dirty
		// rollup pages to the WAL before the commit, and rereads them:
		// 64 MiB holds a batch of 5,000 (about 25,000 rollup rows).
		q.Add("_pragma", "cache_size(-65536)")
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction never
		// fails half-way when it upgrades from reading to writing.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(path string, opts Options) (*Store, error) {
	// Owner-only: the database holds webhook secrets and hashed keys. SQLite
	// gives its -wal and -shm files the mode of the database file.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	}
	write, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// Create the file and switch it to WAL before readers open it read-only.
	if _, err := write.Exec("SELECT 1"); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite readers: %w", err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 4
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)
	return &Store{write: write, read: read, dialect: sqliteDialect{}, logger: opts.Logger, batcher: newBatchWriter(write)}, nil
}
