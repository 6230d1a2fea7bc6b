package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/codeqr/codeqr/internal/projects"
)

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: codeqr keys create [--project SLUG] [--name NAME] [--scopes a,b]")
	}
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := bindConfig(fs, false)
	project := fs.String("project", "default", "project slug (created if it does not exist)")
	name := fs.String("name", "cli", "a name for the key")
	scopes := fs.String("scopes", "", "comma-separated scopes (default: all)")
	if err := parseWithEnv(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := cf.finish()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer st.Close()
	// Works on a fresh data dir too, and beside a running serve (which migrated).
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	var sc []string
	for _, s := range strings.Split(*scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sc = append(sc, s)
		}
	}
	p, key, created, err := projects.NewService(st, nil).EnsureWithKey(ctx, *project, *name, sc)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created project %s (%s)\n", p.Slug, p.ID)
	}
	fmt.Fprintf(stdout, "API key for project %s (shown once):\n%s\n", p.Slug, key)
	return nil
}
