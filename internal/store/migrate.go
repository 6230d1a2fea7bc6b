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
// both dialects: migrations/<dialect>/NNNN_name.up.sql.
//
//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := path.Join("migrations", s.dialect.Name())
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
// and the highest this binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	ms, err := s.migrations()
	if err != nil {
		return 0, 0, err
	}
	if len(ms) > 0 {
		known = ms[len(ms)-1].version
	}
	if err := s.ensureMigrationTable(ctx); err != nil {
		return 0, known, err
	}
	err = s.write.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&applied)
	if err != nil {
		return 0, known, fmt.Errorf("store: read schema version: %w", err)
	}
	return applied, known, nil
}

// CheckSchema refuses a database whose schema is behind (or ahead of) this binary.
func (s *Store) CheckSchema(ctx context.Context) error {
	applied, known, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if applied < known {
		return fmt.Errorf("%w (at %d, need %d)", ErrSchemaBehind, applied, known)
	}
	if applied > known {
		return fmt.Errorf("store: database schema %d is newer than this binary (%d); upgrade codeqr", applied, known)
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
