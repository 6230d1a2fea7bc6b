// Package interactions records clicks, QR scans and page views off the request
// path.
//
// A request handler calls Record, which only appends to an in-memory buffer
// (and decides, in memory, whether the visit is a repeat). A flusher writes the
// buffer every FlushInterval (default 100 ms), or sooner when MaxBatch records
// are waiting, in ONE transaction per flush: the interaction rows, the counter
// bumps (clicks, scans, views and their last-time columns), and the
// link.clicked / qrcode.scanned / page.visited events with their deliveries.
//
// Durability: Stop (called on SIGTERM) writes everything buffered. A hard crash
// (kill -9, power loss) loses what was buffered and not yet written. While the
// writer keeps up that is the last flush interval of interactions. When
// interactions arrive faster than the database takes them, the buffer is
// bounded by time, not by a large count: Record blocks (backpressure on the
// redirect, scan or view) once about MaxDelay (1 s) of what the writer
// achieves is waiting — the writer's rate is measured on every batch — so a
// crash loses at most about one second of interactions. Nothing else is ever
// lost — a flush that fails is kept and retried.
//
// Counting policy: bots are stored with counted = false and delivered only to
// webhooks with includeBots; a repeat by the same visitor (IP + User-Agent) on
// the same resource within DedupeWindow is stored with counted = false and is
// neither counted nor delivered. The dedupe memory is per node (see deduper).
package interactions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/startstop"
	"github.com/codeqr/codeqr/internal/store"
)

// Kind is what an interaction was.
type Kind string

// The three kinds, with the resource each one counts on.
const (
	KindClick Kind = "click" // a link opened (also with ?qr=1)
	KindScan  Kind = "scan"  // a dynamic QR code's short link opened
	KindView  Kind = "view"  // a hosted page viewed
)

// Record is one interaction to write.
type Record struct {
	Kind        Kind
	ProjectID   string
	ResourceID  string // link, QR code or page id, per Kind
	Interaction Interaction
	// set by Record
	counted bool
	deliver bool
}

// Snapshot returns the resource's wire object with its counters set as of one
// event (count: clicks, scans or views; last: lastClicked / lastScanned, nil
// for pages).
type Snapshot func(count int64, last *time.Time) any

// Loader loads a resource inside the flush transaction (q sees the counter
// bump already made). It returns store.ErrNotFound or an errs.NotFound error
// when the resource is gone.
type Loader func(ctx context.Context, q store.Querier, projectID, id string) (Snapshot, error)

// Options tune a Pipeline. Zero values take the defaults written next to them.
type Options struct {
	FlushInterval time.Duration // default 100ms
	MaxBatch      int           // flush early at this many records; default 1000
	// MaxDelay bounds, by time, what waits in memory: Record blocks once the
	// buffer holds what the writer, at its measured rate, writes in MaxDelay;
	// default 1s. The bound is never below 2 × MaxBatch (so full batches
	// still form) nor above MaxBuffered.
	MaxDelay    time.Duration
	MaxBuffered int // hard cap of the buffer, whatever the rate; default 100000
	// DedupeWindow: a repeat within it is not counted. Zero (or negative)
	// disables dedupe, as in config.Config; the CLI's default is 1h.
	DedupeWindow time.Duration
	DedupeSize   int // entries per dedupe generation; default 1<<20
	Links        Loader
	QRCodes      Loader
	Pages        Loader
	Logger       *slog.Logger
}

// Pipeline buffers interactions and writes them in batches.
type Pipeline struct {
	st    *store.Store
	ev    *events.Writer
	opt   Options
	dedup *deduper
	log   *slog.Logger

	mu      sync.Mutex
	space   *sync.Cond
	buf     []Record
	kick    chan struct{}
	stopped bool
	// rate is the writer's measured throughput, records per second of
	// writing (a moving average over about MaxDelay); 0 before the first
	// batch. It sets the buffer's bound (limit).
	rate    float64
	svc     startstop.Service // the flusher
	flushMu sync.Mutex        // one flush at a time
}

// New returns a Pipeline; call Start to run its flusher and Stop to drain it.
func New(st *store.Store, ev *events.Writer, o Options) *Pipeline {
	if o.FlushInterval <= 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1000
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Second
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = 100000
	}
	o.MaxBuffered = max(o.MaxBuffered, 2*o.MaxBatch)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{st: st, ev: ev, opt: o, dedup: newDeduper(o.DedupeWindow, o.DedupeSize), log: o.Logger,
		kick: make(chan struct{}, 1)}
	p.space = sync.NewCond(&p.mu)
	return p
}

// Record queues one interaction. It never touches the database; it blocks only
// when about MaxDelay of writing is already waiting (limit: the database is
// not keeping up).
func (p *Pipeline) Record(r Record) {
	in := &r.Interaction
	repeat := p.dedup.repeat(r.ResourceID, in.IP, in.UA, in.Timestamp)
	r.counted = !repeat && !in.Bot
	r.deliver = !repeat
	p.mu.Lock()
	for len(p.buf) >= p.limit() && !p.stopped {
		p.space.Wait()
	}
	p.buf = append(p.buf, r)
	n := len(p.buf)
	p.mu.Unlock()
	if n >= p.opt.MaxBatch {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// limit is how many records may wait: MaxDelay at the writer's measured rate,
// within [2 × MaxBatch, MaxBuffered]. Before the first batch is measured it
// is the floor. p.mu must be held.
func (p *Pipeline) limit() int {
	n := int(p.rate * p.opt.MaxDelay.Seconds())
	return min(max(n, 2*p.opt.MaxBatch), p.opt.MaxBuffered)
}

// Limit returns how many records may wait before Record blocks, as of now.
func (p *Pipeline) Limit() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limit()
}

// measured folds one written batch of n records that took took into the
// writer's rate, weighting it by its duration so the average spans about
// MaxDelay of writing whatever the batch sizes.
func (p *Pipeline) measured(n int, took time.Duration) {
	if took <= 0 {
		took = time.Microsecond
	}
	inst := float64(n) / took.Seconds()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rate == 0 {
		p.rate = inst
		return
	}
	a := min(1, took.Seconds()/p.opt.MaxDelay.Seconds())
	p.rate += a * (inst - p.rate)
}

// Pending returns how many records wait to be written.
func (p *Pipeline) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buf)
}

// Start runs the flusher until Stop. The flusher ignores ctx's end (it keeps
// ctx's values only): interactions recorded while the server drains its HTTP
// requests must still be written, and Stop drains what is left. It fails if
// the Pipeline was started or stopped before.
func (p *Pipeline) Start(ctx context.Context) error {
	if err := p.svc.Start(context.WithoutCancel(ctx), p.run); err != nil {
		return fmt.Errorf("interactions: %w", err)
	}
	return nil
}

func (p *Pipeline) run(ctx context.Context) {
	t := time.NewTicker(p.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
		if err := p.Flush(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("interactions: flush failed; will retry", "err", err, "pending", p.Pending())
		}
	}
}

// Stop ends the flusher and writes everything buffered, retrying until ctx
// ends; ctx bounds the whole drain. A flush the flusher was doing when Stop
// came is cancelled and its records written by the drain. It is safe before
// Start and more than once.
func (p *Pipeline) Stop(ctx context.Context) error {
	p.mu.Lock()
	p.stopped = true
	p.space.Broadcast()
	p.mu.Unlock()
	if err := p.svc.Stop(ctx); err != nil {
		return fmt.Errorf("interactions: stop with %d unwritten: %w", p.Pending(), err)
	}
	for {
		err := p.Flush(ctx)
		if err == nil && p.Pending() == 0 {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interactions: stop with %d unwritten: %w", p.Pending(), errors.Join(err, ctx.Err()))
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// Flush writes what is buffered now, in batches of MaxBatch. On failure the
// unwritten records go back to the front of the buffer.
func (p *Pipeline) Flush(ctx context.Context) error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	for {
		p.mu.Lock()
		n := min(len(p.buf), p.opt.MaxBatch)
		batch := slices.Clone(p.buf[:n])
		p.mu.Unlock()
		if n == 0 {
			return nil
		}
		began := time.Now()
		if err := p.write(ctx, batch); err != nil {
			return err
		}
		p.measured(n, time.Since(began))
		p.mu.Lock()
		p.buf = slices.Delete(p.buf, 0, n) // only Record appends meanwhile, at the end
		p.space.Broadcast()
		p.mu.Unlock()
	}
}
