package startstop

import (
	"context"
	"errors"
	"slices"
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

// mustStop stops s within a generous deadline.
func mustStop(t *testing.T, s *Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// TestStopDeadline: a run that does not return in time makes Stop return
// the context's error at its deadline; a later Stop waits for run again.
func TestStopDeadline(t *testing.T) {
	t.Parallel()
	var s Service
	release := make(chan struct{})
	running := make(chan struct{})
	if err := s.Start(context.Background(), func(ctx context.Context) {
		close(running)
		<-ctx.Done()
		<-release // stuck past the deadline
	}); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, running, "run started")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop past its deadline: got %v, want DeadlineExceeded", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("Stop took %s with a 50ms deadline", took)
	}
	close(release)
	mustStop(t, &s)
	waitClosed(t, s.Done(), "Done after the second Stop")
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
	mustStop(t, &s)
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
			mustStop(t, &s)
			if !returned.Load() {
				t.Error("a concurrent Stop returned before run did")
			}
		})
	}
	wg.Wait()
	mustStop(t, &s) // once more after everything: harmless
}

func TestStopBeforeStart(t *testing.T) {
	t.Parallel()
	var s Service
	mustStop(t, &s)
	mustStop(t, &s)
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
	mustStop(t, &s)
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
	mustStop(t, &s) // after the loop ended on its own: returns at once
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
	mustStop(t, &s)
}

// recorder is a Worker that logs its calls.
type recorder struct {
	name     string
	log      *[]string
	mu       *sync.Mutex
	startErr error
	stopErr  error
}

func (r recorder) Start(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.log = append(*r.log, "start "+r.name)
	return r.startErr
}

func (r recorder) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		*r.log = append(*r.log, "stop "+r.name+" without a deadline")
	}
	*r.log = append(*r.log, "stop "+r.name)
	return r.stopErr
}

func TestGroupStopsInReverseUnderOneDeadline(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		log []string
		g   Group
	)
	boom := errors.New("boom")
	ctx := context.Background()
	for _, w := range []recorder{
		{name: "a", log: &log, mu: &mu},
		{name: "b", log: &log, mu: &mu, stopErr: boom},
		{name: "c", log: &log, mu: &mu},
	} {
		if err := g.Start(ctx, w.name, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Start(ctx, "d", recorder{name: "d", log: &log, mu: &mu, startErr: boom}); !errors.Is(err, boom) {
		t.Fatalf("failed start: %v", err)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := g.Stop(stopCtx); !errors.Is(err, boom) {
		t.Fatalf("Stop: %v, want b's error", err)
	}
	if err := g.Stop(stopCtx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	want := []string{"start a", "start b", "start c", "start d", "stop c", "stop b", "stop a"}
	if !slices.Equal(log, want) {
		t.Fatalf("calls %v, want %v", log, want)
	}
}

// Every ticks at once, then on each interval, and returns when ctx ends.
func TestEvery(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var ticks atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, 5*time.Millisecond, func(context.Context) {
			if ticks.Add(1) == 3 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not return after its context ended")
	}
	if n := ticks.Load(); n != 3 {
		t.Fatalf("%d ticks, want 3 (the first at once)", n)
	}
}
