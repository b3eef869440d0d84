package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
)

// srcRow is a message being copied, moved, expunged or mirrored.
type srcRow struct {
	uid   uint32
	mid   int64
	bits  int
	kws   []string
	size  int64
	idate int64
	tz    int
	sdate int64
}

func readSrcRows(ctx context.Context, tx *Tx, id store.MailboxID, uids []uint32) ([]srcRow, error) {
	u, sp := spans(uids, 16)
	w := wanted{u: u}
	var out []srcRow
	for _, s := range sp {
		r, err := tx.QueryContext(ctx, `SELECT uid, message_id, flags, keywords, size, internal_date, internal_tz, save_date
			FROM mailbox_messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`, id, s.lo, s.hi)
		if err != nil {
			return nil, err
		}
		for r.Next() {
			var x srcRow
			var k string
			if err := r.Scan(&x.uid, &x.mid, &x.bits, &k, &x.size, &x.idate, &x.tz, &x.sdate); err != nil {
				r.Close()
				return nil, err
			}
			if w.has(x.uid) {
				x.kws = splitKeywords(k)
				out = append(out, x)
			}
		}
		r.Close()
		if err := r.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// copyTx adds the given messages of folder src to folder dst with new UIDs
// in source UID order (RFC 4315 COPYUID), the same message rows (bodies
// are shared), flags and internal date, and mirrors them; with move it
// then removes them from src, leaving tombstones. With relink (move only)
// their mirrors follow them, so they keep their UIDs in All Mail and the
// label folders. Both mailboxes must belong to the user of mx.
func copyTx(ctx context.Context, tx *Tx, mx *mirrorSync, src store.MailboxID, uids []uint32, dst store.MailboxID, ms uint64, move, relinkMirrors bool) (store.CopyResult, error) {
	var res store.CopyResult
	var uidnext uint32
	if err := tx.QueryRowContext(ctx, `SELECT uidvalidity, uidnext FROM mailboxes WHERE id = ?`, dst).Scan(&res.UIDValidity, &uidnext); err != nil {
		return res, err
	}
	rows, err := readSrcRows(ctx, tx, src, uids)
	if err != nil || len(rows) == 0 {
		return res, err
	}
	if uint64(uidnext)+uint64(len(rows)) >= 1<<32-1 {
		return res, fmt.Errorf("sqlite: mailbox %d: UID space exhausted", dst)
	}
	kt := newKeywordTable(dst)
	now := time.Now().Unix()
	var unseen, deleted int
	var size int64
	added := make([]srcRow, 0, len(rows))
	for _, x := range rows {
		ck, err := kt.canon(ctx, tx, x.kws, true)
		if err != nil {
			return res, err
		}
		uid := uidnext
		uidnext++
		if _, err := tx.ExecContext(ctx, insertEntry, dst, uid, x.mid, x.bits, joinKeywords(ck), ms, x.size, x.idate, x.tz, now); err != nil {
			return res, err
		}
		n := x
		n.uid, n.kws, n.sdate = uid, ck, now
		added = append(added, n)
		if err := indexKeywords(ctx, tx, dst, uid, ck, true); err != nil {
			return res, err
		}
		unseen += b2i(x.bits&bitSeen == 0)
		deleted += b2i(x.bits&bitDeleted != 0)
		size += x.size
		res.SrcUIDs = append(res.SrcUIDs, x.uid)
		res.DstUIDs = append(res.DstUIDs, uid)
	}
	// New UIDs are at or above first_recent_uid: all of them are recent.
	if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, messages = messages + ?, recent = recent + ?,
		unseen = unseen + ?, deleted = deleted + ?, size = size + ? WHERE id = ?`,
		uidnext, ms, len(rows), len(rows), unseen, deleted, size, dst); err != nil {
		return res, err
	}
	if move {
		tx.publish(store.Change{User: mx.user, Kind: store.ChangeMessages, Mailbox: src, ModSeq: ms})
	}
	tx.publish(store.Change{User: mx.user, Kind: store.ChangeMessages, Mailbox: dst, ModSeq: ms})
	if move && relinkMirrors {
		for i, u := range res.SrcUIDs {
			if err := relink(ctx, tx, src, u, dst, res.DstUIDs[i]); err != nil {
				return res, err
			}
		}
		err = mx.sync(ctx, dst, res.DstUIDs, ms)
	} else {
		err = mx.syncNew(ctx, dst, added, ms)
	}
	if err != nil {
		return res, err
	}
	if move {
		// The message rows stay referenced by dst, so no body can become
		// orphaned here.
		if _, err := removeTx(ctx, tx, mx, src, rows, ms); err != nil {
			return res, err
		}
	}
	return res, nil
}

// removeTx deletes rows from a folder, leaving tombstones at ms, updating
// the counters and removing the rows' mirrors; it returns the bodies that
// may have lost their last reference.
func removeTx(ctx context.Context, tx *Tx, mx *mirrorSync, id store.MailboxID, rows []srcRow, ms uint64) ([]blobstore.Hash, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	var firstRecent uint32
	if err := tx.QueryRowContext(ctx, `SELECT first_recent_uid FROM mailboxes WHERE id = ?`, id).Scan(&firstRecent); err != nil {
		return nil, err
	}
	var unseen, deleted, recent int
	var size int64
	mids := make([]int64, 0, len(rows))
	uids := make([]uint32, 0, len(rows))
	for _, x := range rows {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mailbox_messages WHERE mailbox_id = ? AND uid = ?`, id, x.uid); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)`, id, x.uid, ms); err != nil {
			return nil, err
		}
		if err := indexKeywords(ctx, tx, id, x.uid, x.kws, false); err != nil {
			return nil, err
		}
		unseen += b2i(x.bits&bitSeen == 0)
		deleted += b2i(x.bits&bitDeleted != 0)
		recent += b2i(x.uid >= firstRecent)
		size += x.size
		mids = append(mids, x.mid)
		uids = append(uids, x.uid)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET highestmodseq = ?, messages = messages - ?, recent = recent - ?,
		unseen = unseen - ?, deleted = deleted - ?, size = size - ? WHERE id = ?`,
		ms, len(rows), recent, unseen, deleted, size, id); err != nil {
		return nil, err
	}
	tx.publish(store.Change{User: mx.user, Kind: store.ChangeMessages, Mailbox: id, ModSeq: ms})
	// The mirrors go first: they reference the message rows too.
	if err := mx.sync(ctx, id, uids, ms); err != nil {
		return nil, err
	}
	return dropOrphans(ctx, tx, mids)
}

// dropOrphans deletes the message rows no mailbox references any more and
// returns their bodies, candidates for collection once committed.
func dropOrphans(ctx context.Context, tx *Tx, mids []int64) ([]blobstore.Hash, error) {
	if len(mids) == 0 {
		return nil, nil
	}
	var out []blobstore.Hash
	for _, mid := range mids {
		var b []byte
		err := tx.QueryRowContext(ctx, `DELETE FROM messages WHERE id = ?1
			AND NOT EXISTS (SELECT 1 FROM mailbox_messages WHERE message_id = ?1) RETURNING blob`, mid).Scan(&b)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, err
		}
		var h blobstore.Hash
		copy(h[:], b)
		out = append(out, h)
	}
	return out, nil
}

// copyOrMove implements Copy and Move. Between folders it copies entries
// (and moves their mirrors along on a move); through a virtual mailbox it
// applies the label semantics of docs/labels.md (labelops.go).
func (a *Account) copyOrMove(ctx context.Context, src store.MailboxID, uids []uint32, dst store.MailboxID, move bool) (store.CopyResult, error) {
	var res store.CopyResult
	err := a.s.write(ctx, func(tx *Tx) error {
		res = store.CopyResult{}
		from, err := loadMbox(ctx, tx, a.user, src)
		if err != nil {
			return err
		}
		to, err := loadMbox(ctx, tx, a.user, dst)
		if err != nil {
			return err
		}
		if err := noSelect(from, to); err != nil {
			return err
		}
		// Take the modseq up front; if nothing is copied the counter just
		// skips a value, which RFC 7162 allows.
		ms, err := nextModSeq(ctx, tx, a.user)
		if err != nil {
			return err
		}
		mx := a.s.newMirrorSync(tx, a.user)
		mx.known(from)
		mx.known(to)
		var added bool // folder entries were added: the usage grew
		if !from.virtual() && !to.virtual() {
			res, err = copyTx(ctx, tx, mx, src, uids, dst, ms, move, true)
			added = !move && len(res.SrcUIDs) > 0
		} else {
			op := &labelOp{tx: tx, mx: mx, ms: ms}
			res, err = op.copyOrMove(ctx, from, to, uids, move)
			added = op.added
		}
		if err != nil {
			return err
		}
		if err := mx.flush(ctx); err != nil {
			return err
		}
		// RFC 9208: COPY adds to the usage (each folder entry counts);
		// MOVE between the user's own mailboxes leaves it unchanged.
		if added {
			return checkQuota(ctx, tx, a.user)
		}
		return nil
	})
	if err != nil {
		return store.CopyResult{}, err
	}
	return res, nil
}

// Copy copies messages to dst (RFC 9051 6.4.7).
func (a *Account) Copy(ctx context.Context, src store.MailboxID, uids []uint32, dst store.MailboxID) (store.CopyResult, error) {
	return a.copyOrMove(ctx, src, uids, dst, false)
}

// Move moves messages to dst in one transaction (RFC 6851).
func (a *Account) Move(ctx context.Context, src store.MailboxID, uids []uint32, dst store.MailboxID) (store.CopyResult, error) {
	return a.copyOrMove(ctx, src, uids, dst, true)
}

// Expunge removes the \Deleted messages among uids (all of them when uids
// is nil) and returns their UIDs, ascending. In a virtual mailbox nothing
// is deleted (docs/labels.md): see labelOp.expunge.
func (a *Account) Expunge(ctx context.Context, id store.MailboxID, uids []uint32) ([]uint32, error) {
	var out []uint32
	var blobs []blobstore.Hash
	err := a.s.write(ctx, func(tx *Tx) error {
		out, blobs = nil, nil
		info, err := loadMbox(ctx, tx, a.user, id)
		if err != nil {
			return err
		}
		if err := noSelect(info); err != nil {
			return err
		}
		var del []uint32
		if uids == nil {
			// Served by the partial index on \Deleted messages.
			del, err = queryUint32s(ctx, tx, `SELECT uid FROM mailbox_messages INDEXED BY mailbox_messages_deleted
				WHERE mailbox_id = ? AND flags & 2 <> 0 ORDER BY uid`, id)
			if err != nil || len(del) == 0 {
				return err
			}
		} else {
			del = uids
		}
		mx := a.s.newMirrorSync(tx, a.user)
		mx.known(info)
		if info.virtual() {
			op := &labelOp{tx: tx, mx: mx}
			if out, blobs, err = op.expunge(ctx, info, del); err != nil {
				return err
			}
			return mx.flush(ctx)
		}
		rows, err := readSrcRows(ctx, tx, id, del)
		if err != nil {
			return err
		}
		keep := rows[:0]
		for _, x := range rows {
			if x.bits&bitDeleted != 0 {
				keep = append(keep, x)
			}
		}
		rows = keep
		if len(rows) == 0 {
			return nil
		}
		ms, err := nextModSeq(ctx, tx, a.user)
		if err != nil {
			return err
		}
		if blobs, err = removeTx(ctx, tx, mx, id, rows, ms); err != nil {
			return err
		}
		for _, x := range rows {
			out = append(out, x.uid)
		}
		return mx.flush(ctx)
	})
	if err != nil {
		return nil, err
	}
	a.s.collect(ctx, blobs)
	return out, nil
}

// Changes returns what changed in the mailbox after sinceModSeq, read
// through the modseq indexes so the cost follows the size of the change.
func (a *Account) Changes(ctx context.Context, id store.MailboxID, sinceModSeq uint64) (store.ChangeSet, error) {
	var cs store.ChangeSet
	err := a.s.read(ctx, func(tx *Tx) error {
		cs = store.ChangeSet{}
		err := tx.QueryRowContext(ctx, `SELECT highestmodseq, uidnext FROM mailboxes WHERE id = ? AND user_id = ?`, id, a.user).Scan(&cs.HighestModSeq, &cs.UIDNext)
		if err == sql.ErrNoRows {
			return fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
		}
		if err != nil {
			return err
		}
		if sinceModSeq >= cs.HighestModSeq {
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT uid, flags, keywords, modseq FROM mailbox_messages
			INDEXED BY mailbox_messages_modseq WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, id, sinceModSeq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e store.Entry
			var bits int
			var kws string
			if err := rows.Scan(&e.UID, &bits, &kws, &e.ModSeq); err != nil {
				return err
			}
			e.Flags = flagList(bits, kws)
			cs.Changed = append(cs.Changed, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		cs.Expunged, err = queryUint32s(ctx, tx, `SELECT uid FROM expunged INDEXED BY expunged_modseq
			WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, id, sinceModSeq)
		return err
	})
	return cs, err
}
