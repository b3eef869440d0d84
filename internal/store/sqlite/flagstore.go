package sqlite

import (
	"context"

	"github.com/casier/casier/internal/store"
)

// StoreFlags applies a flag change to the given UIDs (RFC 9051 6.4.6) with
// the UNCHANGEDSINCE test of RFC 7162 3.1.3. Only messages whose flags
// really change get the command's new modseq. In a virtual mailbox the
// change applies to the folder entries its messages show (labelops.go).
func (a *Account) StoreFlags(ctx context.Context, id store.MailboxID, req store.StoreRequest) (store.StoreResult, error) {
	chg := storeChange(req.Mode, req.Flags)
	var res store.StoreResult
	err := a.s.write(ctx, func(tx *Tx) error {
		res = store.StoreResult{}
		info, err := loadMbox(ctx, tx, a.user, id)
		if err != nil {
			return err
		}
		if err := noSelect(info); err != nil {
			return err
		}
		mx := a.s.newMirrorSync(tx, a.user)
		mx.known(info)
		if info.virtual() {
			op := &labelOp{tx: tx, mx: mx}
			if res, err = op.storeFlags(ctx, info, req.UIDs, chg, req.UnchangedSince); err != nil {
				return err
			}
			return mx.flush(ctx)
		}
		var ms uint64
		var rows []srcRow
		res.Changed, rows, res.Modified, err = storeFlagsTx(ctx, tx, a.user, id, req.UIDs, chg, req.UnchangedSince, &ms)
		if err != nil || ms == 0 {
			return err
		}
		if err := mx.syncFlags(ctx, id, rows, ms); err != nil {
			return err
		}
		return mx.flush(ctx)
	})
	if err != nil {
		return store.StoreResult{}, err
	}
	return res, nil
}

// flagChange is a change to messages' flags: STORE's FLAGS (replace),
// +FLAGS and -FLAGS, or a label operation's "add these keywords, remove
// those". Removal applies before addition.
type flagChange struct {
	replace  bool
	bits     int      // replace: the system flags
	kws      []string // replace: the keywords
	addBits  int
	delBits  int
	add, del []string
}

// storeChange is the flagChange of a STORE request.
func storeChange(mode store.FlagMode, flags []string) flagChange {
	bits, kws := parseFlags(flags)
	switch mode {
	case store.FlagsReplace:
		return flagChange{replace: true, bits: bits, kws: kws}
	case store.FlagsAdd:
		return flagChange{addBits: bits, add: kws}
	default:
		return flagChange{delBits: bits, del: kws}
	}
}

// apply returns the flags of a message after the change; kws and add are
// the change's keywords in the mailbox's spelling.
func (c flagChange) apply(oldBits int, oldKws, kws, add []string) (int, []string) {
	if c.replace {
		return c.bits, kws
	}
	var out []string
	for _, k := range oldKws {
		if !containsFold(c.del, k) {
			out = append(out, k)
		}
	}
	for _, k := range add {
		if !containsFold(out, k) {
			out = append(out, k)
		}
	}
	return (oldBits &^ c.delBits) | c.addBits, out
}

// storeFlagsTx applies chg to the given entries of folder id, skipping
// (and listing in modified) those changed after unchangedSince when it is
// not 0. It takes the modseq into *ms when something changes and *ms is 0,
// and returns the entries changed with their new flags, as entries and as
// rows for mirrorSync.syncFlags (ascending). It does not touch mirrors: the
// caller syncs them.
func storeFlagsTx(ctx context.Context, tx *Tx, user store.UserID, id store.MailboxID, uids []uint32, chg flagChange, unchangedSince uint64, ms *uint64) (changed []store.Entry, rows []srcRow, modified []uint32, err error) {
	u, sp := spans(uids, 16)
	if len(u) == 0 {
		return nil, nil, nil, nil
	}
	kt := newKeywordTable(id)
	ck, err := kt.canon(ctx, tx, chg.kws, true)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := kt.canon(ctx, tx, chg.add, true)
	if err != nil {
		return nil, nil, nil, err
	}
	type row struct {
		uid    uint32
		bits   int
		kws    []string
		modseq uint64
	}
	var cur []row
	w := wanted{u: u}
	for _, s := range sp {
		r, err := tx.QueryContext(ctx, `SELECT uid, flags, keywords, modseq FROM mailbox_messages
			WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`, id, s.lo, s.hi)
		if err != nil {
			return nil, nil, nil, err
		}
		for r.Next() {
			// int64 destinations: database/sql converts to other
			// integer types through a string.
			var uid, fb, modseq int64
			var k string
			if err := r.Scan(&uid, &fb, &k, &modseq); err != nil {
				r.Close()
				return nil, nil, nil, err
			}
			x := row{uid: uint32(uid), bits: int(fb), modseq: uint64(modseq)}
			if w.has(x.uid) {
				x.kws = splitKeywords(k)
				cur = append(cur, x)
			}
		}
		r.Close()
		if err := r.Err(); err != nil {
			return nil, nil, nil, err
		}
	}
	var dUnseen, dDeleted int
	for _, x := range cur {
		// RFC 7162 3.1.3: a message modified after UNCHANGEDSINCE is
		// left alone and reported in [MODIFIED].
		if unchangedSince != 0 && x.modseq > unchangedSince {
			modified = append(modified, x.uid)
			continue
		}
		nb, nk := chg.apply(x.bits, x.kws, ck, ca)
		if nb == x.bits && sameKeywords(nk, x.kws) {
			continue
		}
		if *ms == 0 {
			if *ms, err = nextModSeq(ctx, tx, user); err != nil {
				return nil, nil, nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mailbox_messages SET flags = ?, keywords = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?`,
			nb, joinKeywords(nk), *ms, id, x.uid); err != nil {
			return nil, nil, nil, err
		}
		if err := indexKeywords(ctx, tx, id, x.uid, diffKeywords(x.kws, nk), false); err != nil {
			return nil, nil, nil, err
		}
		if err := indexKeywords(ctx, tx, id, x.uid, diffKeywords(nk, x.kws), true); err != nil {
			return nil, nil, nil, err
		}
		dUnseen += b2i(nb&bitSeen == 0) - b2i(x.bits&bitSeen == 0)
		dDeleted += b2i(nb&bitDeleted != 0) - b2i(x.bits&bitDeleted != 0)
		changed = append(changed, store.Entry{UID: x.uid, Flags: flagList(nb, joinKeywords(nk)), ModSeq: *ms})
		rows = append(rows, srcRow{uid: x.uid, bits: nb, kws: nk})
	}
	if len(changed) == 0 {
		return nil, nil, modified, nil
	}
	if _, err = tx.ExecContext(ctx, `UPDATE mailboxes SET highestmodseq = ?, unseen = unseen + ?, deleted = deleted + ? WHERE id = ?`,
		*ms, dUnseen, dDeleted, id); err != nil {
		return nil, nil, nil, err
	}
	tx.publish(store.Change{User: user, Kind: store.ChangeMessages, Mailbox: id, ModSeq: *ms})
	return changed, rows, modified, nil
}

// entryUIDs returns the UIDs of es.
func entryUIDs(es []store.Entry) []uint32 {
	out := make([]uint32, len(es))
	for i, e := range es {
		out[i] = e.UID
	}
	return out
}
