package bench

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestSummarise(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarise(ds)
	want := Latencies{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Fatalf("summarise = %+v, want %+v", got, want)
	}
	if (summarise(nil) != Latencies{}) {
		t.Fatal("empty input")
	}
}

// schedule keeps its rate when calls are slow (open loop) and waits for them.
func TestScheduleIsOpenLoop(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		calls int
		late  time.Duration
	)
	start := time.Now()
	schedule(context.Background(), 200, 500*time.Millisecond, 1000, func(i int, due time.Time) {
		mu.Lock()
		calls++
		late = max(late, time.Since(due))
		mu.Unlock()
		time.Sleep(100 * time.Millisecond) // a slow server must not slow the schedule
	})
	elapsed := time.Since(start)
	if calls != 100 {
		t.Fatalf("%d calls, want 100 (200/s for 0.5s)", calls)
	}
	if elapsed > 900*time.Millisecond {
		t.Fatalf("took %s: the schedule waited for responses", elapsed)
	}
	if late > 100*time.Millisecond {
		t.Fatalf("a call started %s after its due time", late)
	}
}
