package delivery_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineImportsNoDomainPackage holds the engine to its seam: of codeqr's
// own packages it may depend on the store, the destination guard, config,
// events and small leaf packages only, never on a domain package, so that the
// domain can change without touching delivery.
func TestEngineImportsNoDomainPackage(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const prefix = "github.com/codeqr/codeqr/internal/"
	allowed := map[string]bool{
		"delivery": true, "store": true, "netguard": true, "config": true, "events": true,
		"ids": true, "startstop": true, "errs": true,
	}
	seen := 0
	for _, pkg := range strings.Fields(string(out)) {
		name, ok := strings.CutPrefix(pkg, prefix)
		if !ok {
			if strings.HasPrefix(pkg, "github.com/codeqr/codeqr") {
				t.Errorf("delivery depends on %s", pkg)
			}
			continue
		}
		seen++
		if !allowed[strings.SplitN(name, "/", 2)[0]] {
			t.Errorf("delivery depends on %s, which is not the store, netguard, config, events or a leaf package", pkg)
		}
	}
	if seen < 4 {
		t.Fatalf("go list saw only %d codeqr packages:\n%s", seen, out)
	}
}
