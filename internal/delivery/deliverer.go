package delivery

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/netguard"
	"github.com/codeqr/codeqr/internal/store"
)

// Tuning. maxBatch bounds both a claim and a completion transaction: big enough
// that the per-transaction cost (the SQLite fsync, a PostgreSQL round trip)
// vanishes, small enough that one transaction never holds the writer for long.
const (
	maxBatch = 500
	// leaseMargin is what a lease holds beyond one delivery timeout, and
	// renewEvery how often the leases of held rows are renewed: a node that
	// dies (kill -9) holds its rows at most one delivery timeout plus this
	// margin after its last renewal.
	leaseMargin = 3 * time.Second
	renewEvery  = time.Second
	// sendMargin is the lease a send needs left beyond its own timeout to
	// start: a send that starts always ends while its row is still leased
	// here, so no other node can send the row meanwhile.
	sendMargin   = 500 * time.Millisecond
	pollInterval = 200 * time.Millisecond
	coalesceWait = 2 * time.Millisecond
	// idleWakeWait is the coalescing of new-event wake-ups after a claim
	// that took nothing (claimLoop).
	idleWakeWait  = 10 * time.Millisecond
	resultsBuffer = 1024
	// outcomeWriteTimeout bounds one try of writing a batch of outcomes, so a
	// database that hangs (rather than fails) is retried, and shutdown ends.
	outcomeWriteTimeout = 10 * time.Second
	// releaseTimeout bounds handing back leases at Stop once the stop context
	// has ended already.
	releaseTimeout = 2 * time.Second
)

// Deliverer sends the rows of the deliveries table: it claims due rows in
// batches, POSTs each event to its webhook with signature headers, and writes
// the outcomes back in batches. It is the only writer of delivery outcomes.
//
// Why this shape: on SQLite every write transaction is serialised and costs an
// fsync-ish commit, so per-row claiming and completing (as a generic job queue
// does) caps throughput at a few thousand rows per second. Here a claim and a
// completion each cover up to maxBatch rows in one transaction, and HTTP sends
// run concurrently in between.
//
// Claims are leases (lease_until, lease_owner) rather than status changes: a
// node renews the leases of the rows it holds every second (renewLeases), and
// a node that dies with claimed rows simply lets them run out — one delivery
// timeout plus leaseMargin after its last renewal, see lease — and any node
// sends them again: at least once, never lost. On PostgreSQL
// several nodes claim concurrently with FOR UPDATE SKIP LOCKED. Leases are
// written and judged by the database's clock (Dialect.NowMillis), so nodes
// whose clocks drift apart never steal each other's rows early.
type Deliverer struct {
	st     *store.Store
	cfg    config.Config
	logger *slog.Logger
	client *http.Client
	m      *metrics
	opts   options
	// limits are the per-webhook rate limits (ratelimit.go); onDisable is
	// told of every automatic disable (OnDisable; the Notifier's Disabled in
	// production). Both stay out of the engine's core paths.
	limits    *rateLimits
	onDisable func(webhookID, reason string)
	listen    *ListenHub // streams of `codeqr listen` sessions on this node (listen.go)

	wake    chan struct{} // new events (Notify)
	freed   chan struct{} // a send finished, slots are free again
	results chan result

	mu      sync.Mutex
	state   int
	held    int              // rows claimed here and not yet handed to the completer
	perHook map[string]int   // the same, per webhook
	sending map[string]int   // sends in progress per webhook (≤ WebhookConcurrency)
	queued  map[string][]job // claimed rows waiting for a send slot of their webhook
	// leased are the rows claimed here and not yet completed, with when
	// their lease runs out by this process's monotonic clock (the zero time
	// once a renewal found the row no longer ours). renewedAt is the last
	// successful renewal by opts.now.
	leased    map[int64]time.Time
	renewedAt time.Time
	// owner names this deliverer in lease_owner, so that renewing and handing
	// back touch only rows that are still its own.
	owner     string
	stopRenew chan struct{}
	renewDone chan struct{}
	// claimCursor is the last webhook a claim served; the next starts after
	// it (claim.go).
	claimCursor string
	// busy are the webhooks the due query found at dueAt, less those a claim
	// since found without more due work: the claims until dueEvery has
	// passed serve them without asking again (claim.go).
	busy  map[string]bool
	dueAt time.Time
	// floors are where claims start each webhook's scan until floorsAt is
	// floorsEvery old (claim.go).
	floors   map[string]int64
	floorsAt time.Time
	cancel   context.CancelFunc // stops the claim loop
	loopDone chan struct{}      // closed when the claim loop has returned
	complete chan struct{}      // closed when the completer has flushed
	sends    sync.WaitGroup     // in-flight sends
	// sendCtx is the context of every send and of reading claimed rows;
	// Stop cancels it when its deadline nears, and the rows whose sends it
	// cut short are handed back rather than recorded as failures.
	sendCtx     context.Context
	cancelSends context.CancelFunc
	// writeCtx bounds outcome writes and their retries; Stop cancels it when
	// its context ends, so a hung database cannot hold shutdown.
	writeCtx     context.Context
	cancelWrites context.CancelFunc
	stopOnce     sync.Once
	stopErr      error
}

const (
	stateIdle = iota
	stateRunning
	stateStopped
)

// options are what tests change: the clock and the jitter source, so retry
// timing can be checked without waiting minutes, the poll interval, and the
// wait between tries of an outcome write.
type options struct {
	now  func() time.Time
	rand func() float64 // uniform in [0, 1)
	poll time.Duration
	// sleep waits d or until ctx ends (then it returns ctx's error).
	sleep func(ctx context.Context, d time.Duration) error
}

// sleep is options.sleep on a real timer.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Options are a Deliverer's collaborators, given at construction.
type Options struct {
	// Logger; nil discards.
	Logger *slog.Logger
	// Registerer receives the delivery metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// OnDisable is told of every automatic disable (the Notifier's Disabled
	// in production); nil: nobody is told.
	OnDisable func(webhookID, reason string)
}

// NewDeliverer returns a stopped Deliverer; Start runs it.
func NewDeliverer(st *store.Store, cfg config.Config, o Options) *Deliverer {
	return newDeliverer(st, cfg, o, options{})
}

func newDeliverer(st *store.Store, cfg config.Config, o Options, opts options) *Deliverer {
	cfg = cfg.WithDefaults()
	logger, reg := o.Logger, o.Registerer
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.rand == nil {
		opts.rand = rand.Float64
	}
	if opts.poll <= 0 {
		opts.poll = pollInterval
	}
	if opts.sleep == nil {
		opts.sleep = sleep
	}
	client := netguard.Client(netguard.Options{AllowHTTP: cfg.WebhooksAllowHTTP, AllowPrivate: cfg.WebhooksAllowPrivate}, cfg.DeliveryTimeout)
	if t, ok := client.Transport.(*http.Transport); ok {
		// Keep a warm connection for every send that can be in flight to one
		// receiver: many webhooks often share a host (one endpoint subscribed
		// to several event types, an integration platform), so that is every
		// send of the node, not one webhook's concurrency. With fewer, each
		// round of sends to a shared host closed the connections beyond the
		// idle limit and dialled them again (an eighth of the server's CPU
		// at fan-out 10 to one receiver).
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, cfg.WebhookConcurrency, cfg.DeliveryWorkers)
		t.MaxIdleConns = max(t.MaxIdleConns, cfg.DeliveryWorkers)
	}
	d := &Deliverer{
		st:        st,
		cfg:       cfg,
		logger:    logger.With("component", "webhooks"),
		client:    client,
		m:         newMetrics(reg),
		opts:      opts,
		limits:    newRateLimits(),
		listen:    NewListenHub(),
		wake:      make(chan struct{}, 1),
		freed:     make(chan struct{}, 1),
		results:   make(chan result, resultsBuffer),
		perHook:   map[string]int{},
		sending:   map[string]int{},
		queued:    map[string][]job{},
		leased:    map[int64]time.Time{},
		owner:     ids.Random(20),
		onDisable: o.OnDisable,
	}
	d.sendCtx, d.cancelSends = context.WithCancel(context.Background())
	d.writeCtx, d.cancelWrites = context.WithCancel(context.Background())
	return d
}

// Notify wakes the claim loop: new deliveries were committed. It never blocks.
func (d *Deliverer) Notify() { signal(d.wake) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Start begins claiming and sending until ctx ends or Stop is called. On
// SQLite, which is one node by construction, it first clears every lease: the
// leases left by a crash are this node's own, and waiting for them to run out
// would only delay those deliveries. It fails if the Deliverer was started or
// stopped before.
func (d *Deliverer) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state != stateIdle {
		return errors.New("delivery: deliverer already started or stopped")
	}
	if !d.st.Dialect().SharedByNodes() {
		if err := d.st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE deliveries SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0")
			return err
		}); err != nil {
			return fmt.Errorf("delivery: clear leases: %w", err)
		}
	}
	loopCtx, cancel := context.WithCancel(ctx)
	d.cancel = cancel
	d.loopDone = make(chan struct{})
	d.complete = make(chan struct{})
	d.state = stateRunning
	d.stopRenew, d.renewDone = make(chan struct{}), make(chan struct{})
	go d.completer()
	go d.claimLoop(loopCtx)
	go d.renewLoop()
	return nil
}

// Stop stops claiming, waits for in-flight sends (each bounded by the delivery
// timeout), writes their outcomes, and hands back every lease still held so
// that another node, or the next start, sends those rows at once.
//
// ctx bounds the whole drain. Shortly before its deadline (a fifth of the
// time left, at most 2 s, is kept for the rest) the sends still in flight are
// cancelled: no attempt is recorded for them and their rows are handed back
// with the rest; Stop then returns an error wrapping ctx's. Outcome writes
// still retrying when ctx ends are abandoned; their rows are sent again once
// their leases run out. It is safe to call before Start and more than once
// (later calls return the first one's result).
func (d *Deliverer) Stop(ctx context.Context) error {
	d.stopOnce.Do(func() { d.stopErr = d.stop(ctx) })
	return d.stopErr
}

func (d *Deliverer) stop(ctx context.Context) error {
	d.mu.Lock()
	wasRunning := d.state == stateRunning
	d.state = stateStopped
	d.mu.Unlock()
	defer d.cancelSends()
	defer d.cancelWrites()
	if !wasRunning {
		return nil
	}
	d.cancel()
	cut, cancelCut := drainCut(ctx)
	defer cancelCut()
	drained := make(chan struct{})
	go func() {
		<-d.loopDone
		d.sends.Wait()
		close(drained)
	}()
	var errs []error
	select {
	case <-drained:
	case <-cut.Done():
		d.cancelSends()
		<-drained // cancelled sends return at once
		errs = append(errs, fmt.Errorf("delivery: stop: sends in flight cancelled and handed back: %w", cut.Err()))
	}
	close(d.results)
	select {
	case <-d.complete:
	case <-ctx.Done():
		d.cancelWrites()
		<-d.complete
	}
	if err := d.releaseLeases(ctx); err != nil {
		errs = append(errs, err)
	}
	close(d.stopRenew)
	<-d.renewDone
	d.client.CloseIdleConnections()
	return errors.Join(errs...)
}

// drainCut returns the context that ends the wait for in-flight sends: ctx's
// deadline less a fifth of the time left (at most 2 s), so that writing the
// finished outcomes and handing back leases still fit before ctx ends.
func drainCut(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(time.Until(deadline)/5, 2*time.Second)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// releaseLeases clears the leases of rows claimed here whose outcome was never
// written (a send cut short by Stop, a queued row, a failed completion, or a
// claim whose read failed). It uses what is left of ctx, or a short time of
// its own once ctx has ended: rows handed back are sent at once elsewhere,
// rather than one lease later.
func (d *Deliverer) releaseLeases(ctx context.Context) error {
	d.mu.Lock()
	ids := make([]any, 0, len(d.leased))
	for id := range d.leased {
		ids = append(ids, id)
	}
	d.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxBatch)]
		ids = ids[len(chunk):]
		args := append([]any{d.owner}, chunk...)
		err := d.st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE deliveries SET lease_until = 0 WHERE status = 'pending' AND lease_owner = $1 AND id IN ("+store.Placeholders(2, len(chunk))+")", args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("delivery: hand back %d leases (they run out by themselves): %w", len(chunk)+len(ids), err)
		}
	}
	return nil
}

// claimLoop claims whenever it is woken (new events, freed slots) or the poll
// tick fires (retries coming due, events written by other processes).
func (d *Deliverer) claimLoop(ctx context.Context) {
	defer close(d.loopDone)
	tick := time.NewTicker(d.opts.poll)
	defer tick.Stop()
	for {
		capped := false
		for {
			c, err := d.claim(ctx)
			capped = c.capped
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				d.logger.Error("webhooks: claim", "err", err)
				break
			}
			if !c.more {
				break
			}
		}
		// Let a few more events commit and sends finish so that one claim
		// picks them all up, instead of one claim per event or per freed
		// slot: under load, wake-ups come thousands of times a second. When
		// the last claim found due work but none with room (every webhook
		// with work at its cap, the usual state of a node behind), new events
		// are most likely for those same webhooks, so the wait after one is
		// longer, cut short by room; an idle node claims new events at once.
		wait, cut := coalesceWait, (<-chan struct{})(nil)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			continue
		case <-d.wake:
			if capped {
				wait, cut = idleWakeWait, d.freed
			}
		case <-d.freed:
		}
		select {
		case <-ctx.Done():
			return
		case <-cut: // room, during the longer wait
		case <-time.After(wait):
		}
	}
}

// job is one claimed delivery with everything needed to send it.
type job struct {
	id           int64
	eventID      string
	webhookID    string
	attempts     int // made before this one
	eventType    string
	test         bool
	body         []byte
	eventCreated int64
	url          string
	secrets      []string // current first, then a rotated one still valid
	disabled     bool
	// leaseEnd is when the claim's lease runs out, by this node's clock
	// (opts.now at the claim plus the lease): until then the row is this
	// node's to complete.
	leaseEnd time.Time
	// abandoned marks a send that Stop cut short: nothing is recorded, and
	// the row's lease is handed back.
	abandoned bool
}

// readJobs reads, in one query, the bodies and webhook data of claimed rows.
func (d *Deliverer) readJobs(ctx context.Context, ids []any, now time.Time) ([]job, error) {
	rows, err := d.st.Read().QueryContext(ctx, `SELECT d.id, d.event_id, d.webhook_id, e.type, e.test, e.payload, e.created_at,
  w.url, w.secret, w.previous_secret, w.previous_secret_until, w.disabled_at
FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
WHERE d.id IN (`+store.Placeholders(1, len(ids))+")", ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	jobs := make([]job, 0, len(ids))
	nowMs := store.Millis(now)
	for rows.Next() {
		var (
			j         job
			payload   string
			secret    string
			prev      sql.NullString
			prevUntil sql.NullInt64
			disabled  sql.NullInt64
		)
		if err := rows.Scan(&j.id, &j.eventID, &j.webhookID, &j.eventType, &j.test, &payload, &j.eventCreated,
			&j.url, &secret, &prev, &prevUntil, &disabled); err != nil {
			return nil, err
		}
		j.body = []byte(payload)
		j.secrets = []string{secret}
		if prev.Valid && prev.String != "" && prevUntil.Valid && prevUntil.Int64 > nowMs {
			j.secrets = append(j.secrets, prev.String)
		}
		j.disabled = disabled.Valid
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// holdLimit is how many rows of one webhook this node holds at most: as
// many sending as WebhookConcurrency allows, and three times as many queued
// behind them, so that a webhook's slots never idle while the next claim is
// on its way — under load a claim is a few round trips to a busy database,
// and a loopback receiver answers a whole queue of one concurrency's depth
// in less. It is at most half of DeliveryWorkers (never under twice the
// concurrency), so that one webhook whose endpoint hangs holds at most half
// the node's rows and the other webhooks keep the rest. A webhook at this
// limit is left out of claims.
func (d *Deliverer) holdLimit() int {
	c := d.cfg.WebhookConcurrency
	return max(2*c, min(4*c, d.cfg.DeliveryWorkers/2))
}

// lease is how long a claim or a renewal holds its rows: one delivery timeout
// and leaseMargin. A send starts only with a timeout and sendMargin of its
// lease left (holds), and renewals every renewEvery keep the leases of queued
// and sending rows full while the node lives; a crashed node's rows come
// back one lease after its last renewal.
func (d *Deliverer) lease() time.Duration { return d.cfg.DeliveryTimeout + leaseMargin }

// holds reports whether the row is still this node's to send now: leased here
// with enough lease left that the send ends before the lease does.
func (d *Deliverer) holds(id int64) bool {
	d.mu.Lock()
	end, ok := d.leased[id]
	d.mu.Unlock()
	return ok && time.Until(end) >= d.cfg.DeliveryTimeout+sendMargin
}

// forget drops a row this node will neither send nor hand back (its lease
// ran out, or another node owns it now).
func (d *Deliverer) forget(id int64) {
	d.mu.Lock()
	delete(d.leased, id)
	d.mu.Unlock()
}

// renewLoop renews the leases of held rows every renewEvery until Stop has
// handed back what it could.
func (d *Deliverer) renewLoop() {
	defer close(d.renewDone)
	t := time.NewTicker(renewEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stopRenew:
			return
		case <-t.C:
			if err := d.renewLeases(); err != nil {
				d.logger.Warn("webhooks: renew delivery leases; sends stop starting once their leases run short", "err", err)
			}
		}
	}
}

// renewLeases extends, in one statement per maxBatch rows, the leases of every
// row held here that is still pending and still this node's (lease_owner). A
// row it does not get back is no longer ours: it is marked so, and is not sent.
func (d *Deliverer) renewLeases() error {
	d.mu.Lock()
	ids := make([]any, 0, len(d.leased))
	for id, end := range d.leased {
		if !end.IsZero() {
			ids = append(ids, id)
		}
	}
	d.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	began, beganByClock := time.Now(), d.opts.now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*renewEvery)
	defer cancel()
	renewed := make(map[int64]bool, len(ids))
	dbNow := d.st.Dialect().NowMillis()
	for rest := ids; len(rest) > 0; {
		chunk := rest[:min(len(rest), maxBatch)]
		rest = rest[len(chunk):]
		args := append([]any{d.lease().Milliseconds(), d.owner}, chunk...)
		var got []int64
		err := d.st.InTx(ctx, func(tx *store.Tx) error {
			got = got[:0]
			rows, err := tx.QueryContext(ctx, "UPDATE deliveries SET lease_until = "+dbNow+" + $1 WHERE status = 'pending' AND lease_owner = $2 AND id IN ("+
				store.Placeholders(3, len(chunk))+") RETURNING id", args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				got = append(got, id)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for _, id := range got {
			renewed[id] = true
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, v := range ids {
		id := v.(int64)
		if _, still := d.leased[id]; !still {
			continue // completed meanwhile
		}
		if renewed[id] {
			d.leased[id] = began.Add(d.lease())
		} else {
			d.leased[id] = time.Time{}
		}
	}
	d.renewedAt = beganByClock
	return nil
}

// dispatch sends j now if its webhook has a free slot, else queues it.
func (d *Deliverer) dispatch(j job) {
	d.mu.Lock()
	if d.sending[j.webhookID] >= d.cfg.WebhookConcurrency {
		d.queued[j.webhookID] = append(d.queued[j.webhookID], j)
		d.mu.Unlock()
		return
	}
	d.sending[j.webhookID]++
	d.mu.Unlock()
	d.sends.Add(1)
	go d.sendLoop(j)
}

// release forgets one held row of webhookID that will not be sent.
func (d *Deliverer) release(webhookID string) {
	d.mu.Lock()
	d.unhold(webhookID)
	d.mu.Unlock()
	signal(d.freed)
}

// unhold drops one held row; d.mu must be held.
func (d *Deliverer) unhold(webhookID string) {
	d.held--
	if n := d.perHook[webhookID] - 1; n > 0 {
		d.perHook[webhookID] = n
	} else {
		delete(d.perHook, webhookID)
	}
}

// next finishes one send of webhookID and returns the next queued row of the
// same webhook to send in this slot, unless the deliverer is stopping (queued
// rows are then left to releaseLeases).
//
// room reports whether this send gave the claim loop something to do: the
// webhook just reached the room a claim tops it up at (refill), or the node
// just got room again under DeliveryWorkers. Signalling only then, rather
// than after every send, keeps a busy node from claiming once per send.
func (d *Deliverer) next(webhookID string) (j job, ok, room bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.unhold(webhookID)
	room = d.perHook[webhookID] == d.holdLimit()-d.refill() || d.held == d.cfg.DeliveryWorkers-d.refill()
	if q := d.queued[webhookID]; len(q) > 0 && d.state == stateRunning {
		j := q[0]
		if len(q) == 1 {
			delete(d.queued, webhookID)
		} else {
			d.queued[webhookID] = q[1:]
		}
		return j, true, room
	}
	if n := d.sending[webhookID] - 1; n > 0 {
		d.sending[webhookID] = n
	} else {
		delete(d.sending, webhookID)
	}
	return job{}, false, room
}

// result is the outcome of one claimed row, on its way to the completer.
type result struct {
	job
	outcome     string // outcomeSuccess, outcomeFailure, outcomeSkipped
	status      int    // HTTP status, 0 when there was no response
	err         string
	reqHeaders  string
	respHeaders string
	respBody    string
	started     time.Time
	finished    time.Time
	duration    time.Duration
	nextAt      *time.Time // the retry, when one remains
}

// sendLoop makes one attempt, hands the outcome to the completer, and goes
// on with the next queued row of the same webhook. A row stops counting as
// held only once the completer has its result, so a slow database holds back
// new claims instead of piling up results.
func (d *Deliverer) sendLoop(j job) {
	defer d.sends.Done()
	for {
		if d.holds(j.id) {
			d.m.inFlight.Inc()
			r := d.attempt(j)
			d.m.inFlight.Dec()
			if !r.abandoned {
				d.results <- r
			}
		} else {
			// Renewals failed for too long, or another node has the row:
			// sending it now could send it twice. Whoever holds it next does.
			d.forget(j.id)
			d.logger.Warn("webhooks: lease ran short; delivery left to the next claim", "delivery_id", j.id)
		}
		var ok, room bool
		j, ok, room = d.next(j.webhookID)
		if room {
			signal(d.freed)
		}
		if !ok {
			return
		}
	}
}

// attempt POSTs one delivery. A webhook that is disabled gets nothing, except
// for test events, which exist precisely to check a webhook (also before
// re-enabling it).
func (d *Deliverer) attempt(j job) result {
	r := result{job: j, started: d.opts.now()}
	if j.disabled && !j.test {
		r.outcome = outcomeSkipped
		r.finished = r.started
		return r
	}
	req, err := http.NewRequestWithContext(d.sendCtx, http.MethodPost, j.url, bytes.NewReader(j.body))
	if err != nil {
		return d.failed(r, 0, fmt.Sprintf("invalid url: %v", err), nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if j.test {
		req.Header.Set(HeaderTest, "true")
	}
	if err := Sign(req.Header, j.eventID, r.started, j.body, j.secrets...); err != nil {
		return d.failed(r, 0, err.Error(), nil)
	}
	r.reqHeaders = headersJSON(req.Header)
	// A `codeqr listen` webhook has no URL to POST to: the request, signed
	// above like any other, goes to the session's stream instead (listen.go).
	if IsListenURL(j.url) {
		return d.attemptListen(r, req)
	}
	begin := time.Now()
	resp, err := d.client.Do(req)
	if err != nil && d.sendCtx.Err() != nil {
		r.abandoned = true
		return r
	}
	if err != nil {
		r.duration = time.Since(begin)
		return d.failed(r, 0, describeError(err, d.cfg.DeliveryTimeout), nil)
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	if readErr != nil && d.sendCtx.Err() != nil {
		r.abandoned = true
		return r
	}
	r.duration = time.Since(begin)
	r.status = resp.StatusCode
	r.respHeaders = headersJSON(resp.Header)
	r.respBody = cleanText(string(body))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		r.outcome = outcomeSuccess
		r.finished = d.opts.now()
		return r
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return d.failed(r, resp.StatusCode, "redirect not followed", resp.Header)
	default:
		return d.failed(r, resp.StatusCode, fmt.Sprintf("HTTP %d", resp.StatusCode), resp.Header)
	}
}

// failed completes r as a failure and schedules the retry, if one remains.
func (d *Deliverer) failed(r result, status int, msg string, h http.Header) result {
	r.outcome = outcomeFailure
	r.status = status
	r.err = cleanText(msg)
	r.finished = d.opts.now()
	if status == http.StatusGone && !r.test {
		return r // the webhook is disabled; nothing to retry
	}
	delay, ok := nextDelay(d.cfg.RetrySchedule, r.attempts+1, d.opts.rand(), retryAfter(status, h, r.finished))
	if ok {
		next := r.finished.Add(delay)
		r.nextAt = &next
	}
	return r
}

// describeError turns a transport error into the short text kept in the
// attempt log: what a webhook owner needs to fix their endpoint.
func describeError(err error, timeout time.Duration) string {
	var (
		dnsErr *net.DNSError
		netErr net.Error
		urlErr *url.Error
	)
	switch {
	case errors.Is(err, netguard.ErrBlocked):
		s := err.Error()
		if i := strings.Index(s, netguard.ErrBlocked.Error()); i >= 0 {
			return s[i:]
		}
		return s
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout after " + timeout.String()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dnsErr):
		return "dns: " + dnsErr.Err + ": " + dnsErr.Name
	case errors.As(err, &urlErr):
		return urlErr.Err.Error()
	}
	return err.Error()
}

// headersJSON renders headers as a JSON object of strings (several values
// joined by ", "), bounded like response bodies.
func headersJSON(h http.Header) string {
	m := make(map[string]string, len(h))
	size := 0
	for k, v := range h {
		s := strings.Join(v, ", ")
		if size += len(k) + len(s); size > maxResponseBody {
			break
		}
		m[k] = s
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// cleanText makes receiver-supplied text storable as TEXT on both databases:
// valid UTF-8 without NUL bytes.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// completer writes outcomes in batches until the results channel is closed.
func (d *Deliverer) completer() {
	defer close(d.complete)
	for first := range d.results {
		batch := []result{first}
		timer := time.NewTimer(coalesceWait)
	collect:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-d.results:
				if !ok {
					break collect
				}
				batch = append(batch, r)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		d.completeBatch(batch)
	}
}

// completeBatch writes one batch. It keeps retrying while the batch's rows
// are still leased to this node: a database outage of a few seconds (a
// failover, a cut connection) must not turn every outcome sent meanwhile into
// a duplicate send one lease later. Once a lease has run out another node may
// own the row, and a stopping deliverer must not hang, so then it gives up
// after a few tries: a batch that cannot be written is still not lost, its
// leases run out and the rows are sent again. Each try is bounded by
// outcomeWriteTimeout, and all of them by writeCtx, which Stop cancels when
// its own context ends; the clock and the waits are opts.now and opts.sleep.
func (d *Deliverer) completeBatch(batch []result) {
	leaseEnd := batch[0].leaseEnd
	for _, r := range batch[1:] {
		if r.leaseEnd.Before(leaseEnd) {
			leaseEnd = r.leaseEnd
		}
	}
	// Renewals extend what the claim gave.
	d.mu.Lock()
	if !d.renewedAt.IsZero() {
		leaseEnd = later(leaseEnd, d.renewedAt.Add(d.lease()))
	}
	d.mu.Unlock()
	// Leave one delivery timeout for the write itself.
	leaseEnd = leaseEnd.Add(-d.cfg.DeliveryTimeout)
	var err error
	for try := 0; ; try++ {
		if try > 0 {
			if d.opts.sleep(d.writeCtx, min(time.Duration(try)*200*time.Millisecond, 2*time.Second)) != nil {
				break
			}
		}
		var disabled map[string]string
		began := time.Now()
		ctx, cancel := context.WithTimeout(d.writeCtx, outcomeWriteTimeout)
		disabled, err = d.writeBatch(ctx, batch)
		cancel()
		if err == nil {
			d.logger.Debug("webhooks: completed", "count", len(batch), "took", time.Since(began))
			d.afterBatch(batch, disabled)
			return
		}
		if d.writeCtx.Err() != nil || try >= 4 && (d.opts.now().After(leaseEnd) || d.stopping()) {
			break
		}
		if try == 0 {
			d.logger.Warn("webhooks: write delivery outcomes; retrying while their leases last", "err", err, "count", len(batch))
		}
	}
	d.logger.Error("webhooks: write delivery outcomes; they will be sent again when their leases expire", "err", err, "count", len(batch))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// stopping reports whether Stop has been called.
func (d *Deliverer) stopping() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state == stateStopped
}

// hookEffect is what one batch does to one webhook's state.
type hookEffect struct {
	gone        bool       // a 410 Gone arrived
	lastSuccess int        // index in batch of the last success, -1 if none
	failingAt   *time.Time // first failure after the last success
}

// writeBatch writes the outcomes of a batch in one transaction and returns
// the webhooks it disabled, with the reason.
func (d *Deliverer) writeBatch(ctx context.Context, batch []result) (map[string]string, error) {
	// Webhook state changes are folded per webhook first, so that a batch of
	// 500 deliveries to one webhook costs one or two webhook statements, not 500.
	effects := map[string]*hookEffect{}
	var order []string
	for i, r := range batch {
		if r.test || r.outcome == outcomeSkipped {
			continue // test deliveries never touch failure state
		}
		e := effects[r.webhookID]
		if e == nil {
			e = &hookEffect{lastSuccess: -1}
			effects[r.webhookID] = e
			order = append(order, r.webhookID)
		}
		switch {
		case r.outcome == outcomeSuccess:
			e.lastSuccess, e.failingAt = i, nil
		default:
			if r.status == http.StatusGone {
				e.gone = true
			}
			if e.failingAt == nil {
				at := r.finished
				e.failingAt = &at
			}
		}
	}
	// One lock order for webhook rows across nodes, so that two completers
	// never deadlock on them. (The joint clear of succeeding webhooks below
	// locks only rows that were failing, in index order; the rare deadlock
	// that could make with another node's failures is retried by InTx.)
	slices.Sort(order)
	var disabled map[string]string
	err := d.st.InTx(ctx, func(tx *store.Tx) error {
		disabled = map[string]string{}
		now := store.Millis(d.opts.now())
		// Webhooks whose deliveries in this batch all succeeded (the usual
		// case under load) are cleared in one statement, not one each.
		var cleared []any
		for _, w := range order {
			if effects[w].failingAt == nil {
				cleared = append(cleared, w)
			}
		}
		if len(cleared) > 0 {
			if _, err := tx.ExecContext(ctx, "UPDATE webhooks SET failing_since = NULL WHERE failing_since IS NOT NULL AND id IN ("+
				store.Placeholders(1, len(cleared))+")", cleared...); err != nil {
				return err
			}
		}
		for _, w := range order {
			if effects[w].failingAt == nil {
				continue
			}
			reason, err := d.applyEffect(ctx, tx, w, effects[w], now)
			if err != nil {
				return err
			}
			if reason != "" {
				disabled[w] = reason
			}
		}
		if err := d.writeOutcomes(ctx, tx, batch, disabled, now); err != nil {
			return err
		}
		// A disabled webhook's remaining work is skipped, not sent; recovery
		// after re-enabling is the owner's choice.
		for w := range disabled {
			if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET status = 'skipped', lease_until = 0, updated_at = $1 WHERE webhook_id = $2 AND status = 'pending'", now, w); err != nil {
				return err
			}
		}
		return nil
	})
	return disabled, err
}

// attemptColumns are the columns of a delivery_attempts row, in insert order.
const attemptColumns = 13

// writeOutcomes writes the deliveries rows and the attempt log of a batch.
// Round trips, not rows, are what a batch costs on PostgreSQL, so the common
// cases are set-based: successes are one UPDATE per response status (usually
// one in all), skips one UPDATE, and the attempt log a few multi-row INSERTs.
// Only failures, whose retry times differ, are updated row by row (with the
// driver's cached prepared statement).
func (d *Deliverer) writeOutcomes(ctx context.Context, tx *store.Tx, batch []result, disabled map[string]string, now int64) error {
	successes := map[int][]any{}
	var skipped []any
	attempts := make([]any, 0, len(batch)*attemptColumns)
	for _, r := range batch {
		if r.outcome == outcomeSkipped {
			skipped = append(skipped, r.id)
			continue
		}
		attemptStatus := "success"
		var next, lastErr, respStatus any
		if r.status != 0 {
			respStatus = r.status
		}
		if r.outcome == outcomeSuccess {
			successes[r.status] = append(successes[r.status], r.id)
		} else {
			attemptStatus, lastErr = "failed", r.err
			status := "failed"
			if _, off := disabled[r.webhookID]; r.nextAt != nil && (!off || r.test) {
				status, next = "pending", store.Millis(*r.nextAt)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = COALESCE($3, next_attempt_at),
  lease_until = 0, last_status = $4, last_error = $5, updated_at = $6 WHERE id = $7`,
				status, r.attempts+1, next, respStatus, lastErr, now, r.id); err != nil {
				return err
			}
		}
		attempts = append(attempts, r.id, r.eventID, r.webhookID, r.attempts+1, attemptStatus, respStatus,
			r.duration.Milliseconds(), lastErr, next, nullIfEmpty(r.reqHeaders), nullIfEmpty(r.respHeaders),
			nullIfEmpty(r.respBody), store.Millis(r.started))
	}
	for status, ids := range successes {
		args := append([]any{status, now}, ids...)
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'success', attempts = attempts + 1, lease_until = 0,
  last_status = $1, last_error = NULL, updated_at = $2 WHERE id IN (`+store.Placeholders(3, len(ids))+")", args...); err != nil {
			return err
		}
	}
	if len(skipped) > 0 {
		args := append([]any{now}, skipped...)
		if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET status = 'skipped', lease_until = 0, updated_at = $1 WHERE id IN ("+
			store.Placeholders(2, len(skipped))+")", args...); err != nil {
			return err
		}
	}
	const rowsPerInsert = 200
	for len(attempts) > 0 {
		chunk := attempts[:min(len(attempts), rowsPerInsert*attemptColumns)]
		attempts = attempts[len(chunk):]
		var q strings.Builder
		q.WriteString(`INSERT INTO delivery_attempts (delivery_id, event_id, webhook_id, attempt, status, response_status,
  duration_ms, error, next_retry_at, request_headers, response_headers, response_body, created_at) VALUES `)
		for i := 0; i < len(chunk); i += attemptColumns {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + store.Placeholders(i+1, attemptColumns) + ")")
		}
		if _, err := tx.ExecContext(ctx, q.String(), chunk...); err != nil {
			return err
		}
	}
	return nil
}

// applyEffect updates one webhook's failure state and disables it on 410 Gone
// or after WebhooksDisableAfter of failures only. It returns why it disabled
// the webhook ("" when it did not). A webhook whose deliveries all succeeded is not passed here: writeBatch
// clears those together.
func (d *Deliverer) applyEffect(ctx context.Context, tx *store.Tx, w string, e *hookEffect, now int64) (string, error) {
	switch {
	case e.lastSuccess >= 0:
		// Succeeded, then failed again within this batch: failing anew.
		if _, err := tx.ExecContext(ctx, "UPDATE webhooks SET failing_since = $1 WHERE id = $2", store.Millis(*e.failingAt), w); err != nil {
			return "", err
		}
	default:
		if _, err := tx.ExecContext(ctx, "UPDATE webhooks SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL", store.Millis(*e.failingAt), w); err != nil {
			return "", err
		}
	}
	if e.gone {
		if _, err := tx.ExecContext(ctx, "UPDATE webhooks SET disabled_at = $1, updated_at = $1 WHERE id = $2 AND disabled_at IS NULL", now, w); err != nil {
			return "", err
		}
		return "receiver answered 410 Gone", nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE webhooks SET disabled_at = $1, updated_at = $1
WHERE id = $2 AND disabled_at IS NULL AND failing_since IS NOT NULL AND failing_since <= $3`,
		now, w, now-d.cfg.WebhooksDisableAfter.Milliseconds())
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return "every delivery failed for " + d.cfg.WebhooksDisableAfter.String(), nil
	}
	return "", nil
}

// afterBatch runs once a batch is committed: metrics, logs, lease bookkeeping.
func (d *Deliverer) afterBatch(batch []result, disabled map[string]string) {
	d.mu.Lock()
	for _, r := range batch {
		delete(d.leased, r.id)
	}
	d.mu.Unlock()
	for _, r := range batch {
		d.m.deliveries.WithLabelValues(r.eventType, r.outcome).Inc()
		if r.outcome == outcomeSkipped {
			continue
		}
		d.m.attemptDuration.Observe(r.duration.Seconds())
		if r.outcome == outcomeSuccess {
			d.m.latency.Observe(r.finished.Sub(store.FromMillis(r.eventCreated)).Seconds())
		}
	}
	for w, reason := range disabled {
		// The owner is told by this log line, and by e-mail when OnDisable
		// was given a Notifier (notifier.go).
		d.logger.Warn("webhooks: webhook disabled", "webhook_id", w, "reason", reason)
		if d.onDisable != nil {
			d.onDisable(w, reason)
		}
	}
}

// ListenHub returns the hub through which this deliverer reaches the listen
// streams of this node; the API serves the streams from it.
func (d *Deliverer) ListenHub() *ListenHub { return d.listen }

// attemptListen completes an attempt to a listen webhook: req was built and
// signed exactly as for a POST, and its headers and body are handed to the
// session's stream. Writing them to the stream is the success; the local
// status the CLI gets from the developer's server is not reported back.
func (d *Deliverer) attemptListen(r result, req *http.Request) result {
	m := ListenMessage{EventID: r.eventID, Type: r.eventType, Test: r.test, Body: string(r.body),
		Headers: make(map[string]string, len(req.Header))}
	for k, v := range req.Header {
		if len(v) > 0 {
			m.Headers[k] = v[0]
		}
	}
	ctx, cancel := context.WithTimeout(req.Context(), d.cfg.DeliveryTimeout)
	defer cancel()
	began := r.started
	err := d.listen.Deliver(ctx, r.webhookID, m)
	r.duration = d.opts.now().Sub(began)
	if err != nil && d.sendCtx.Err() != nil {
		r.abandoned = true
		return r
	}
	if err != nil {
		return d.failed(r, 0, "listen: "+err.Error(), nil)
	}
	r.outcome = outcomeSuccess
	r.respBody = "written to the codeqr listen stream"
	r.finished = d.opts.now()
	return r
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	return errors.Join(err, rows.Close())
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
