package store

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// batchWriter is SQLite's group commit. SQLite has one writer at a time and
// most of a small transaction's cost is its commit (writing WAL frames), so
// instead of one transaction per caller, one goroutine takes every InTx call
// that is waiting, runs each caller's function inside its own savepoint of ONE
// transaction, and commits once. A function that fails is rolled back to its
// savepoint alone; the others commit. Every caller still returns only after
// its writes are committed, so durability and atomicity per caller are as
// before — only the commits are shared. With one caller at a time it is a plain
// transaction.
type batchWriter struct {
	db    *sql.DB
	stmts *stmtCache
	reqs  chan *writeReq
	done  chan struct{}
	once  sync.Once
}

// maxBatch bounds how many callers share one commit.
const maxBatch = 128

type writeReq struct {
	ctx    context.Context
	fn     func(*Tx) error
	result chan writeResult
}

type writeResult struct {
	err         error
	afterCommit []func()
	panicked    any
}

// errClosed is returned for transactions submitted after Close.
var errClosed = errors.New("store: closed")

func newBatchWriter(db *sql.DB) *batchWriter {
	b := &batchWriter{db: db, stmts: newStmtCache(db, 256), reqs: make(chan *writeReq), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *batchWriter) close() {
	b.once.Do(func() { close(b.done) })
	b.stmts.close()
}

// run submits fn and waits for its outcome.
func (b *batchWriter) run(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, result: make(chan writeResult, 1)}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return errClosed
	}
	// Once submitted, wait for the outcome even if ctx ends: the writer decides
	// (it skips requests whose context ended before they ran).
	res := <-req.result
	if res.panicked != nil {
		panic(res.panicked)
	}
	if res.err != nil {
		return res.err
	}
	for _, f := range res.afterCommit {
		f()
	}
	return nil
}

func (b *batchWriter) loop() {
	for {
		var first *writeReq
		select {
		case first = <-b.reqs:
		case <-b.done:
			return
		}
		batch := []*writeReq{first}
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		b.runBatch(batch)
		b.stmts.prepareWanted(context.Background())
	}
}

func (b *batchWriter) runBatch(batch []*writeReq) {
	results := make([]writeResult, len(batch))
	finish := func() {
		for i, r := range batch {
			r.result <- results[i]
		}
	}
	defer finish()
	sqlTx, err := b.db.BeginTx(context.Background(), nil)
	if err != nil {
		for i := range results {
			results[i].err = fmt.Errorf("store: begin: %w", err)
		}
		return
	}
	single := len(batch) == 1
	ok := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		tx := &Tx{tx: sqlTx, dialect: sqliteDialect{}, stmts: b.stmts, shielded: true}
		if !single {
			if _, err := tx.ExecContext(r.ctx, "SAVEPOINT batch_item"); err != nil {
				b.abort(sqlTx, results, fmt.Errorf("store: savepoint: %w", err))
				return
			}
		}
		panicked, err := call(r.fn, tx)
		results[i].panicked = panicked
		if err == nil && panicked != nil {
			err = fmt.Errorf("store: transaction function panicked: %v", panicked)
		}
		if err != nil {
			results[i].err = err
			if single {
				_ = sqlTx.Rollback()
				return
			}
			if _, rbErr := tx.ExecContext(r.ctx, "ROLLBACK TO SAVEPOINT batch_item"); rbErr != nil {
				b.abort(sqlTx, results, fmt.Errorf("store: rollback to savepoint: %w", rbErr))
				return
			}
		}
		if !single {
			if _, err := tx.ExecContext(r.ctx, "RELEASE SAVEPOINT batch_item"); err != nil {
				b.abort(sqlTx, results, fmt.Errorf("store: release savepoint: %w", err))
				return
			}
		}
		if results[i].err == nil {
			results[i].afterCommit = tx.afterCommit
			ok++
		}
	}
	if ok == 0 {
		_ = sqlTx.Rollback()
		return
	}
	if err := sqlTx.Commit(); err != nil {
		for i := range results {
			if results[i].err == nil {
				results[i].err = fmt.Errorf("store: commit: %w", err)
				results[i].afterCommit = nil
			}
		}
	}
}

// abort rolls the whole batch back and fails every caller that had not failed
// on its own.
func (b *batchWriter) abort(sqlTx *sql.Tx, results []writeResult, err error) {
	_ = sqlTx.Rollback()
	for i := range results {
		if results[i].err == nil {
			results[i].err = err
			results[i].afterCommit = nil
		}
	}
}

// call runs fn, turning a panic into a value the caller re-raises.
func call(fn func(*Tx) error, tx *Tx) (panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return nil, fn(tx)
}

// stmtCache keeps prepared statements of the single SQLite write connection,
// so a hot statement is compiled once, not on every call. Least recently used
// statements are closed beyond max (queries with generated IN lists vary).
type stmtCache struct {
	db     *sql.DB
	max    int
	mu     sync.Mutex
	byKey  map[string]*list.Element
	order  *list.List
	wanted map[string]struct{}
}

type cachedStmt struct {
	query string
	stmt  *sql.Stmt
}

func newStmtCache(db *sql.DB, max int) *stmtCache {
	return &stmtCache{db: db, max: max, byKey: map[string]*list.Element{}, order: list.New(), wanted: map[string]struct{}{}}
}

// get returns the prepared statement for query, or nil when it is not
// prepared yet: the caller then runs the query unprepared, and the query is
// prepared between two transactions by prepareWanted. (Preparing on the
// database needs the one write connection, which the open transaction holds.)
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[query]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cachedStmt).stmt
	}
	if len(c.wanted) < c.max {
		c.wanted[query] = struct{}{}
	}
	return nil
}

// prepareWanted prepares the queries get was asked for, while no transaction
// holds the connection. Least recently used statements are closed beyond max.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for query := range c.wanted {
		delete(c.wanted, query)
		stmt, err := c.db.PrepareContext(ctx, query)
		if err != nil {
			continue // e.g. several statements in one string: stays unprepared
		}
		c.byKey[query] = c.order.PushFront(&cachedStmt{query: query, stmt: stmt})
	}
	for c.order.Len() > c.max {
		e := c.order.Back()
		cs := e.Value.(*cachedStmt)
		c.order.Remove(e)
		delete(c.byKey, cs.query)
		_ = cs.stmt.Close()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.byKey {
		_ = e.Value.(*cachedStmt).stmt.Close()
	}
	c.byKey = map[string]*list.Element{}
	c.order.Init()
}
