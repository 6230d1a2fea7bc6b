package startstop

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitClosed fails the test if ch is not closed within a generous deadline.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not closed within the deadline", what)
	}
}

// loop is a run function that reports it is running and then blocks until
// its context ends, like a worker's ticker loop.
func loop(running chan<- struct{}, returned *atomic.Bool) func(ctx context.Context) {
	return func(ctx context.Context) {
		close(running)
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // finishing a batch: Stop must wait for it
		returned.Store(true)
	}
}

func TestStopWaitsForRun(t *testing.T) {
	t.Parallel()
	var s Service
	running := make(chan struct{})
	var returned atomic.Bool
	if err := s.Start(context.Background(), loop(running, &returned)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, running, "run started")
	s.Stop()
	if !returned.Load() {
		t.Fatal("Stop returned before run did")
	}
	waitClosed(t, s.Done(), "Done after Stop")
}

func TestDoubleAndConcurrentStop(t *testing.T) {
	t.Parallel()
	var s Service
	running := make(chan struct{})
	var returned atomic.Bool
	if err := s.Start(context.Background(), loop(running, &returned)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, running, "run started")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s.Stop()
			if !returned.Load() {
				t.Error("a concurrent Stop returned before run did")
			}
		})
	}
	wg.Wait()
	s.Stop() // once more after everything: harmless
}

func TestStopBeforeStart(t *testing.T) {
	t.Parallel()
	var s Service
	s.Stop()
	s.Stop()
	if s.Done() != nil {
		t.Fatal("Done of a never-started Service should be nil")
	}
	err := s.Start(context.Background(), func(context.Context) { t.Error("run called after Stop") })
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: got %v, want ErrStopped", err)
	}
}

func TestStartTwiceRefused(t *testing.T) {
	t.Parallel()
	var s Service
	running := make(chan struct{})
	var returned atomic.Bool
	if err := s.Start(context.Background(), loop(running, &returned)); err != nil {
		t.Fatal(err)
	}
	err := s.Start(context.Background(), func(context.Context) { t.Error("second run called") })
	if !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Start: got %v, want ErrAlreadyStarted", err)
	}
	waitClosed(t, running, "first run started")
	s.Stop()
	err = s.Start(context.Background(), func(context.Context) { t.Error("run called after Stop") })
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Start and Stop: got %v, want ErrStopped", err)
	}
}

func TestParentContextEndsRun(t *testing.T) {
	t.Parallel()
	var s Service
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	var returned atomic.Bool
	if err := s.Start(ctx, loop(running, &returned)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, running, "run started")
	cancel()
	waitClosed(t, s.Done(), "Done after the parent context ended")
	if !returned.Load() {
		t.Fatal("Done closed before run returned")
	}
	s.Stop() // after the loop ended on its own: returns at once
}

func TestRunReturningEarly(t *testing.T) {
	t.Parallel()
	var s Service
	var ctxSeen context.Context
	if err := s.Start(context.Background(), func(ctx context.Context) { ctxSeen = ctx }); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, s.Done(), "Done after run returned")
	if ctxSeen.Err() == nil {
		t.Fatal("run's context should be released once run returns")
	}
	s.Stop()
}
