package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
)

func TestUsersCreateReadsPasswordFromStdin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	args := []string{"create", "--data-dir", dir, "--email", "Ops@Example.com", "--project", "acme"}
	if err := runUsers(ctx, args, strings.NewReader("a long passphrase\n"), &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "created user ops@example.com") || !strings.Contains(out.String(), "created project acme") {
		t.Fatalf("output: %q", out.String())
	}
	// The same e-mail twice is refused; an empty stdin is an error, not an
	// empty password.
	if err := runUsers(ctx, args, strings.NewReader("another passphrase\n"), &out, &errOut); err == nil || !strings.Contains(err.Error(), "already has an account") {
		t.Fatalf("duplicate: %v", err)
	}
	if err := runUsers(ctx, []string{"create", "--data-dir", dir, "--email", "x@example.com"}, strings.NewReader(""), &out, &errOut); err == nil {
		t.Fatal("an empty stdin was accepted as a password")
	}
	if err := runUsers(ctx, []string{"create", "--data-dir", dir, "--email", "y@example.com"}, strings.NewReader("short\n"), &out, &errOut); err == nil {
		t.Fatal("a short password was accepted")
	}

	cfg := config.Config{DataDir: dir}.WithDefaults()
	st, err := store.Open(ctx, "", cfg.SQLitePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps := projects.NewService(st, nil)
	u, err := accounts.NewService(st, ps, nil).Authenticate(ctx, "ops@example.com", "a long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := accounts.NewService(st, ps, nil).Memberships(ctx, u.ID)
	if err != nil || len(ms) != 1 || ms[0].Project.Slug != "acme" || ms[0].Role != accounts.RoleOwner {
		t.Fatalf("memberships: %+v %v", ms, err)
	}
}

func TestFirstStartPrintsSetupAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, "", t.TempDir()+"/codeqr.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	as := accounts.NewService(st, projects.NewService(st, nil), nil)
	cfg := config.Config{BaseURL: "https://go.example.com"}.WithDefaults()
	var out bytes.Buffer
	if err := printSetup(ctx, as, cfg, &out); err != nil {
		t.Fatal(err)
	}
	line := lastLine(out.String())
	tok, ok := strings.CutPrefix(line, "https://go.example.com/app/setup?token=")
	if !ok {
		t.Fatalf("set-up address: %q", out.String())
	}
	if valid, err := as.SetupValid(ctx, tok); err != nil || !valid {
		t.Fatalf("printed token not valid: %v %v", valid, err)
	}
	if _, err := as.CreateUser(ctx, "a@example.com", "a long passphrase", "", ""); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := printSetup(ctx, as, cfg, &out); err != nil || out.Len() != 0 {
		t.Fatalf("printed a set-up address with an account present: %q %v", out.String(), err)
	}
	if valid, _ := as.SetupValid(ctx, tok); valid {
		t.Fatal("a set-up token stays valid once an account exists")
	}
}
