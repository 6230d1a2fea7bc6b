// Package datadir guards a SQLite data directory against a second server: two
// `codeqr serve` processes on one SQLite file would each believe they are the
// only writer (the group commit, the delivery leases and the in-memory caches
// all assume one process). serve takes an exclusive OS lock on a lock file in
// the directory and keeps it until it exits; the OS drops the lock when the
// process dies, even by kill -9, so a stale lock file never blocks a restart.
//
// Short-lived commands (keys, migrate) do not take the lock: they are safe
// beside a running server.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockName is the lock file's name inside the data directory.
const LockName = "codeqr.lock"

// ErrLocked means another process holds the data directory.
var ErrLocked = errors.New("data directory is in use by another codeqr serve")

// Lock is a held lock; Release it when the server exits.
type Lock struct{ f *os.File }

// Acquire creates dir (owner-only) if needed and locks it, or fails at once
// with an error wrapping ErrLocked that names the holder's pid.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, errWouldBlock) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("%w (pid %s holds %s); stop it first, or give this one another --data-dir", ErrLocked, pid, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The pid is for the message above only; the lock itself is the OS's.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock. It is safe on a nil Lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	return errors.Join(err, l.f.Close())
}
