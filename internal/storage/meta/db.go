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
	write      *sql.DB
	writeStmts *stmtCache
	now        func() time.Time
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

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := c.stmt(ctx, query)
	if err != nil {
		// Let the error surface from Scan through an unprepared query.
		return c.plain().QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
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
	r, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxLifetime(0)
	db := &DB{write: w, writeStmts: &stmtCache{db: w}, now: time.Now}
	db.reads = reads{conn{cache: &stmtCache{db: r}}}
	return db, nil
}

// SetClock replaces the clock that stamps records (tests).
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.reads.c.cache.db.Close(), db.write.Close())
}

// Ping checks that the store answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.reads.c.plain().QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Update runs fn in one write transaction, committed when fn returns nil.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	missed := &missedQueries{}
	tx := &Tx{reads: reads{conn{cache: db.writeStmts, tx: sqlTx, missed: missed}}, now: db.now()}
	err = fn(tx)
	if err != nil {
		sqlTx.Rollback()
	} else {
		err = sqlTx.Commit()
	}
	for _, q := range missed.take() {
		db.writeStmts.get(ctx, q) // a failure here only means no cache
	}
	return err
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
