// Package sqlite is Casier's embedded storage engine: metadata in SQLite
// (dir/casier.db, WAL) and message bodies as content-addressed files
// (dir/blobs, package blobstore).
//
// Invariants:
//   - Writes go through one connection guarded by wsem, in BEGIN IMMEDIATE
//     transactions (the SQLite write lock is taken up front, so another
//     process such as `casier user` serialises with us instead of failing
//     half way); SQLITE_BUSY is retried. Reads use a separate pool of
//     query_only connections and never block writers (WAL).
//   - Append: the body is durable (fsync'd file, fsync'd directory) before
//     the metadata transaction commits, and Hub().Publish runs after the
//     commit. A crash in between leaves an unreferenced body file only,
//     which the sweep at Open removes.
//   - A body file is removed only while holding the write lock, after
//     checking that no message row references it; Append re-checks, under
//     the same lock, that its body file exists (and rewrites it if a
//     concurrent collection removed it), so collection never races a
//     delivery, even across processes.
//   - Every mutation takes users.modseq+1 as its MODSEQ (RFC 7162).
//   - A messages row never changes once written and its id is never reused,
//     so its header and decoded model (messages.parsed, binary form in
//     parsedcodec.go) are cached by MessageID (cache.go) and shared,
//     read-only, by every Record that Records returns for that message.
//   - Readers map the database file (mmap_size): page reads of large
//     FETCH/SEARCH scans then cost no system call and no copy.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	msqlite "modernc.org/sqlite"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
)

// DefaultMaxMessageSize bounds Append when Options.MaxMessageSize is 0.
const DefaultMaxMessageSize = 64 << 20

// Options configure an engine.
type Options struct {
	// MaxMessageSize is the largest body Append accepts (ErrTooBig past
	// it); 0 means DefaultMaxMessageSize.
	MaxMessageSize int64
	// BusyTimeout is how long a write waits for another process holding
	// the database lock; 0 means 10 seconds.
	BusyTimeout time.Duration
	// Readers bounds the pool of read connections; 0 means 4.
	Readers int
	// NoSync turns off every fsync (SQLite synchronous=OFF, no file or
	// directory syncs for bodies). UNSAFE: a crash or power loss can lose
	// acknowledged mail or corrupt the database. For tests and benchmark
	// setup only.
	NoSync bool
	// NoSweep skips the background collection of unreferenced body files
	// at Open (for short-lived processes such as `casier user`).
	NoSweep bool
	// CacheSize is the memory budget, in bytes, of the cache of decoded
	// message models and headers shared by all accounts (see modelCache);
	// 0 means DefaultCacheSize, negative disables it and the cache of
	// mailbox entry lists (entriesCache).
	CacheSize int64
	// Hub receives changes; nil means a new hub.
	Hub *store.Hub
	// Watch starts a watcher that publishes on Hub the changes other
	// processes commit to the database (casier import, casier user), so
	// IDLE sessions see them (watch.go). For the serving process.
	Watch bool
	// WatchInterval is how often the watcher polls; 0 means
	// DefaultWatchInterval.
	WatchInterval time.Duration
	// LabelPrefix is the name of the parent of the label folders
	// (docs/labels.md); "" means DefaultLabelPrefix. A change renames the
	// label folders at Open, unless KeepLabelSettings is set.
	LabelPrefix string
	// LabelExclude lists the keywords that are flags, not labels, and get
	// no label folder (compared case-insensitively). nil means
	// DefaultLabelExclude; an empty non-nil slice makes every keyword a
	// label.
	LabelExclude []string
	// KeepLabelSettings makes Open use the label settings the data was
	// last opened with, when it has any, instead of LabelPrefix and
	// LabelExclude: for the short-lived commands (casier user, import,
	// export), so that one run without the server's configuration file
	// cannot rename every label folder under a running server. The
	// server applies its configuration.
	KeepLabelSettings bool
}

// Store is the SQLite engine.
type Store struct {
	dir     string
	opts    Options
	wdb     *sql.DB       // one connection: the only writer of this process
	wsem    chan struct{} // capacity 1: serialises write transactions in this process
	rdb     *sql.DB       // query_only readers
	wcache  *stmtCache
	rcache  *stmtCache
	blobs   *blobstore.Store
	hub     *store.Hub
	maxSize int64
	models  *modelCache   // nil: disabled
	entries *entriesCache // nil: disabled
	labels  labelConfig
	allMail allMailIDs

	watch *watcher // nil unless Options.Watch

	sweepCancel context.CancelFunc
	sweepDone   chan struct{}
	closeOnce   sync.Once
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	blobs, err := blobstore.Open(filepath.Join(dir, "blobs"), opts.NoSync)
	if err != nil {
		return nil, err
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	labels, err := newLabelConfig(opts.LabelPrefix, opts.LabelExclude)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, blobs: blobs, hub: opts.Hub, maxSize: opts.MaxMessageSize, wsem: make(chan struct{}, 1), labels: labels}
	if s.hub == nil {
		s.hub = store.NewHub()
	}
	if s.maxSize <= 0 {
		s.maxSize = DefaultMaxMessageSize
	}
	switch {
	case opts.CacheSize == 0:
		s.models = newModelCache(DefaultCacheSize)
	case opts.CacheSize > 0:
		s.models = newModelCache(opts.CacheSize)
	}
	if opts.CacheSize >= 0 {
		s.entries = newEntriesCache(defaultCachedEntries)
	}
	path := filepath.Join(dir, "casier.db")
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: data directory %q: '?' and '#' are not supported", dir)
	}
	syncMode := "FULL" // a committed transaction survives power loss
	if opts.NoSync {
		syncMode = "OFF"
	}
	busy := "busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")"
	wq := url.Values{}
	wq.Add("_pragma", busy)
	wq.Add("_pragma", "foreign_keys(1)")
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "synchronous("+syncMode+")")
	// BEGIN IMMEDIATE: take the write lock at the start of the
	// transaction, so a conflict shows as a wait (busy_timeout) at BEGIN
	// rather than as SQLITE_BUSY in the middle of our work.
	wq.Set("_txlock", "immediate")
	s.wdb, err = sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	s.wcache = newStmtCache(s.wdb)

	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		s.wcache.close()
		s.wdb.Close()
		return nil, err
	}

	// Readers: the database is in WAL mode now (a persistent setting), so
	// they never block the writer nor wait for it.
	rq := url.Values{}
	rq.Add("_pragma", busy)
	rq.Add("_pragma", "foreign_keys(1)")
	rq.Set("_query_only", "1")
	rq.Add("_pragma", "mmap_size(268435456)") // address space, not memory: pages are shared with the OS cache
	s.rdb, err = sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		s.wcache.close()
		s.wdb.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.rdb.SetMaxOpenConns(opts.Readers)
	s.rdb.SetMaxIdleConns(opts.Readers)
	s.rdb.SetConnMaxIdleTime(5 * time.Minute)
	s.rcache = newStmtCache(s.rdb)

	if err := s.initMeta(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if opts.KeepLabelSettings {
		if err := s.loadLabelSettings(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	// After initMeta: creating label folders takes UIDVALIDITY values.
	if err := s.reconcileLabels(ctx); err != nil {
		s.Close()
		return nil, err
	}

	if opts.Watch {
		if err := s.startWatcher(); err != nil {
			s.Close()
			return nil, err
		}
	}
	if opts.NoSweep {
		return s, nil
	}
	sctx, cancel := context.WithCancel(context.Background())
	s.sweepCancel = cancel
	s.sweepDone = make(chan struct{})
	go func() {
		defer close(s.sweepDone)
		s.sweep(sctx)
	}()
	return s, nil
}

// initMeta seeds the UIDVALIDITY counter. It starts from the clock so a
// store rebuilt from scratch does not hand out values a client may have
// cached for the old one (RFC 9051 2.3.1.1).
func (s *Store) initMeta(ctx context.Context) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO meta (key, value) VALUES ('uidvalidity', ?)`, time.Now().Unix()-1)
		return err
	})
}

// Close waits for the background sweep to stop and closes the database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.watch != nil {
			s.watch.stop()
		}
		if s.sweepCancel != nil {
			s.sweepCancel()
			<-s.sweepDone
		}
		s.wcache.close()
		s.rcache.close()
		err = errors.Join(s.rdb.Close(), s.wdb.Close())
	})
	return err
}

// Hub returns the change feed.
func (s *Store) Hub() *store.Hub { return s.hub }

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// BlobCount returns the number of body files stored (for tests and
// statistics).
func (s *Store) BlobCount() (int, error) { return s.blobs.Count() }

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED (any
// extended code), which a retry can cure.
func isBusy(err error) bool {
	var e *msqlite.Error
	if errors.As(err, &e) {
		c := e.Code() & 0xff
		return c == 5 || c == 6
	}
	return false
}

// write runs fn in a write transaction and commits it, retrying the whole
// transaction when another process holds the lock longer than busy_timeout.
// fn may run more than once: it must set its results afresh each time.
func (s *Store) write(ctx context.Context, fn func(tx *Tx) error) error {
	// A semaphore rather than a mutex, so a caller whose context ends
	// while queued behind other writers gives up.
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.wsem }()
	backoff := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || !isBusy(err) || attempt >= 5 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &Tx{tx: tx, cache: s.wcache}
	err = fn(t)
	if err != nil {
		tx.Rollback()
	} else if err = tx.Commit(); err == nil {
		if s.watch != nil {
			s.watch.committed(t.seqs)
		}
		for _, c := range t.changes {
			s.hub.Publish(c)
		}
	}
	// The connection is free again: prepare what this transaction missed.
	s.wcache.flush(context.WithoutCancel(ctx))
	return err
}

// read runs fn in a read transaction: one consistent snapshot for several
// queries.
func (s *Store) read(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	err = fn(&Tx{tx: tx, cache: s.rcache})
	tx.Rollback()
	s.rcache.flush(context.WithoutCancel(ctx))
	return err
}

// rq runs single read queries outside a transaction.
func (s *Store) rq() dbq { return dbq{s.rcache} }

// nextModSeq takes the user's next MODSEQ (RFC 7162 3: strictly
// increasing; one per command is enough).
func nextModSeq(ctx context.Context, tx *Tx, user store.UserID) (uint64, error) {
	var m uint64
	err := tx.QueryRowContext(ctx, `UPDATE users SET modseq = modseq + 1 WHERE id = ? RETURNING modseq`, user).Scan(&m)
	if err == sql.ErrNoRows {
		return 0, fmt.Errorf("sqlite: user %d: %w", user, store.ErrNotFound)
	}
	if err == nil {
		// Remembered so the watcher can tell our commits from other
		// processes' (watch.go).
		tx.seqs = append(tx.seqs, userSeq{user, m})
	}
	return m, err
}

// nextUIDValidity returns a new, strictly increasing UIDVALIDITY: at least
// the current time, so values stay fresh even if the counter were lost.
func nextUIDValidity(ctx context.Context, tx *Tx) (uint32, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'uidvalidity'`).Scan(&v); err != nil {
		return 0, err
	}
	v++
	if now := time.Now().Unix(); now > v {
		v = now
	}
	if v > 1<<32-1 {
		return 0, errors.New("sqlite: UIDVALIDITY space exhausted")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'uidvalidity'`, v); err != nil {
		return 0, err
	}
	return uint32(v), nil
}
