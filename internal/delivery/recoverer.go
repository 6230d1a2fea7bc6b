package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/codeqr/codeqr/internal/startstop"
	"github.com/codeqr/codeqr/internal/store"
)

// recoverable selects the deliveries a job re-queues: the webhook's, in the
// window, never succeeded and not in the queue already, test events excluded.
const recoverable = `FROM deliveries d JOIN events e ON e.id = d.event_id
WHERE d.webhook_id = $1 AND d.created_at >= $2 AND d.created_at < $3 AND d.status IN ('failed', 'skipped') AND e.test = FALSE`

// CountRecoverable returns how many deliveries of a webhook created in
// [since, until) (Unix ms) a recovery job would re-queue now: the number a
// new job records as its total.
func CountRecoverable(ctx context.Context, q store.Querier, webhookID string, since, until int64) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) "+recoverable, webhookID, since, until).Scan(&n); err != nil {
		return 0, fmt.Errorf("delivery: count recoverable: %w", err)
	}
	return n, nil
}

// Recoverer tuning.
const (
	recoverBatch = 200
	recoverLease = time.Minute
	recoverPoll  = time.Second
)

// Recoverer runs recovery jobs: it re-queues, a batch per transaction, the
// failed and skipped deliveries of each running job in delivery id order, and
// records the last id re-queued in the same transaction. A job interrupted by
// a crash or restart resumes after that id, so one job never re-queues a
// delivery twice. Jobs are leased (lease_until) so that on PostgreSQL only one
// node works a job at a time.
type Recoverer struct {
	st     *store.Store
	notify func()
	logger *slog.Logger
	now    func() time.Time
	poll   time.Duration

	wake chan struct{}
	svc  startstop.Service
}

// NewRecoverer returns a stopped Recoverer; notify wakes the deliverer
// (Deliverer.Notify) after each batch is re-queued.
func NewRecoverer(st *store.Store, notify func(), logger *slog.Logger) *Recoverer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if notify == nil {
		notify = func() {}
	}
	return &Recoverer{st: st, notify: notify, logger: logger.With("component", "webhooks"), now: time.Now,
		poll: recoverPoll, wake: make(chan struct{}, 1)}
}

// Notify wakes the worker: a job was created. It never blocks.
func (r *Recoverer) Notify() { signal(r.wake) }

// Start runs the worker until ctx ends or Stop is called; unfinished jobs
// (from before a restart) are picked up at once. It fails if the Recoverer
// was started or stopped before.
func (r *Recoverer) Start(ctx context.Context) error {
	if err := r.svc.Start(ctx, r.loop); err != nil {
		return fmt.Errorf("delivery: recoverer: %w", err)
	}
	return nil
}

// Stop stops the worker and waits for the batch in progress, or until ctx
// ends (then it returns ctx's error; the batch's transaction is cancelled and
// rolls back, and the job resumes after its last committed batch). It is safe
// before Start and more than once.
func (r *Recoverer) Stop(ctx context.Context) error {
	if err := r.svc.Stop(ctx); err != nil {
		return fmt.Errorf("delivery: recoverer: %w", err)
	}
	return nil
}

func (r *Recoverer) loop(ctx context.Context) {
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	for {
		for ctx.Err() == nil {
			worked, err := r.runOne(ctx)
			if err != nil {
				if ctx.Err() == nil {
					r.logger.Error("webhooks: recovery", "err", err)
				}
				break
			}
			if !worked {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-tick.C:
		}
	}
}

// runOne leases one running job and works it to the end. It reports whether
// there was a job.
// Job leases are set and judged by the database's clock (Dialect.NowMillis),
// like delivery leases.
func (r *Recoverer) runOne(ctx context.Context) (bool, error) {
	dbNow := r.st.Dialect().NowMillis()
	var (
		id, webhookID       string
		since, until, after int64
	)
	err := r.st.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, webhook_id, since, until, last_id FROM recovery_jobs
WHERE status = 'running' AND lease_until < `+dbNow+` ORDER BY created_at, id LIMIT 1`).Scan(&id, &webhookID, &since, &until, &after)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "UPDATE recovery_jobs SET lease_until = "+dbNow+" + $1 WHERE id = $2 AND lease_until < "+dbNow,
			recoverLease.Milliseconds(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound // another node took it
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lease recovery job: %w", err)
	}
	for ctx.Err() == nil {
		finished, err := r.batch(ctx, id, webhookID, since, until, &after)
		if err != nil {
			return true, fmt.Errorf("recovery job %s: %w", id, err)
		}
		if finished {
			return true, nil
		}
	}
	return true, ctx.Err()
}

// batch re-queues the next batch of job id after delivery id *after, in one
// transaction with the job's progress. It reports whether the job is done.
func (r *Recoverer) batch(ctx context.Context, id, webhookID string, since, until int64, after *int64) (bool, error) {
	finished := false
	var last int64
	err := r.st.InTx(ctx, func(tx *store.Tx) error {
		finished, last = false, *after
		rows, err := tx.QueryContext(ctx, "SELECT d.id "+recoverable+" AND d.id > $4 ORDER BY d.id LIMIT $5",
			webhookID, since, until, *after, recoverBatch)
		if err != nil {
			return err
		}
		var list []any
		for rows.Next() {
			var did int64
			if err := rows.Scan(&did); err != nil {
				rows.Close()
				return err
			}
			list = append(list, did)
			last = did
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		now := store.Millis(r.now())
		var n int64
		if len(list) > 0 {
			// Due now, unleased, attempts kept; the status condition keeps a
			// delivery that changed meanwhile (a manual retry) as it is.
			args := append([]any{now}, list...)
			res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = 0, updated_at = $1
WHERE status IN ('failed', 'skipped') AND id IN (`+store.Placeholders(2, len(list))+")", args...)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
		}
		finished = len(list) < recoverBatch
		lease := r.st.Dialect().NowMillis() + " + $3"
		q := `UPDATE recovery_jobs SET done = done + $1, last_id = $2, lease_until = ` + lease + `, updated_at = $4 WHERE id = $5`
		if finished {
			q = `UPDATE recovery_jobs SET done = done + $1, total = done + $1, status = 'done', last_id = $2, lease_until = ` + lease + `, updated_at = $4 WHERE id = $5`
		}
		if _, err := tx.ExecContext(ctx, q, n, last, recoverLease.Milliseconds(), now, id); err != nil {
			return err
		}
		if n > 0 {
			tx.AfterCommit(r.notify)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	*after = last
	return finished, nil
}
