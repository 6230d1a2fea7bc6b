package datadir_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/datadir"
)

func TestSecondLockIsRefusedUntilReleased(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no flock on Windows: the data directory is not guarded there (README)")
	}
	dir := filepath.Join(t.TempDir(), "data")
	l, err := datadir.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v %v", fi.Mode().Perm(), err)
	}
	_, err = datadir.Acquire(dir)
	if !errors.Is(err, datadir.ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := datadir.Acquire(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	_ = l2.Release()
}
