package app

import "github.com/codeqr/codeqr/internal/startstop"

// namedWorker is a background worker with the name its errors carry.
type namedWorker struct {
	name string
	startstop.Worker
}
