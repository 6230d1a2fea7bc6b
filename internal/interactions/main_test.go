package interactions_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// flusher must have ended once Stop has returned.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
