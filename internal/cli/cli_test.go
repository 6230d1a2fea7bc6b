package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

var keyLine = regexp.MustCompile(`^codeqr_[0-9A-Za-z]{32}$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestKeysCreatePrintsKeyLast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"keys", "create", "--data-dir", dir, "--project", "acme", "--scopes", "links.read,links.write"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !keyLine.MatchString(lastLine(out.String())) || !strings.Contains(out.String(), "created project acme") {
		t.Fatalf("output: %q", out.String())
	}
	out.Reset()
	if code := Run(context.Background(), []string{"keys", "create", "--data-dir", dir, "--project", "acme"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), "created project") || !keyLine.MatchString(lastLine(out.String())) {
		t.Fatalf("second key output: %q", out.String())
	}
	if code := Run(context.Background(), []string{"keys", "create", "--data-dir", dir, "--scopes", "everything"}, io.Discard, io.Discard); code == 0 {
		t.Fatal("unknown scope accepted")
	}
}

func TestMigrateAndVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"migrate", "--data-dir", t.TempDir()}, &out, io.Discard); code != 0 {
		t.Fatalf("migrate exit %d", code)
	}
	if !strings.Contains(out.String(), "schema is at version") {
		t.Fatalf("migrate output %q", out.String())
	}
	out.Reset()
	if code := Run(context.Background(), []string{"version"}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "codeqr ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := Run(context.Background(), []string{"frobnicate"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}

// Every flag can come from CODEQR_<FLAG>; the command line wins over the environment.
func TestEnvironmentFillsFlags(t *testing.T) {
	t.Setenv("CODEQR_RETRY_SCHEDULE", "1s,2s")
	t.Setenv("CODEQR_DELIVERY_TIMEOUT", "3s")
	t.Setenv("CODEQR_ADDR", ":9999")
	t.Setenv("CODEQR_WEBHOOKS_ALLOW_HTTP", "true")
	t.Setenv("CODEQR_ACCESS_LOG", "true")
	t.Setenv("CODEQR_API_RATE_LIMIT", "0")
	t.Setenv("CODEQR_PASSWORD_RATE_LIMIT", "3")
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cf := bindConfig(fs, true)
	if err := parseWithEnv(fs, []string{"--addr", "127.0.0.1:1234"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := cf.finish()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:1234" || cfg.DeliveryTimeout != 3*time.Second || !cfg.WebhooksAllowHTTP ||
		len(cfg.RetrySchedule) != 2 || cfg.RetrySchedule[1] != 2*time.Second || cfg.BaseURL != "http://127.0.0.1:1234" ||
		!cfg.AccessLog || cfg.APIRateLimit != 0 || cfg.PasswordRateLimit != 3 || cfg.FormRateLimit != 20 || cfg.QRRateLimit != 600 {
		t.Fatalf("config %+v", cfg)
	}
	t.Setenv("CODEQR_DELIVERY_TIMEOUT", "soon")
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bindConfig(fs, true)
	if err := parseWithEnv(fs, nil); err == nil || !strings.Contains(err.Error(), "CODEQR_DELIVERY_TIMEOUT") {
		t.Fatalf("bad env value: %v", err)
	}
}

func TestKeysListAndRevoke(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := Run(ctx, []string{"keys", "create", "--data-dir", dir, "--project", "acme", "--name", "ci", "--expires-in", "24h"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	secret := lastLine(out.String())
	if !keyLine.MatchString(secret) || !strings.Contains(out.String(), "expires ") {
		t.Fatalf("create output %q", out.String())
	}
	out.Reset()
	if code := Run(ctx, []string{"keys", "list", "--data-dir", dir, "--project", "acme"}, &out, &errOut); code != 0 {
		t.Fatalf("list exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), secret) || !strings.Contains(out.String(), secret[:11]+"…") {
		t.Fatalf("list shows the secret or not its start: %q", out.String())
	}
	id := regexp.MustCompile(`key_[0-9A-Za-z]+`).FindString(out.String())
	if id == "" {
		t.Fatalf("no key id in %q", out.String())
	}
	out.Reset()
	if code := Run(ctx, []string{"keys", "revoke", "--data-dir", dir, id}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "revoked "+id) {
		t.Fatalf("revoke exit %d: %q %s", code, out.String(), errOut.String())
	}
	out.Reset()
	_ = Run(ctx, []string{"keys", "list", "--data-dir", dir}, &out, &errOut)
	// created, expires and revoked: three times on the key's line.
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 ||
		len(regexp.MustCompile(`\d{4}-\d\d-\d\dT`).FindAllString(lines[1], -1)) != 3 {
		t.Fatalf("revoked key not shown revoked: %q", out.String())
	}
	if code := Run(ctx, []string{"keys", "revoke", "--data-dir", dir, "key_nope"}, io.Discard, io.Discard); code == 0 {
		t.Fatal("revoking an unknown key succeeded")
	}
	if code := Run(ctx, []string{"keys", "frob"}, io.Discard, io.Discard); code == 0 {
		t.Fatal("unknown keys command succeeded")
	}
}
