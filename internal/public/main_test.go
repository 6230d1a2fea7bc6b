package public_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// worker started here must have ended once its Stop has returned.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
