// Package startstop holds the lifecycle shared by codeqr's background
// workers (the delivery log pruner, the recovery worker, the redirect
// cache poller): one goroutine running a loop until its context ends, a Start that
// launches it once, and a Stop that cancels it and waits for it to return.
//
// Each worker used to hand-roll this with a mutex, started/stopped flags, a
// cancel function, a done channel and a sync.Once, and every copy had to get
// the same corner cases right: Stop before Start, Stop twice or from two
// goroutines at once, Start after Stop, and Stop returning only once the loop
// (and the database work it was doing) is over, so shutdown never races a
// half-written batch. Keeping that logic in one place, tested once, lets the
// workers keep only their own loop. It is in the spirit of River's
// rivershared/startstop, kept much smaller.
//
// Every worker has the same two methods, Start(ctx) error and Stop(ctx) error,
// where Stop's context bounds how long it waits for the worker to drain.
//
// The contract: a Service runs at most once. Start after Start, or after
// Stop, is refused with an error rather than silently ignored, because a
// second Start of a worker is a wiring mistake the caller should hear about,
// and restarting a stopped worker would revive a component its owner
// believes shut down.
package startstop

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Errors of Start. They are distinct so a caller that tolerates a repeated
// Start (an idempotent Start) can ignore ErrAlreadyStarted alone.
var (
	ErrAlreadyStarted = errors.New("startstop: already started")
	ErrStopped        = errors.New("startstop: already stopped")
)

// Service runs one function in its own goroutine between Start and Stop. The
// zero value is ready to use; a Service must not be copied after first use.
type Service struct {
	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Start runs run in a new goroutine with a context derived from ctx, which
// is cancelled when ctx ends or Stop is called; run should return promptly
// then. Start does not wait for run. It fails with ErrAlreadyStarted if the
// Service was started before, and with ErrStopped if it was stopped (even
// without having been started); run is not called then.
func (s *Service) Start(ctx context.Context, run func(ctx context.Context)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if s.started {
		return ErrAlreadyStarted
	}
	s.started = true
	runCtx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.done = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		defer cancel() // release the context's resources if run returns on its own
		run(runCtx)
	}(s.done)
	return nil
}

// Stop cancels run's context and waits until run has returned or ctx ends,
// whichever comes first; ctx bounds how long a caller's shutdown waits for
// the loop to wind down. It returns nil once run has returned, and ctx's
// error if ctx ended first (run keeps winding down in the background; a later
// Stop waits for it again). It is safe to call before Start (later Starts are
// then refused), more than once, and from several goroutines at once. It must
// not be called from inside run, which would wait for itself.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if done == nil {
		return nil // never started
	}
	cancel()
	select {
	case <-done:
		return nil
	default:
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("startstop: stop: %w", ctx.Err())
	}
}

// Done returns a channel closed when run has returned, or nil if the Service
// was never started. It lets a caller notice a loop that ended on its own
// (its parent context ended) without calling Stop.
func (s *Service) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Worker is the lifecycle every background worker of codeqr has. Start
// begins the work and returns once it runs (an error means it does not);
// Stop ends it and waits for it to drain, for at most as long as ctx allows,
// and reports what it could not finish. Both are safe to call once each, in
// that order; Stop is also safe without Start and more than once.
type Worker interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Group starts workers in order and stops them in the reverse order, so that
// each stops while everything it relies on (started before it) still runs.
// The zero value is ready to use.
type Group struct {
	mu      sync.Mutex
	started []named
}

type named struct {
	name string
	w    Worker
}

// Start starts w and, if that succeeds, remembers it for Stop. name labels
// its errors.
func (g *Group) Start(ctx context.Context, name string, w Worker) error {
	if err := w.Start(ctx); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	g.mu.Lock()
	g.started = append(g.started, named{name, w})
	g.mu.Unlock()
	return nil
}

// Stop stops every started worker, last started first, all under ctx: one
// deadline for the whole shutdown. A worker that fails to stop in time does
// not keep the others from stopping; the errors are joined. Stopping twice
// stops nothing the second time.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	list := g.started
	g.started = nil
	g.mu.Unlock()
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		if err := list[i].w.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", list[i].name, err))
		}
	}
	return errors.Join(errs...)
}

// Every calls tick at once and then every interval until ctx ends: the loop of
// the periodic workers (the delivery log pruner, the interactions retention).
// A tick that is still running when the next is due delays it; ticks never
// overlap.
func Every(ctx context.Context, interval time.Duration, tick func(ctx context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
