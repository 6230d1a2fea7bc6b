package interactions

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/codeqr/codeqr/internal/rollups"
	"github.com/codeqr/codeqr/internal/startstop"
	"github.com/codeqr/codeqr/internal/store"
)

// Retention tuning: each statement deletes at most retentionBatch raw rows in
// its own short transaction, so interaction batches interleave with pruning
// instead of waiting behind one long delete.
const (
	retentionBatch    = 1000
	retentionInterval = 10 * time.Minute
)

// Retention deletes raw interaction rows older than the retention, oldest
// first, in small batches. The analytics rollups are kept: counts of any
// period stay exact; only GET /api/events (and clickId lookups of
// conversions) stop reaching further back. The cutoff is rounded down to a
// rollup bucket, so a bucket is pruned whole.
type Retention struct {
	st        *store.Store
	retention time.Duration
	interval  time.Duration
	logger    *slog.Logger
	now       func() time.Time

	svc startstop.Service
}

// NewRetention returns a stopped Retention keeping retention; 0 keeps
// everything (Start then does nothing).
func NewRetention(st *store.Store, retention time.Duration, logger *slog.Logger) *Retention {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Retention{st: st, retention: retention, interval: retentionInterval,
		logger: logger.With("component", "interactions"), now: time.Now}
}

// WithClock replaces time.Now (tests move "now" past the retention).
func (r *Retention) WithClock(now func() time.Time) *Retention {
	r.now = now
	return r
}

// Start prunes at once and then every interval until ctx ends or Stop. It
// fails if the Retention was started or stopped before.
func (r *Retention) Start(ctx context.Context) error {
	if r.retention <= 0 {
		return nil // keep forever
	}
	if err := r.svc.Start(ctx, r.loop); err != nil {
		return fmt.Errorf("interactions: retention: %w", err)
	}
	return nil
}

// Stop stops pruning and waits for the batch in progress (or until ctx
// ends). It is safe before Start and more than once.
func (r *Retention) Stop(ctx context.Context) error {
	if err := r.svc.Stop(ctx); err != nil {
		return fmt.Errorf("interactions: retention: %w", err)
	}
	return nil
}

func (r *Retention) loop(ctx context.Context) {
	startstop.Every(ctx, r.interval, func(ctx context.Context) {
		if n, err := r.PruneOnce(ctx); err != nil {
			if ctx.Err() == nil {
				r.logger.Error("interactions: prune raw rows", "err", err)
			}
		} else if n > 0 {
			r.logger.Info("interactions: pruned raw rows", "rows", n)
		}
	})
}

// PruneOnce deletes every raw row older than the retention, batch by batch,
// and returns how many it deleted.
func (r *Retention) PruneOnce(ctx context.Context) (int64, error) {
	if r.retention <= 0 {
		return 0, nil
	}
	cutoff := store.Millis(r.now().Add(-r.retention))
	cutoff -= cutoff % rollups.Bucket
	var total int64
	for {
		var n int64
		err := r.st.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM interactions WHERE click_id IN
(SELECT click_id FROM interactions WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, cutoff, retentionBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("interactions: prune: %w", err)
		}
		total += n
		if n < retentionBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}
