package e2e

import (
	"bytes"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// runCLI runs the codeqr binary and returns stdout, failing on a non-zero exit.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = childEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("codeqr %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out.String(), errOut.String())
	}
	return out.String()
}

// field extracts the first integer after label in a bench summary.
func field(t *testing.T, out, pattern string) int {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in bench output:\n%s", pattern, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// The load tool, end to end against a child-process server: it subscribes its
// webhooks, sees every delivery, reports no loss, and cleans up after itself.
func TestBenchTool(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		srv := startServer(t, databaseURL, dataDir)
		key := srv.createKey("bench")

		out := runCLI(t, "bench", "deliveries", "--server", srv.URL(), "--key", key,
			"--rate", "40", "--duration", "1500ms", "--warmup", "200ms", "--webhooks", "2", "--drain", "20s")
		t.Logf("\n%s", out)
		sent := field(t, out, `events sent +(\d+)`)
		if sent < 50 || field(t, out, `API errors (\d+)`) != 0 {
			t.Errorf("expected about 60 events and no API errors")
		}
		received := field(t, out, `deliveries received +(\d+)`)
		expected := field(t, out, `of (\d+) expected`)
		if expected != 2*sent || received != expected || field(t, out, `lost +(-?\d+)`) != 0 {
			t.Errorf("sent %d, expected %d, received %d: want every delivery of 2 webhooks", sent, expected, received)
		}
		c := srv.client(key)
		if hooks := c.must(http.MethodGet, "/api/webhooks", nil, http.StatusOK).list(); len(hooks) != 0 {
			t.Errorf("bench left %d webhooks behind", len(hooks))
		}

		out = runCLI(t, "bench", "links", "--server", srv.URL(), "--key", key,
			"--concurrency", "4", "--duration", "1s", "--warmup", "0s")
		t.Logf("\n%s", out)
		if n := field(t, out, `requests +(\d+)`); n == 0 || field(t, out, `errors (\d+)`) != 0 {
			t.Errorf("bench links: %d requests, or errors", n)
		}
	})
}
