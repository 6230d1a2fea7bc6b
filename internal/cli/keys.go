package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
)

const keysUsage = `usage:
  codeqr keys create [--project SLUG] [--name NAME] [--scopes a,b] [--expires-in DURATION]
  codeqr keys list [--project SLUG]
  codeqr keys revoke ID`

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", keysUsage)
	}
	switch args[0] {
	case "create":
		return runKeysCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return runKeysList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return runKeysRevoke(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown keys command %q\n%s", args[0], keysUsage)
}

// openKeysStore opens and migrates the store: the keys commands work on a
// fresh data dir too, and beside a running serve (which migrated).
func openKeysStore(ctx context.Context, cf *configFlags, stderr io.Writer) (*store.Store, error) {
	cfg, err := cf.finish()
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func runKeysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := bindConfig(fs, false)
	project := fs.String("project", "default", "project slug (created if it does not exist)")
	name := fs.String("name", "cli", "a name for the key")
	scopes := fs.String("scopes", "", "comma-separated scopes (default: all)")
	expiresIn := fs.Duration("expires-in", 0, "the key stops working after this long (default: never)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if *expiresIn < 0 {
		return fmt.Errorf("expires-in must be positive")
	}
	st, err := openKeysStore(ctx, cf, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	var sc []string
	for _, s := range strings.Split(*scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sc = append(sc, s)
		}
	}
	nk := projects.NewKey{Name: *name, Scopes: sc}
	if *expiresIn > 0 {
		exp := time.Now().Add(*expiresIn)
		nk.ExpiresAt = &exp
	}
	p, key, created, err := projects.NewService(st, nil).EnsureWithNewKey(ctx, *project, nk)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created project %s (%s)\n", p.Slug, p.ID)
	}
	if nk.ExpiresAt != nil {
		fmt.Fprintf(stdout, "expires %s\n", nk.ExpiresAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "API key for project %s (shown once):\n%s\n", p.Slug, key)
	return nil
}

func runKeysList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := bindConfig(fs, false)
	project := fs.String("project", "", "project slug (default: every project)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	st, err := openKeysStore(ctx, cf, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	ps := projects.NewService(st, nil)
	projectID := ""
	if *project != "" {
		p, err := ps.GetBySlug(ctx, *project)
		if err != nil {
			return fmt.Errorf("project %q: %w", *project, err)
		}
		projectID = p.ID
	}
	keys, err := ps.ListKeys(ctx, projectID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTART\tCREATED\tEXPIRES\tLAST USED\tREVOKED\tSCOPES")
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Start, when(&k.CreatedAt),
			when(k.ExpiresAt), when(k.LastUsedAt), when(k.RevokedAt), strings.Join(k.Scopes, ","))
	}
	return tw.Flush()
}

func runKeysRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := bindConfig(fs, false)
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: codeqr keys revoke ID")
	}
	st, err := openKeysStore(ctx, cf, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	k, err := projects.NewService(st, nil).RevokeKey(ctx, "", fs.Arg(0))
	if err != nil {
		return fmt.Errorf("revoke %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(stdout, "revoked %s (%s) at %s\n", k.ID, k.Name, k.RevokedAt.UTC().Format(time.RFC3339))
	return nil
}
