package sqlite

// Cross-process change feed.
//
// The Hub only hears the Publish calls of its own process, but other
// processes write the same database: `casier import` appends mail,
// `casier user` adds and deletes users. The watcher turns their commits
// into Changes on this process's Hub, so an IDLE session sees imported
// mail at once (RFC 9051 6.3.13).
//
// Detecting a foreign commit. PRAGMA data_version on a connection changes
// when any OTHER connection commits. Polled on a dedicated connection it
// would also change at each of our own commits; polled on our writer
// connection, the only connection of this process that ever commits, it
// changes exactly when another process has committed. The poll runs
// holding wsem, like a write transaction, so no commit of ours can
// interleave with it: one statement per tick while nothing happens
// (13 µs measured by BenchmarkWatchTick on a busy 2-core machine, so
// about 50 µs of CPU per second at the default interval).
//
// Finding what changed. Every mutation takes users.modseq+1 (RFC 7162),
// and nextModSeq records the (user, modseq) pairs this process took; a
// commit hands them to the watcher (committed, under wsem). The watcher
// keeps, per user, the users.modseq it has accounted for. On a tick:
//   - data_version unchanged: every commit since the last tick was ours,
//     already published; the per-user marks advance to our own modseqs
//     without reading the database.
//   - data_version changed: one scan of users (id, modseq). A user whose
//     modseq grew by more than the modseqs we took had foreign writes;
//     for that user only, the mailboxes whose highestmodseq is above the
//     old mark and was not taken by us get ChangeMessages (new mailboxes,
//     id above the highest id seen, also ChangeMailboxes). A user that
//     vanished (casier user del) gets ChangeMailboxes.
//
// Publishing a change twice is harmless (subscribers re-read the store),
// missing one is not: if another commit lands during the scan,
// data_version has moved again and the next tick scans again.
//
// Not seen: a foreign rename, delete or subscription change of a mailbox,
// which take no modseq; no other process does those today.
//
// The PostgreSQL engine follows the same model with LISTEN/NOTIFY instead
// of polling: each committing transaction sends NOTIFY with the Change
// (user, kind, mailbox, modseq) and the id of the sending process; every
// serving process LISTENs, skips its own notifications and publishes the
// others on its Hub. The Change format is the same, so sessions do not
// know which engine or process a change came from.

import (
	"context"
	"time"

	"github.com/casier/casier/internal/store"
)

// DefaultWatchInterval is the watcher's poll period when
// Options.WatchInterval is 0: the delay before an IDLE session hears of
// mail that another process added.
const DefaultWatchInterval = 250 * time.Millisecond

// userSeq is a MODSEQ a write transaction of this process took.
type userSeq struct {
	user   store.UserID
	modseq uint64
}

type watcher struct {
	interval time.Duration
	cancel   context.CancelFunc
	done     chan struct{}

	// Guarded by Store.wsem (held by write transactions and by tick).
	version int64                     // data_version of the writer connection at the last tick
	seen    map[store.UserID]uint64   // users.modseq accounted for
	own     map[store.UserID][]uint64 // modseqs this process committed since the last tick
	maxBox  store.MailboxID           // highest mailbox id at the last scan
}

// startWatcher reads the baseline and starts polling. Open calls it before
// the store is shared, so nothing else runs yet.
func (s *Store) startWatcher() error {
	iv := s.opts.WatchInterval
	if iv <= 0 {
		iv = DefaultWatchInterval
	}
	w := &watcher{interval: iv, own: map[store.UserID][]uint64{}, done: make(chan struct{})}
	ctx := context.Background()
	if err := s.wdb.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&w.version); err != nil {
		return err
	}
	if _, err := s.scan(ctx, w); err != nil {
		return err
	}
	s.watch = w
	wctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() {
		defer close(w.done)
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			for _, c := range s.tick(wctx) {
				s.hub.Publish(c)
			}
		}
	}()
	return nil
}

func (w *watcher) stop() {
	w.cancel()
	<-w.done
}

// committed records the modseqs of a transaction of ours that committed.
// The caller holds wsem.
func (w *watcher) committed(seqs []userSeq) {
	for _, q := range seqs {
		w.own[q.user] = append(w.own[q.user], q.modseq)
	}
}

// tick checks for foreign commits and returns the changes to publish. An
// error (the database busy, closing) is retried at the next tick.
func (s *Store) tick(ctx context.Context) []store.Change {
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	defer func() { <-s.wsem }()
	w := s.watch
	var v int64
	if err := s.dbw().QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return nil
	}
	if v == w.version {
		for u, seqs := range w.own {
			for _, m := range seqs {
				w.seen[u] = max(w.seen[u], m)
			}
		}
		clear(w.own)
		return nil
	}
	changes, err := s.scan(ctx, w)
	if err != nil {
		return nil // w.version not updated: scan again next tick
	}
	w.version = v
	clear(w.own)
	return changes
}

// dbw runs single queries on the writer connection; call it holding wsem.
func (s *Store) dbw() dbq { return dbq{s.wcache} }

// scan compares users.modseq with the marks in w and returns the changes
// other processes made (none the first time: w.seen nil, the baseline).
// It updates w only when it succeeds. The caller holds wsem (or is Open).
func (s *Store) scan(ctx context.Context, w *watcher) ([]store.Change, error) {
	q := s.dbw()
	type dirty struct {
		user store.UserID
		mark uint64
	}
	var foreign []dirty
	now := make(map[store.UserID]uint64, len(w.seen))
	rows, err := q.QueryContext(ctx, `SELECT id, modseq FROM users`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var u store.UserID
		var m uint64
		if err := rows.Scan(&u, &m); err != nil {
			rows.Close()
			return nil, err
		}
		now[u] = m
		// Our own modseqs since the last tick are all above the mark
		// and at most m (we hold wsem): any other increment is foreign.
		// A user added since then has mark 0: a session may already
		// have logged in before another process appended to it.
		mark := w.seen[u]
		if w.seen != nil && m > mark && m-mark > uint64(len(w.own[u])) {
			foreign = append(foreign, dirty{u, mark})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var changes []store.Change
	for u := range w.seen {
		if _, ok := now[u]; !ok {
			changes = append(changes, store.Change{User: u, Kind: store.ChangeMailboxes})
		}
	}
	maxBox := w.maxBox
	for _, d := range foreign {
		ours := map[uint64]bool{}
		for _, m := range w.own[d.user] {
			ours[m] = true
		}
		rows, err := q.QueryContext(ctx, `SELECT id, highestmodseq FROM mailboxes WHERE user_id = ? AND highestmodseq > ?`, d.user, d.mark)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id store.MailboxID
			var hms uint64
			if err := rows.Scan(&id, &hms); err != nil {
				rows.Close()
				return nil, err
			}
			if ours[hms] {
				continue // our last change to it: published already, and it covers older ones
			}
			if id > w.maxBox {
				changes = append(changes, store.Change{User: d.user, Kind: store.ChangeMailboxes, Mailbox: id, ModSeq: hms})
			}
			changes = append(changes, store.Change{User: d.user, Kind: store.ChangeMessages, Mailbox: id, ModSeq: hms})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM mailboxes`).Scan(&maxBox); err != nil {
		return nil, err
	}
	w.seen = now
	w.maxBox = maxBox
	return changes, nil
}
