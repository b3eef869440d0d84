package sqlite

import (
	"context"
	"database/sql"
	"sync"

	"github.com/casier/casier/internal/store"
)

// Parsing SQL is a large share of a small statement's cost in the
// transpiled SQLite, so statements are prepared once and reused.
//
// A database-level *sql.Stmt can only be created while a connection is
// free, and the writer has exactly one, busy during a transaction. So a
// transaction never prepares at the database level: a miss runs the query
// unprepared and is queued, and the queue is prepared after the
// transaction, when the connection is free again. Every query is static
// text, so the cache stays small (bounded anyway by maxCached).
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
	failed  map[string]bool
}

const maxCached = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}, failed: map[string]bool{}}
}

// lookup returns the prepared statement for q, or nil after queueing q.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stmts[q]
	if st == nil && !c.failed[q] && len(c.stmts)+len(c.pending) < maxCached {
		c.pending[q] = true
	}
	return st
}

// flush prepares the queued statements; call it holding no connection.
func (c *stmtCache) flush(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	qs := make([]string, 0, len(c.pending))
	for q := range c.pending {
		qs = append(qs, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range qs {
		st, err := c.db.PrepareContext(ctx, q)
		c.mu.Lock()
		if err != nil {
			c.failed[q] = true
		} else if c.stmts[q] == nil {
			c.stmts[q] = st
			st = nil
		}
		c.mu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	clear(c.stmts)
}

// Tx is a transaction whose queries go through the statement cache.
type Tx struct {
	tx    *sql.Tx
	cache *stmtCache
	local map[*sql.Stmt]*sql.Stmt // database statement -> its form in tx
	seqs  []userSeq               // MODSEQs taken by nextModSeq (watch.go)
	// changes are published on the hub once the transaction commits
	// (see Store.write), in order, each once.
	changes []store.Change
	queued  map[store.Change]bool
}

// publish queues c for the hub: it goes out after the commit, and not at
// all if the transaction rolls back (a retried transaction starts afresh).
func (t *Tx) publish(c store.Change) {
	if t.queued == nil {
		t.queued = map[store.Change]bool{}
	}
	if t.queued[c] {
		return
	}
	t.queued[c] = true
	t.changes = append(t.changes, c)
}

func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	st := t.cache.lookup(q)
	if st == nil {
		return nil
	}
	if ts := t.local[st]; ts != nil {
		return ts
	}
	ts := t.tx.StmtContext(ctx, st)
	if t.local == nil {
		t.local = map[*sql.Stmt]*sql.Stmt{}
	}
	t.local[st] = ts
	return ts
}

// ExecContext runs a statement in the transaction.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// QueryContext runs a query in the transaction.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a one-row query in the transaction.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// dbq runs single queries outside a transaction through the cache; with
// no connection held, it may prepare on the spot.
type dbq struct{ c *stmtCache }

func (d dbq) get(ctx context.Context, q string) *sql.Stmt {
	if st := d.c.lookup(q); st != nil {
		return st
	}
	d.c.flush(ctx)
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	return d.c.stmts[q]
}

func (d dbq) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := d.get(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.c.db.ExecContext(ctx, q, args...)
}

func (d dbq) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := d.get(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.c.db.QueryContext(ctx, q, args...)
}

func (d dbq) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := d.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.c.db.QueryRowContext(ctx, q, args...)
}
