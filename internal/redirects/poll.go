package redirects

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/codeqr/codeqr/internal/startstop"
	"github.com/codeqr/codeqr/internal/store"
)

// pollState follows cache_invalidations by id. Ids are handed out at insert
// but become visible at commit, so on PostgreSQL a smaller id can appear after
// a larger one: the poller reads everything above floor (every id at or below
// it is accounted for), skips ids it already applied, and gives up waiting
// for a missing id (a rolled-back transaction) after gapWait.
type pollState struct {
	floor     int64
	seen      map[int64]struct{}
	gapSince  time.Time
	floorHist []floorMark // for cleanup: floors of the recent past
}

type floorMark struct {
	at    time.Time
	floor int64
}

const (
	gapWait      = 5 * time.Second
	keepRows     = time.Minute
	pollBatch    = 1000
	cleanupEvery = 30 * time.Second
)

// Start begins applying other nodes' invalidations. It reads the current end
// of the table first: older rows describe changes the empty cache never held.
// A second Start, or a Start after Stop, does nothing. The poller outlives
// ctx (which bounds only that first read) and runs until Stop.
func (r *Resolver) Start(ctx context.Context) error {
	r.startMu.Lock()
	defer r.startMu.Unlock()
	if r.svc.Done() != nil {
		return nil // already running
	}
	var max sql.NullInt64
	if err := r.st.Read().QueryRowContext(ctx, "SELECT MAX(id) FROM cache_invalidations").Scan(&max); err != nil {
		return fmt.Errorf("redirects: read invalidations: %w", err)
	}
	r.poll = pollState{floor: max.Int64, seen: map[int64]struct{}{}}
	err := r.svc.Start(context.WithoutCancel(ctx), r.run)
	if errors.Is(err, startstop.ErrStopped) {
		return nil // stopped before it started: nothing to poll
	}
	return err
}

// Stop ends the poller and waits for it. It is safe before Start and more
// than once.
func (r *Resolver) Stop() { _ = r.svc.Stop(context.Background()) }

func (r *Resolver) run(stop context.Context) {
	t := time.NewTicker(r.opt.PollInterval)
	defer t.Stop()
	lastCleanup := time.Now()
	for {
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := r.pollOnce(ctx); err != nil {
			r.log.Warn("redirects: poll cache invalidations", "err", err)
		}
		if time.Since(lastCleanup) > cleanupEvery {
			lastCleanup = time.Now()
			r.cleanup(ctx)
		}
		cancel()
	}
}

// pollOnce applies new invalidation rows.
func (r *Resolver) pollOnce(ctx context.Context) error {
	p := &r.poll
	rows, err := r.st.Read().QueryContext(ctx,
		"SELECT id, resource_id, domain, key FROM cache_invalidations WHERE id > $1 ORDER BY id LIMIT $2", p.floor, pollBatch)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id               int64
			res, domain, key sql.NullString
		)
		if err := rows.Scan(&id, &res, &domain, &key); err != nil {
			return err
		}
		if _, ok := p.seen[id]; ok {
			continue
		}
		p.seen[id] = struct{}{}
		r.Invalidate(res.String, domain.String, key.String)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	p.advance(time.Now())
	return nil
}

// advance moves floor over every id seen in order, and over a missing id
// once it has been missing for gapWait.
func (p *pollState) advance(now time.Time) {
	for len(p.seen) > 0 {
		if _, ok := p.seen[p.floor+1]; ok {
			delete(p.seen, p.floor+1)
			p.floor++
			p.gapSince = time.Time{}
			continue
		}
		if p.gapSince.IsZero() {
			p.gapSince = now
		}
		if now.Sub(p.gapSince) < gapWait {
			break
		}
		p.floor++ // the missing id was never committed
	}
	p.floorHist = append(p.floorHist, floorMark{now, p.floor})
}

// cleanup deletes rows every node has had a minute to read.
func (r *Resolver) cleanup(ctx context.Context) {
	p := &r.poll
	cut := time.Now().Add(-keepRows)
	var upTo int64 = -1
	i := 0
	for ; i < len(p.floorHist) && p.floorHist[i].at.Before(cut); i++ {
		upTo = p.floorHist[i].floor
	}
	p.floorHist = p.floorHist[i:]
	if upTo <= 0 {
		return
	}
	if err := r.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM cache_invalidations WHERE id <= $1", upTo)
		return err
	}); err != nil {
		r.log.Warn("redirects: clean cache invalidations", "err", err)
	}
}
