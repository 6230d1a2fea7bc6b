package delivery

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// TestStopDeadlineHandsBackHungSend: a receiver that never answers holds a
// send; Stop with a short deadline returns within it, cancels the send,
// records no attempt, and hands the row back unleased, so the next
// deliverer (here, one started at once) sends it without waiting for the
// lease to run out.
func TestStopDeadlineHandsBackHungSend(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var hang atomic.Bool
		hang.Store(true)
		arrived := make(chan struct{}, 1)
		var cancelled sync.WaitGroup
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			if !hang.Load() {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			cancelled.Add(1)
			defer cancelled.Done()
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-r.Context().Done() // the deliverer gave up on the request
		})
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		cfg := testConfig()
		cfg.DeliveryTimeout = time.Minute // the send would outlive any shutdown
		d := newDeliverer(st, cfg, Options{}, options{})
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ev := emit(t, st, d, project, 1)[0]
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the send never reached the receiver")
		}

		const budget = 1500 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		defer cancel()
		began := time.Now()
		err := d.Stop(ctx)
		took := time.Since(began)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop with a hung send: %v, want an error wrapping DeadlineExceeded", err)
		}
		if took > budget {
			t.Errorf("Stop took %s, past its %s deadline", took, budget)
		}
		cancelled.Wait() // the receiver saw the request cancelled

		var status string
		var attempts int
		var lease int64
		if err := st.Read().QueryRowContext(context.Background(),
			"SELECT status, attempts, lease_until FROM deliveries WHERE event_id = $1 AND webhook_id = $2", ev, h.id).
			Scan(&status, &attempts, &lease); err != nil {
			t.Fatal(err)
		}
		if status != "pending" || attempts != 0 || lease != 0 {
			t.Fatalf("after Stop: status %s, attempts %d, lease_until %d; want pending, 0, 0 (handed back)", status, attempts, lease)
		}
		if n := count(t, st, "SELECT COUNT(*) FROM delivery_attempts WHERE webhook_id = $1", h.id); n != 0 {
			t.Errorf("%d attempts recorded for a send Stop cut short", n)
		}

		// Claimable at once: a second deliverer (another node on PostgreSQL)
		// sends it well within the minute-long lease the first one took.
		hang.Store(false)
		next := startDeliverer(t, st, cfg, options{})
		next.Notify()
		waitFor(t, 10*time.Second, "the handed-back delivery", func() bool { return deliveryStatus(t, st, ev, h.id) == "success" })
	})
}

// TestOutcomeWriteRetries drives the retries of an outcome write with a fake
// clock and a fake sleep: while the attempt log cannot be written (its table
// is renamed away) the write is retried with growing waits; once the table
// is back the outcome lands. When the lease (by the fake clock) has run out
// it gives up, leaving the row to be sent again; and cancelling the write
// context (Stop's deadline) ends the retries at once, whatever the lease.
func TestOutcomeWriteRetries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		project := newProject(t, st)
		h := newHook(t, st, project, "http://127.0.0.1:1/")
		cfg := testConfig()
		breakLog := func() { mustWrite(t, st, "ALTER TABLE delivery_attempts RENAME TO delivery_attempts_away") }
		mendLog := func() { mustWrite(t, st, "ALTER TABLE delivery_attempts_away RENAME TO delivery_attempts") }
		deliveryID := func(ev string) int64 {
			var id int64
			if err := st.Read().QueryRowContext(context.Background(), "SELECT id FROM deliveries WHERE event_id = $1", ev).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		clock := &fakeClock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
		var slept []time.Duration
		var onSleep func(n int)
		d := newDeliverer(st, cfg, Options{}, options{now: clock.Now, sleep: func(ctx context.Context, dur time.Duration) error {
			slept = append(slept, dur)
			clock.Add(dur)
			if onSleep != nil {
				onSleep(len(slept))
			}
			return ctx.Err()
		}})
		success := func(ev string) []result {
			now := clock.Now()
			return []result{{job: job{id: deliveryID(ev), eventID: ev, webhookID: h.id, eventType: "link.created",
				leaseEnd: now.Add(d.lease())}, outcome: outcomeSuccess, status: 204, started: now, finished: now}}
		}

		// Three failed tries, then the log is back: the outcome is written.
		ev := emit(t, st, nil, project, 1)[0]
		breakLog()
		onSleep = func(n int) {
			if n == 3 {
				mendLog()
			}
		}
		d.completeBatch(success(ev))
		want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond}
		if !slices.Equal(slept, want) {
			t.Errorf("waits %v, want %v", slept, want)
		}
		if s := deliveryStatus(t, st, ev, h.id); s != "success" {
			t.Fatalf("after the log came back the delivery is %s, want success", s)
		}

		// Never back: the retries stop once the lease has run out by the
		// clock (less a delivery timeout for the write), a few tries at least.
		ev = emit(t, st, nil, project, 1)[0]
		breakLog()
		slept, onSleep = nil, nil
		began, realBegan := clock.Now(), time.Now()
		d.completeBatch(success(ev))
		gaveUp := clock.Now().Sub(began)
		if limit := d.lease() - cfg.DeliveryTimeout; gaveUp <= limit || gaveUp > limit+2*time.Second {
			t.Errorf("gave up %s after the claim by the clock, want just past %s", gaveUp, limit)
		}
		for i, s := range slept {
			if s > 2*time.Second || (i > 0 && s < slept[i-1]) {
				t.Fatalf("waits %v: not growing up to a 2s cap", slept)
			}
		}
		if real := time.Since(realBegan); real > 10*time.Second {
			t.Errorf("the fake clock's retries took %s of real time", real)
		}
		if s := deliveryStatus(t, st, ev, h.id); s != "pending" {
			t.Errorf("an unwritten outcome left the delivery %s, want pending (sent again)", s)
		}

		// A frozen clock would retry forever; cancelling the write context
		// (what Stop does at its deadline) ends it.
		frozen := newDeliverer(st, cfg, Options{}, options{now: clock.Now})
		done := make(chan struct{})
		go func() {
			defer close(done)
			frozen.completeBatch(success(ev))
		}()
		time.AfterFunc(300*time.Millisecond, frozen.cancelWrites)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("cancelling the write context did not end the retries")
		}
		mendLog()
	})
}
