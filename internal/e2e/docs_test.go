package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docBlock is one fenced sh or bash block of a Markdown file.
type docBlock struct {
	file, kind, code string
	line             int
}

// shellBlocks returns the ```sh and ```bash blocks of a Markdown file. The
// word after the language says how the docs test treats the block:
//
//	```sh         run to completion; it must exit 0
//	```sh server  starts something long-running (a server, a receiver,
//	              codeqr listen): it must come up and keep running
//	```sh self    not run: it is the test suite that runs these blocks
func shellBlocks(t *testing.T, file string) []docBlock {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []docBlock
		cur  *docBlock
		body []string
		n    int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			info := strings.Fields(strings.TrimPrefix(line, "```"))
			if len(info) > 0 && (info[0] == "sh" || info[0] == "bash") {
				kind := "run"
				if len(info) > 1 {
					kind = info[1]
				}
				cur, body = &docBlock{file: file, kind: kind, line: n}, nil
			} else if len(info) > 0 {
				cur, body = &docBlock{kind: "other"}, nil
			}
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = strings.Join(body, "\n")
			if cur.kind != "other" {
				out = append(out, *cur)
			}
			cur = nil
		case cur != nil:
			body = append(body, line)
		}
	}
	return out
}

func portFree(t *testing.T) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	return port
}

// Every shell example of the README and docs/ runs as written against a
// fresh server: the blocks of one file run in order in one bash session
// (set -euo pipefail), from the repository root, with the built codeqr on
// PATH and CODEQR_DATA_DIR pointing at the fresh server's data, so that
// `codeqr keys create` makes a key the server accepts. The one substitution:
// localhost:8080 (the server's default address) is the fresh server's
// address. A long-running block (```sh server) gets a free port of its own
// (CODEQR_ADDR for codeqr serve, PORT for the receivers) and passes once that
// port answers, or, when it listens on none, once it has run for 5 s.
func TestDocShellExamples(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(root, "README.md")}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append(files, docs...)
	total := 0
	for _, file := range files {
		blocks := shellBlocks(t, file)
		if len(blocks) == 0 {
			continue
		}
		total += len(blocks)
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			runDocFile(t, root, blocks)
		})
	}
	if total < 5 {
		t.Fatalf("found only %d shell blocks in README.md and docs/", total)
	}
}

func runDocFile(t *testing.T, root string, blocks []docBlock) {
	dataDir := t.TempDir()
	srv := startServer(t, "", dataDir)
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	script.WriteString("wait_up() { # pid port: the block's process is up, or it failed\n" +
		"  for _ in $(seq 1 600); do\n" +
		"    if ! kill -0 \"$1\" 2>/dev/null; then wait \"$1\"; return $?; fi\n" +
		"    if [ -n \"$2\" ] && (exec 3<>/dev/tcp/127.0.0.1/\"$2\") 2>/dev/null; then return 0; fi\n" +
		"    if [ -z \"$2\" ] && [ \"$SECONDS\" -ge \"$3\" ]; then return 0; fi\n" +
		"    sleep 0.1\n  done; return 1; }\n")
	for i, b := range blocks {
		code := strings.ReplaceAll(b.code, "localhost:8080", srv.addr)
		fmt.Fprintf(&script, "echo '### %s:%d (%s)'\n", filepath.Base(b.file), b.line, b.kind)
		switch b.kind {
		case "run":
			script.WriteString(code + "\n")
		case "server":
			p2, p3 := portFree(t), portFree(t)
			dir := t.TempDir()
			// Which port the block listens on, if any: serve takes
			// CODEQR_ADDR, the receivers take PORT; listen has none.
			port := ""
			switch {
			case strings.Contains(code, " serve"):
				port = p2
			case strings.Contains(code, "receivers"):
				port = p3
			}
			fmt.Fprintf(&script, "( export CODEQR_ADDR=127.0.0.1:%s CODEQR_DATA_DIR=%s PORT=%s\n%s\n) > %s 2>&1 &\n",
				p2, dir, p3, code, filepath.Join(dir, "block.log"))
			fmt.Fprintf(&script, "pid%d=$!\nif ! wait_up $pid%d '%s' $((SECONDS+5)); then echo 'block failed:'; cat %s; exit 1; fi\n",
				i, i, port, filepath.Join(dir, "block.log"))
			fmt.Fprintf(&script, "pkill -P $pid%d 2>/dev/null || true; kill $pid%d 2>/dev/null || true; wait $pid%d 2>/dev/null || true\n", i, i, i)
		case "self":
			script.WriteString("echo '(not run: this is the suite that runs the examples)'\n")
		default:
			t.Fatalf("%s:%d: unknown block kind %q (want sh, sh server or sh self)", b.file, b.line, b.kind)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = root
	env := []string{"PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"CODEQR_DATA_DIR=" + dataDir}
	for _, kv := range childEnv() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the shell examples failed (%v):\n%s\n--- script ---\n%s", err, out.String(), script.String())
	}
	t.Logf("shell examples:\n%s", out.String())
}
