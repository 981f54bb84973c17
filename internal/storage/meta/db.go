package meta

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the embedded default's SQL engine
)

// DB is the metadata store. Reads go to a pool of connections; writes go
// through Update, one transaction at a time on SQLite.
type DB struct {
	reads
	write       *sql.DB
	checkpoints *sql.DB
	writeStmts  *stmtCache
	now         func() time.Time

	writes     chan *writeReq
	closed     chan struct{}
	closeOnce  sync.Once
	writerDone chan struct{}
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// stmtCache prepares each query once per *sql.DB; database/sql then keeps
// one prepared statement per connection.
type stmtCache struct {
	db *sql.DB
	m  sync.Map // query string -> *sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := c.m.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.m.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// conn runs queries with cached statements, on the pool or inside a tx.
type conn struct {
	cache  *stmtCache
	tx     *sql.Tx        // nil outside a transaction
	missed *missedQueries // inside a transaction
}

func (c conn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if c.tx == nil {
		return c.cache.get(ctx, query)
	}
	if s, ok := c.cache.m.Load(query); ok {
		return c.tx.StmtContext(ctx, s.(*sql.Stmt)), nil
	}
	// The writer has one connection and this transaction holds it, so the
	// pool cannot prepare now: prepare on the transaction, and cache the
	// query once the transaction is over.
	c.missed.add(query)
	return c.tx.PrepareContext(ctx, query)
}

// missedQueries are queries a transaction ran before they were cached.
type missedQueries struct {
	mu sync.Mutex
	qs []string
}

func (m *missedQueries) add(q string) {
	m.mu.Lock()
	m.qs = append(m.qs, q)
	m.mu.Unlock()
}

func (m *missedQueries) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	qs := m.qs
	m.qs = nil
	return qs
}

// detach keeps a caller's cancellation away from statements inside a
// transaction. SQLite answers a write interrupted mid-statement by rolling
// back the whole transaction, and group commit shares that transaction with
// other callers' changes: one client hanging up would undo theirs, and the
// changes after it would run outside any transaction. Update checks ctx
// before it runs fn.
func (c conn) detach(ctx context.Context) context.Context {
	if c.tx != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = c.detach(ctx)
	s, err := c.stmt(ctx, query)
	if err != nil {
		// Let the error surface from Scan through an unprepared query.
		return c.plain().QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = c.detach(ctx)
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = c.detach(ctx)
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (c conn) plain() querier {
	if c.tx != nil {
		return c.tx
	}
	return c.cache.db
}

// OpenSQLite opens (creating if needed) the SQLite store at path and brings
// its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	dsn := func(readOnly bool) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
			q.Add("_pragma", p)
		}
		if readOnly {
			q.Set("mode", "ro")
		} else {
			q.Set("_txlock", "immediate")
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1) // SQLite has one writer; queueing here beats SQLITE_BUSY.
	w.SetConnMaxLifetime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("meta: migrate %s: %w", path, err)
	}
	// Checkpoints run on their own connection, off the writer's path: a
	// commit never waits for the WAL to be copied back and synced.
	if _, err := w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		w.Close()
		return nil, err
	}
	cp, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		w.Close()
		return nil, err
	}
	cp.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxLifetime(0)
	db := &DB{write: w, checkpoints: cp, writeStmts: &stmtCache{db: w}, now: time.Now,
		writes: make(chan *writeReq), closed: make(chan struct{}), writerDone: make(chan struct{})}
	db.reads = reads{conn{cache: &stmtCache{db: r}}}
	go db.writer()
	go db.checkpointer()
	return db, nil
}

// checkpointer copies the WAL back into the database file every second,
// without blocking readers or the writer (a passive checkpoint).
func (db *DB) checkpointer() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-db.closed:
			return
		case <-t.C:
			db.checkpoints.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// SetClock replaces the clock that stamps records (tests).
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// Close closes both pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closed) })
	<-db.writerDone
	db.checkpoints.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
	return errors.Join(db.reads.c.cache.db.Close(), db.write.Close(), db.checkpoints.Close())
}

// Ping checks that the store answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.reads.c.plain().QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Update runs fn in a write transaction; fn's writes are committed when it
// returns nil and undone when it returns an error. Concurrent calls are
// grouped into one SQLite transaction (group commit), each fn inside its own
// savepoint, so a busy writer pays one commit for many changes. fn must not
// call Update itself.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.closed:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
}

var errClosed = errors.New("meta: store closed")

type writeReq struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan error
}

// maxBatch bounds how many changes share one commit.
const maxBatch = 64

// writer runs every write, one batch at a time.
func (db *DB) writer() {
	defer close(db.writerDone)
	for {
		var batch []*writeReq
		select {
		case req := <-db.writes:
			batch = append(batch, req)
		case <-db.closed:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case req := <-db.writes:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		db.runBatch(batch)
	}
}

// runChange runs one change, turning a panic into that change's error so
// that one bad caller cannot stop the writer every other caller needs.
func runChange(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("meta: update panicked: %v", p)
		}
	}()
	return fn(tx)
}

func (db *DB) runBatch(batch []*writeReq) {
	ctx := context.Background()
	results := make([]error, len(batch))
	finish := func() {
		for i, r := range batch {
			r.done <- results[i]
		}
	}
	defer finish()
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		for i := range results {
			results[i] = err
		}
		return
	}
	missed := &missedQueries{}
	grouped := len(batch) > 1
	ok := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if grouped {
			if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT change"); err != nil {
				results[i] = err
				continue
			}
		}
		tx := &Tx{reads: reads{conn{cache: db.writeStmts, tx: sqlTx, missed: missed}}, now: db.now()}
		results[i] = runChange(r.fn, tx)
		switch {
		case results[i] == nil:
			ok++
			if grouped {
				if _, err := sqlTx.ExecContext(ctx, "RELEASE change"); err != nil {
					results[i] = err
					ok--
				}
			}
		case grouped:
			sqlTx.ExecContext(ctx, "ROLLBACK TO change")
			sqlTx.ExecContext(ctx, "RELEASE change")
		}
	}
	if ok == 0 {
		sqlTx.Rollback()
	} else if err := sqlTx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
	}
	for _, q := range missed.take() {
		db.writeStmts.get(ctx, q) // a failure here only means no cache
	}
}

// Tx is one write transaction. It reads what it has written.
type Tx struct {
	reads
	now time.Time
}

// reads holds every read; both DB and Tx have them.
type reads struct{ c conn }

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
