package webhooks

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// TestRecoverOutage: the receiver is down while events happen, so their
// deliveries exhaust a short retry schedule; once it is up, recover sends
// every missed event, and recover itself sends none twice.
func TestRecoverOutage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var up atomic.Bool
		var mu sync.Mutex
		okPerEvent := map[string]int{}
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if !up.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			mu.Lock()
			okPerEvent[r.Header.Get("webhook-id")]++
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		})
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		d := startDeliverer(t, st, testConfig())
		start := time.Now().Add(-time.Minute)
		evs := emit(t, st, d, project, 7)
		waitFor(t, 20*time.Second, "every delivery to fail for good", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1 AND status = 'failed'", h.id) == len(evs)
		})
		up.Store(true)

		svc := NewService(st, nil, testConfig(), Options{})
		// The job is written before the worker runs: it must be picked up
		// from the database, as after a restart.
		job, err := svc.Recover(context.Background(), project, h.id, RecoverRequest{Since: &start})
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != RecoveryRunning || job.Total != int64(len(evs)) || job.Done != 0 {
			t.Fatalf("new job = %+v", job)
		}
		rec := delivery.NewRecoverer(st, d.Notify, nil)
		if err := rec.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := rec.Stop(ctx); err != nil {
				t.Errorf("stop recoverer: %v", err)
			}
		})
		waitFor(t, 20*time.Second, "recovered deliveries", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1 AND status = 'success'", h.id) == len(evs)
		})
		got, err := svc.RecoveryJob(context.Background(), project, h.id, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != RecoveryDone || got.Done != int64(len(evs)) || got.Total != got.Done {
			t.Errorf("finished job = %+v", got)
		}
		// Attempts were kept and continued, not reset.
		if n := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1 AND attempts <> $2", h.id, len(testConfig().RetrySchedule)+2); n != 0 {
			t.Errorf("%d deliveries do not have schedule+1 attempts", n)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			if okPerEvent[ev] != 1 {
				t.Errorf("event %s arrived %d times after recovery, want 1", ev, okPerEvent[ev])
			}
		}
		if _, err := svc.RecoveryJob(context.Background(), newProject(t, st), h.id, job.ID); err == nil {
			t.Error("another project sees the job")
		}
	})
}

func TestRecoverValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		project := newProject(t, st)
		h := newHook(t, st, project, "http://127.0.0.1:1/")
		svc := NewService(st, nil, testConfig(), Options{})
		ctx := context.Background()
		if _, err := svc.Recover(ctx, project, h.id, RecoverRequest{}); err == nil {
			t.Error("recover without since succeeded")
		}
		since := time.Now()
		until := since.Add(-time.Hour)
		if _, err := svc.Recover(ctx, project, h.id, RecoverRequest{Since: &since, Until: &until}); err == nil {
			t.Error("until before since accepted")
		}
		if _, err := svc.Disable(ctx, project, h.id); err != nil {
			t.Fatal(err)
		}
		past := since.Add(-time.Hour)
		if _, err := svc.Recover(ctx, project, h.id, RecoverRequest{Since: &past}); err == nil {
			t.Error("recover of a disabled webhook accepted")
		}
		if _, err := svc.Recover(ctx, newProject(t, st), h.id, RecoverRequest{Since: &past}); err == nil {
			t.Error("recover through another project accepted")
		}
	})
}
