package sqlite

import (
	"context"

	"github.com/casier/casier/internal/store"
)

// StoreFlags applies a flag change to the given UIDs (RFC 9051 6.4.6) with
// the UNCHANGEDSINCE test of RFC 7162 3.1.3. Only messages whose flags
// really change get the command's new modseq.
func (a *Account) StoreFlags(ctx context.Context, id store.MailboxID, req store.StoreRequest) (store.StoreResult, error) {
	u, sp := spans(req.UIDs, 16)
	bits, kws := parseFlags(req.Flags)
	var res store.StoreResult
	var ms uint64
	err := a.s.write(ctx, func(tx *Tx) error {
		res, ms = store.StoreResult{}, 0
		if err := checkMailbox(ctx, tx, a.user, id); err != nil {
			return err
		}
		kt := newKeywordTable(id)
		ck, err := kt.canon(ctx, tx, kws, req.Mode != store.FlagsRemove)
		if err != nil {
			return err
		}
		type row struct {
			uid    uint32
			bits   int
			kws    []string
			modseq uint64
		}
		var rows []row
		w := wanted{u: u}
		for _, s := range sp {
			r, err := tx.QueryContext(ctx, `SELECT uid, flags, keywords, modseq FROM mailbox_messages
				WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`, id, s.lo, s.hi)
			if err != nil {
				return err
			}
			for r.Next() {
				// int64 destinations: database/sql converts to other
				// integer types through a string.
				var uid, fb, modseq int64
				var k string
				if err := r.Scan(&uid, &fb, &k, &modseq); err != nil {
					r.Close()
					return err
				}
				x := row{uid: uint32(uid), bits: int(fb), modseq: uint64(modseq)}
				if w.has(x.uid) {
					x.kws = splitKeywords(k)
					rows = append(rows, x)
				}
			}
			r.Close()
			if err := r.Err(); err != nil {
				return err
			}
		}
		var dUnseen, dDeleted int
		for _, x := range rows {
			// RFC 7162 3.1.3: a message modified after UNCHANGEDSINCE is
			// left alone and reported in [MODIFIED].
			if req.UnchangedSince != 0 && x.modseq > req.UnchangedSince {
				res.Modified = append(res.Modified, x.uid)
				continue
			}
			nb, nk := applyFlags(req.Mode, x.bits, x.kws, bits, ck)
			if nb == x.bits && sameKeywords(nk, x.kws) {
				continue
			}
			if ms == 0 {
				if ms, err = nextModSeq(ctx, tx, a.user); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE mailbox_messages SET flags = ?, keywords = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?`,
				nb, joinKeywords(nk), ms, id, x.uid); err != nil {
				return err
			}
			if err := indexKeywords(ctx, tx, id, x.uid, diffKeywords(x.kws, nk), false); err != nil {
				return err
			}
			if err := indexKeywords(ctx, tx, id, x.uid, diffKeywords(nk, x.kws), true); err != nil {
				return err
			}
			dUnseen += b2i(nb&bitSeen == 0) - b2i(x.bits&bitSeen == 0)
			dDeleted += b2i(nb&bitDeleted != 0) - b2i(x.bits&bitDeleted != 0)
			res.Changed = append(res.Changed, store.Entry{UID: x.uid, Flags: flagList(nb, joinKeywords(nk)), ModSeq: ms})
		}
		if ms == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE mailboxes SET highestmodseq = ?, unseen = unseen + ?, deleted = deleted + ? WHERE id = ?`,
			ms, dUnseen, dDeleted, id)
		return err
	})
	if err != nil {
		return store.StoreResult{}, err
	}
	if ms != 0 {
		a.s.hub.Publish(store.Change{User: a.user, Kind: store.ChangeMessages, Mailbox: id, ModSeq: ms})
	}
	return res, nil
}
