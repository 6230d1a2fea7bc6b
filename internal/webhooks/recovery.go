package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
)

// Recovery job statuses.
const (
	RecoveryRunning = "running"
	RecoveryDone    = "done"
)

// RecoverRequest is the body of POST /api/webhooks/{id}/recover: redeliver
// every event of the webhook created in [since, until) that never succeeded.
// until defaults to the time of the request.
type RecoverRequest struct {
	Since *time.Time `json:"since"`
	Until *time.Time `json:"until"`
}

// RecoveryJob is a durable recover request and its progress. total is the
// number of failed or skipped deliveries in the window when the job was made;
// done counts those re-queued so far. When the job is done, total is set to
// done (a delivery retried by hand meanwhile is not re-queued again).
type RecoveryJob struct {
	ID        string    `json:"id"`
	WebhookID string    `json:"webhookId"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Status    string    `json:"status"`
	Total     int64     `json:"total"`
	Done      int64     `json:"done"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Recover creates a recovery job for a webhook and answers it at once; the
// delivery engine's Recoverer does the work in the background.
func (s *Service) Recover(ctx context.Context, projectID, webhookID string, req RecoverRequest) (RecoveryJob, error) {
	if req.Since == nil {
		return RecoveryJob{}, errs.Invalid("since is required (RFC 3339)")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	since := req.Since.UTC().Truncate(time.Millisecond)
	until := now
	if req.Until != nil {
		until = req.Until.UTC().Truncate(time.Millisecond)
	}
	if !until.After(since) {
		return RecoveryJob{}, errs.Invalid("until must be after since")
	}
	job := RecoveryJob{ID: ids.New("rec"), WebhookID: webhookID, Since: since, Until: until,
		Status: RecoveryRunning, CreatedAt: now, UpdatedAt: now}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		w, err := s.get(ctx, tx, projectID, webhookID)
		if err != nil {
			return err
		}
		if w.DisabledAt != nil {
			return errs.Conflict("the webhook is disabled: enable it first, or its recovered events would be skipped again")
		}
		if job.Total, err = delivery.CountRecoverable(ctx, tx, webhookID, store.Millis(since), store.Millis(until)); err != nil {
			return fmt.Errorf("webhooks: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_jobs (id, project_id, webhook_id, since, until, status, total, done, last_id, lease_until, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, $8, $8)`,
			job.ID, projectID, webhookID, store.Millis(since), store.Millis(until), job.Status, job.Total, store.Millis(now)); err != nil {
			return fmt.Errorf("webhooks: insert recovery job: %w", err)
		}
		if s.recoverNotify != nil {
			tx.AfterCommit(s.recoverNotify)
		}
		return nil
	})
	return job, err
}

// RecoveryJob returns one recovery job of a webhook of the project.
func (s *Service) RecoveryJob(ctx context.Context, projectID, webhookID, jobID string) (RecoveryJob, error) {
	var (
		j                                RecoveryJob
		since, until, created, updatedAt int64
	)
	err := s.st.Read().QueryRowContext(ctx, `SELECT id, webhook_id, since, until, status, total, done, created_at, updated_at
FROM recovery_jobs WHERE id = $1 AND webhook_id = $2 AND project_id = $3`, jobID, webhookID, projectID).
		Scan(&j.ID, &j.WebhookID, &since, &until, &j.Status, &j.Total, &j.Done, &created, &updatedAt)
	if errors.Is(err, store.ErrNotFound) {
		return RecoveryJob{}, errs.NotFound("no recovery job with this id")
	}
	if err != nil {
		return RecoveryJob{}, fmt.Errorf("webhooks: get recovery job: %w", err)
	}
	j.Since, j.Until = store.FromMillis(since), store.FromMillis(until)
	j.CreatedAt, j.UpdatedAt = store.FromMillis(created), store.FromMillis(updatedAt)
	return j, nil
}
