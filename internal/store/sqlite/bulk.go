package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
)

// bulkWorkers bounds the body files written and fsync'd at once by
// AppendBatch: concurrent fsyncs share the file system's journal commits,
// which is most of the gain over one durable Append per message.
const bulkWorkers = 8

// presentQuery counts the messages of a mailbox whose body has the given
// address: the user's messages row is found by its UNIQUE(blob, user_id)
// index, then its mailbox entries by mailbox_messages_message.
const presentQuery = `SELECT count(*) FROM mailbox_messages WHERE mailbox_id = ? AND message_id =
	(SELECT id FROM messages WHERE blob = ? AND user_id = ?)`

// bulkItem is one message of a batch with its precomputed metadata.
type bulkItem struct {
	skip bool // already present before the batch began
	nm   newMessage
	bits int
	kws  []string
	date time.Time
}

// AppendBatch implements store.Account: the bodies of the batch are
// written and fsync'd (concurrently), their directories synced once each,
// then one transaction adds every message not already present, with one
// MODSEQ for the batch, and one Change is published after the commit.
// The durability promise of Append holds for the batch as a whole: when
// AppendBatch returns, every message it added survives a crash.
func (a *Account) AppendBatch(ctx context.Context, id store.MailboxID, msgs []store.BatchMessage) ([]store.AppendResult, error) {
	items := make([]bulkItem, len(msgs))
	for i, m := range msgs {
		if int64(len(m.Body)) > a.s.maxSize {
			return nil, fmt.Errorf("sqlite: message %d of batch: %d bytes: %w", i, len(m.Body), store.ErrTooBig)
		}
		items[i].nm.hash = blobstore.Sum(m.Body)
	}
	// A resumed import sends mostly messages that are already there:
	// find them first, so they are neither parsed nor written again.
	err := a.s.read(ctx, func(tx *Tx) error {
		m, err := loadMbox(ctx, tx, a.user, id)
		if err != nil {
			return err
		}
		if err := noSelect(m); err != nil {
			return err
		}
		if m.virtual() {
			return store.Cannot("cannot import into a virtual mailbox")
		}
		for i := range items {
			var n int
			if err := tx.QueryRowContext(ctx, presentQuery, id, items[i].nm.hash[:], a.user).Scan(&n); err != nil {
				return err
			}
			items[i].skip = n > msgs[i].Occurrence
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var todo []int
	for i, m := range msgs {
		it := &items[i]
		if it.skip {
			continue
		}
		todo = append(todo, i)
		p := parse(m.Body)
		var date any
		if !p.Date.IsZero() {
			date = p.Date.Unix()
		}
		header := m.Body[:p.Root.BodyStart]
		if header == nil {
			header = []byte{}
		}
		it.nm = newMessage{hash: it.nm.hash, raw: m.Body, header: header, parsed: encodeParsed(p), date: date}
		it.bits, it.kws = parseFlags(m.Flags)
		it.date = m.InternalDate
		if it.date.IsZero() {
			it.date = time.Now()
		}
	}
	if len(todo) == 0 {
		return make([]store.AppendResult, len(msgs)), nil
	}
	if err := a.s.putBodies(ctx, items, todo); err != nil {
		return nil, err
	}

	var res []store.AppendResult
	var modseq uint64
	err = a.s.write(ctx, func(tx *Tx) error {
		// fn may run twice (busy retry): start afresh.
		res = make([]store.AppendResult, len(msgs))
		modseq = 0
		var uidv, uidnext uint32
		err := tx.QueryRowContext(ctx, `SELECT uidvalidity, uidnext FROM mailboxes WHERE id = ? AND user_id = ?`, id, a.user).Scan(&uidv, &uidnext)
		if err == sql.ErrNoRows {
			return fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
		}
		if err != nil {
			return err
		}
		kt := newKeywordTable(id)
		now := time.Now().Unix()
		var added, unseen, deleted int
		var rows []srcRow // the entries added, for their mirrors
		var size int64
		for _, i := range todo {
			it := &items[i]
			// Re-check under the write lock: another writer, or an
			// earlier copy in this batch, may have added it since.
			var n int
			if err := tx.QueryRowContext(ctx, presentQuery, id, it.nm.hash[:], a.user).Scan(&n); err != nil {
				return err
			}
			if n > msgs[i].Occurrence {
				continue
			}
			if uidnext == 1<<32-1 {
				return fmt.Errorf("sqlite: mailbox %d: UID space exhausted", id)
			}
			if modseq == 0 {
				if modseq, err = nextModSeq(ctx, tx, a.user); err != nil {
					return err
				}
			}
			mid, err := a.s.messageRow(ctx, tx, a.user, it.nm)
			if err != nil {
				return err
			}
			ck, err := kt.canon(ctx, tx, it.kws, true)
			if err != nil {
				return err
			}
			_, tz := it.date.Zone()
			sz := int64(len(it.nm.raw))
			if _, err := tx.ExecContext(ctx, insertEntry,
				id, uidnext, mid, it.bits, joinKeywords(ck), modseq, sz, it.date.Unix(), tz, now); err != nil {
				return err
			}
			rows = append(rows, srcRow{uid: uidnext, mid: mid, bits: it.bits, kws: ck, size: sz, idate: it.date.Unix(), tz: tz, sdate: now})
			if err := indexKeywords(ctx, tx, id, uidnext, ck, true); err != nil {
				return err
			}
			res[i] = store.AppendResult{UIDValidity: uidv, UID: uidnext, MessageID: store.MessageID(mid), ModSeq: modseq}
			uidnext++
			added++
			unseen += b2i(it.bits&bitSeen == 0)
			deleted += b2i(it.bits&bitDeleted != 0)
			size += sz
		}
		if added == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, messages = messages + ?, recent = recent + ?,
			unseen = unseen + ?, deleted = deleted + ?, size = size + ? WHERE id = ?`,
			uidnext, modseq, added, added, unseen, deleted, size, id)
		if err != nil {
			return err
		}
		tx.publish(store.Change{User: a.user, Kind: store.ChangeMessages, Mailbox: id, ModSeq: modseq})
		// One mirror sync for the batch.
		mx := a.s.newMirrorSync(tx, a.user)
		if err := mx.syncNew(ctx, id, rows, modseq); err != nil {
			return err
		}
		if err := mx.flush(ctx); err != nil {
			return err
		}
		// RFC 9208: a batch that passes a limit is refused whole.
		return checkQuota(ctx, tx, a.user)
	})
	if err != nil {
		if errors.Is(err, store.ErrOverQuota) {
			hs := make([]blobstore.Hash, 0, len(todo))
			for _, i := range todo {
				hs = append(hs, items[i].nm.hash)
			}
			a.s.collect(ctx, hs) // the bodies no row took
		}
		return nil, err
	}
	return res, nil
}

// putBodies stores the bodies of items[todo] that are not stored yet, in
// the blobstore's layout and with its guarantee (a file under its final
// name is complete and durable) but at batch granularity: each file is
// written to the temporary directory and fsync'd, by several workers at
// once, renamed into place, and then every directory touched is fsync'd
// once.
func (s *Store) putBodies(ctx context.Context, items []bulkItem, todo []int) error {
	root := s.blobs.Dir()
	var (
		mu      sync.Mutex
		dirs    = map[string]bool{} // fanout directories to sync
		newDirs bool                // a fanout directory was created: sync root
		first   error
	)
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < bulkWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				created, dir, err := s.putBody(root, items[i].nm)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if dir != "" {
					dirs[dir] = true
				}
				newDirs = newDirs || created
				mu.Unlock()
			}
		}()
	}
	seen := make(map[blobstore.Hash]bool, len(todo))
	for _, i := range todo {
		if seen[items[i].nm.hash] || ctx.Err() != nil {
			continue
		}
		seen[items[i].nm.hash] = true
		work <- i
	}
	close(work)
	wg.Wait()
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.opts.NoSync {
		return nil
	}
	if newDirs {
		dirs[root] = true
	}
	// Directory syncs too run concurrently: a batch of a few hundred
	// bodies touches most of the 256 fanout directories.
	dch := make(chan string)
	for w := 0; w < bulkWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range dch {
				if err := syncDir(d); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for d := range dirs {
		dch <- d
	}
	close(dch)
	wg.Wait()
	return first
}

// putBody writes one body unless it exists. It returns the fanout
// directory it renamed into ("" if nothing was written) and whether it
// created that directory.
func (s *Store) putBody(root string, m newMessage) (created bool, dir string, err error) {
	final := s.blobs.Path(m.hash)
	if _, err := os.Stat(final); err == nil {
		return false, "", nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, "", fmt.Errorf("sqlite: %w", err)
	}
	// The "put-" prefix lets blobstore.CleanTemp remove what a crash
	// leaves behind.
	f, err := os.CreateTemp(filepath.Join(root, "tmp"), "put-*")
	if err != nil {
		return false, "", fmt.Errorf("sqlite: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(m.raw)
	if err == nil && !s.opts.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return false, "", fmt.Errorf("sqlite: writing body: %w", err)
	}
	dir = filepath.Dir(final)
	if err := os.Mkdir(dir, 0o700); err == nil {
		created = true
	} else if !errors.Is(err, fs.ErrExist) {
		os.Remove(tmp)
		return false, "", fmt.Errorf("sqlite: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return false, "", fmt.Errorf("sqlite: %w", err)
	}
	return created, dir, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("sqlite: sync %s: %w", dir, err)
	}
	return nil
}
