package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/codeqr/codeqr/internal/startstop"
	"github.com/codeqr/codeqr/internal/store"
)

// Pruner tuning: each statement deletes at most pruneBatch rows in its own
// short transaction, so the delivery engine's writes interleave with pruning
// instead of waiting for one long delete.
const (
	pruneBatch    = 500
	pruneInterval = 10 * time.Minute
)

// Pruner deletes, in small batches, what is older than the delivery log
// retention: attempts, finished (non-pending) deliveries, and then events no
// delivery refers to any more. Pending deliveries and their events are never
// touched, however old.
type Pruner struct {
	st        *store.Store
	retention time.Duration
	interval  time.Duration
	logger    *slog.Logger
	now       func() time.Time

	svc startstop.Service
}

// NewPruner returns a stopped Pruner keeping retention (0: 720h).
func NewPruner(st *store.Store, retention time.Duration, logger *slog.Logger) *Pruner {
	if retention <= 0 {
		retention = 720 * time.Hour
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Pruner{st: st, retention: retention, interval: pruneInterval, logger: logger.With("component", "webhooks"), now: time.Now}
}

// Start prunes at once and then every interval until ctx ends or Stop. It
// fails if the Pruner was started or stopped before.
func (p *Pruner) Start(ctx context.Context) error {
	if err := p.svc.Start(ctx, p.loop); err != nil {
		return fmt.Errorf("delivery: pruner: %w", err)
	}
	return nil
}

// Stop stops pruning and waits for the batch in progress, or until ctx ends
// (then it returns ctx's error; the batch's transaction is cancelled and
// rolls back). It is safe before Start and more than once.
func (p *Pruner) Stop(ctx context.Context) error {
	if err := p.svc.Stop(ctx); err != nil {
		return fmt.Errorf("delivery: pruner: %w", err)
	}
	return nil
}

func (p *Pruner) loop(ctx context.Context) {
	startstop.Every(ctx, p.interval, func(ctx context.Context) {
		if n, err := p.PruneOnce(ctx); err != nil {
			if ctx.Err() == nil {
				p.logger.Error("webhooks: prune delivery log", "err", err)
			}
		} else if n > 0 {
			p.logger.Info("webhooks: pruned delivery log", "rows", n)
		}
	})
}

// pruneStatements delete one batch each; $1 is the cutoff (Unix ms). Events go
// last, and only once no delivery (pending or not) refers to them.
var pruneStatements = []struct{ what, sql string }{
	{"attempts", `DELETE FROM delivery_attempts WHERE id IN (
  SELECT id FROM delivery_attempts WHERE created_at < $1 ORDER BY created_at LIMIT ` + fmt.Sprint(pruneBatch) + `)`},
	{"deliveries", `DELETE FROM deliveries WHERE id IN (
  SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < $1 ORDER BY updated_at LIMIT ` + fmt.Sprint(pruneBatch) + `)`},
	{"events", `DELETE FROM events WHERE id IN (
  SELECT e.id FROM events e WHERE e.created_at < $1
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) ORDER BY e.created_at LIMIT ` + fmt.Sprint(pruneBatch) + `)`},
}

// PruneOnce deletes everything older than the retention, batch by batch, and
// returns how many rows it deleted.
func (p *Pruner) PruneOnce(ctx context.Context) (int64, error) {
	cutoff := store.Millis(p.now().Add(-p.retention))
	var total int64
	for _, st := range pruneStatements {
		for ctx.Err() == nil {
			var n int64
			err := p.st.InTx(ctx, func(tx *store.Tx) error {
				res, err := tx.ExecContext(ctx, st.sql, cutoff)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return total, fmt.Errorf("prune %s: %w", st.what, err)
			}
			total += n
			if n < pruneBatch {
				break
			}
		}
	}
	return total, ctx.Err()
}
