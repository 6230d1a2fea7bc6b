package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A second serve on the same SQLite data directory refuses to start with a
// clear message and leaves the first one serving; after a kill -9 of the
// first, the lock is gone and a new serve starts. The data directory and the
// database files are owner-only.
func TestSecondServeOnOneDataDirRefuses(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	first := startServer(t, "", dir)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--addr", freeAddr(t), "--data-dir", dir)
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("second serve started:\n%s", out)
	}
	if !strings.Contains(string(out), "data directory is in use by another codeqr serve") {
		t.Fatalf("second serve's message:\n%s", out)
	}
	if readyStatus(first) != 200 {
		t.Fatal("the first server stopped answering")
	}

	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: readable by others", e.Name(), info.Mode().Perm())
		}
	}
	if len(entries) < 3 { // the lock, the database and its WAL at least
		t.Fatalf("data dir holds only %v", entries)
	}

	first.kill()
	first.restart()
}
