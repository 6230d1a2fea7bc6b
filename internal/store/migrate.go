package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations are numbered files, one per change, with the same numbers for
// both dialects: migrations/<dialect>/NNNN_name.up.sql. From 0014 on the
// numbers have no gaps (TestMigrationNumbers), so a missing number always
// means a migration that was not applied, never one that does not exist.
//
//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	return readMigrations(s.dialect.Name())
}

// readMigrations returns the embedded migrations of a dialect, by version.
func readMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with a number and _", name)
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// ErrSchemaBehind means the database needs `codeqr migrate` (or serve's
// automatic migration) before this binary can use it.
var ErrSchemaBehind = errors.New("database schema is behind this binary; run `codeqr migrate`")

// SchemaVersion returns the highest applied migration (0 for a new database)
// and the highest this binary knows. It is a summary for people; CheckSchema
// compares the whole sets.
func (s *Store) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	ms, err := s.migrations()
	if err != nil {
		return 0, 0, err
	}
	if len(ms) > 0 {
		known = ms[len(ms)-1].version
	}
	versions, err := s.appliedVersions(ctx)
	if err != nil {
		return 0, known, err
	}
	if len(versions) > 0 {
		applied = versions[len(versions)-1]
	}
	return applied, known, nil
}

// appliedVersions returns the versions recorded in schema_migrations, ascending.
func (s *Store) appliedVersions(ctx context.Context) ([]int, error) {
	if err := s.ensureMigrationTable(ctx); err != nil {
		return nil, err
	}
	rows, err := s.write.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("store: read applied migrations: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: read applied migrations: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read applied migrations: %w", err)
	}
	return out, nil
}

// CheckSchema refuses a database whose set of applied migrations is not
// exactly the set this binary embeds. Comparing sets rather than the highest
// number catches a database that skipped an intermediate migration (say a
// branch's 0015 applied before 0014 existed): its maximum looks current but a
// table or index is missing. A version this binary does not know is refused
// too: a newer codeqr migrated the database, and this binary cannot tell
// whether its queries still fit that schema.
func (s *Store) CheckSchema(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return err
	}
	have := make(map[int]bool, len(applied))
	for _, v := range applied {
		have[v] = true
	}
	known := make(map[int]bool, len(ms))
	var missing []string
	for _, m := range ms {
		known[m.version] = true
		if !have[m.version] {
			missing = append(missing, strings.TrimSuffix(m.name, ".up.sql"))
		}
	}
	var unknown []string
	for _, v := range applied {
		if !known[v] {
			unknown = append(unknown, fmt.Sprintf("%04d", v))
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("store: the database has migration(s) %s that this binary does not know (a newer codeqr migrated it); upgrade codeqr",
			strings.Join(unknown, ", "))
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w (missing migration(s) %s)", ErrSchemaBehind, strings.Join(missing, ", "))
	}
	return nil
}

func (s *Store) ensureMigrationTable(ctx context.Context) error {
	_, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`)
	if err != nil && s.dialect.uniqueViolation(err) == nil {
		// Two PostgreSQL nodes creating the table at once may collide on the
		// catalog; the table then exists, which is all we wanted.
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	return nil
}

// Migrate applies every migration not yet applied, each in its own
// transaction, and returns how many it applied. Safe to run from several
// processes at once.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	ms, err := s.migrations()
	if err != nil {
		return 0, err
	}
	if err := s.ensureMigrationTable(ctx); err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range ms {
		did, err := s.applyMigration(ctx, m)
		if err != nil {
			return applied, err
		}
		if did {
			applied++
			s.logger.InfoContext(ctx, "store: applied migration", "version", m.version, "name", m.name)
		}
	}
	return applied, nil
}

func (s *Store) applyMigration(ctx context.Context, m migration) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: begin migration %s: %w", m.name, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := s.dialect.lockMigrations(ctx, tx); err != nil {
		return false, fmt.Errorf("store: lock migrations: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
		return false, fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.version, m.name, time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("store: record migration %s: %w", m.name, err)
	}
	return true, tx.Commit()
}
