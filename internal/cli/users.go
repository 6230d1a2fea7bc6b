package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
)

// runUsers creates dashboard accounts for scripted set-ups. The password
// comes from stdin (first line) or, on a terminal, from a prompt that does
// not echo.
func runUsers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: codeqr users create --email E [--project SLUG] [--role owner|member] (password on stdin or at the prompt)")
	}
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := bindConfig(fs, false)
	email := fs.String("email", "", "e-mail address of the new account (required)")
	project := fs.String("project", "default", "slug of the project the account joins (created if it does not exist)")
	role := fs.String("role", accounts.RoleOwner, "owner or member of that project")
	if err := parseWithEnv(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("users create: --email is required")
	}
	cfg, err := cf.finish()
	if err != nil {
		return err
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	ps := projects.NewService(st, nil)
	p, err := ps.GetBySlug(ctx, *project)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err != nil {
		// A project is made with a first key, as `keys create` does.
		var key string
		var created bool
		if p, key, created, err = ps.EnsureWithKey(ctx, *project, "users create", nil); err != nil {
			return err
		}
		if created {
			fmt.Fprintf(stdout, "created project %s; its API key (shown once):\n%s\n", p.Slug, key)
		}
	}
	u, err := accounts.NewService(st, ps, nil).CreateUser(ctx, *email, password, p.ID, *role)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s), %s of project %s\n", u.Email, u.ID, *role, p.Slug)
	return nil
}

// readPassword reads one line from stdin, prompting without echo when stdin
// is a terminal.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("users create: give the password on stdin (e.g. printf '%%s\\n' \"$PASSWORD\" | codeqr users create …)")
	}
	return pw, nil
}
