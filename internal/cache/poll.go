package cache

import (
	"context"
	"database/sql"
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
	pollTimeout  = 5 * time.Second
)

// Start reads the current end of cache_invalidations (older rows describe
// changes the empty caches never held) and then polls the table until Stop.
// ctx bounds only that first read. A second Start, or a Start after Stop, is
// refused with an error (a wiring mistake).
func (b *Bus) Start(ctx context.Context) error {
	b.startMu.Lock() // the poll state is set here, before the poller runs
	defer b.startMu.Unlock()
	if b.svc.Done() != nil {
		return fmt.Errorf("cache: start: %w", startstop.ErrAlreadyStarted)
	}
	var max sql.NullInt64
	if err := b.st.Read().QueryRowContext(ctx, "SELECT MAX(id) FROM cache_invalidations").Scan(&max); err != nil {
		return fmt.Errorf("cache: read invalidations: %w", err)
	}
	b.poll = pollState{floor: max.Int64, seen: map[int64]struct{}{}}
	if err := b.svc.Start(context.WithoutCancel(ctx), b.run); err != nil {
		return fmt.Errorf("cache: start: %w", err)
	}
	return nil
}

// Stop ends the poller (cancelling a poll in flight) and waits for it, at
// most until ctx ends. It is safe before Start and more than once.
func (b *Bus) Stop(ctx context.Context) error {
	if err := b.svc.Stop(ctx); err != nil {
		return fmt.Errorf("cache: stop: %w", err)
	}
	return nil
}

func (b *Bus) run(stop context.Context) {
	t := time.NewTicker(b.opt.PollInterval)
	defer t.Stop()
	lastCleanup := time.Now()
	for {
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(stop, pollTimeout)
		if err := b.pollOnce(ctx); err != nil && stop.Err() == nil {
			b.log.Warn("cache: poll cache invalidations", "err", err)
		}
		if time.Since(lastCleanup) > cleanupEvery {
			lastCleanup = time.Now()
			b.cleanup(ctx)
		}
		cancel()
	}
}

// pollOnce applies new invalidation rows.
func (b *Bus) pollOnce(ctx context.Context) error {
	p := &b.poll
	rows, err := b.st.Read().QueryContext(ctx,
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
		b.Invalidate(res.String, domain.String, key.String)
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
func (b *Bus) cleanup(ctx context.Context) {
	p := &b.poll
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
	if err := b.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM cache_invalidations WHERE id <= $1", upTo)
		return err
	}); err != nil {
		b.log.Warn("cache: clean cache invalidations", "err", err)
	}
}
