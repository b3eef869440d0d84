package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/casier/casier/internal/store"
)

// UID lists (store.UIDLister). A SELECT needs the mailbox's UIDs to map
// message sequence numbers, not its flags; copying every entry per SELECT
// made its cost grow with the mailbox (about 2 ms at 10,000 messages).
// The engine keeps one immutable UID array per mailbox, at the
// HIGHESTMODSEQ it reflects, and every session shares it (copying only when
// its own view changes). Bringing it up to date costs the change: a flag
// change keeps the same array, an append or expunge builds a new one with
// one copy, found from the modseq-indexed rows and tombstones as in
// entriesCache. The first unseen UID (IMAP4rev1 [UNSEEN n]) is carried
// along: everything below it is seen, so after a change it is found by
// looking at the changed rows and walking the primary key from the old one.
type uidSnap struct {
	modseq  uint64
	uids    []uint32 // ascending, clipped; never modified
	fu      uint32   // first unseen UID (0: none), valid when fuKnown
	fuKnown bool
	last    uint64 // tick of last use, for eviction
}

// uidBudget is the number of UIDs the cache holds across mailboxes (4
// bytes each, a tenth of an entry).
func (c *entriesCache) uidBudget() int { return c.max * 4 }

func (c *entriesCache) getUIDs(id store.MailboxID) *uidSnap {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.uidSnaps[id]
	if s != nil {
		c.tick++
		s.last = c.tick
	}
	return s
}

// putUIDs stores s unless a newer list is there (or one as new that knows
// its first unseen UID when s does not), then evicts the least recently
// used lists over the budget.
func (c *entriesCache) putUIDs(id store.MailboxID, s *uidSnap) {
	if c == nil || len(s.uids) > c.uidBudget()/2 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.uidSnaps[id]; old != nil {
		if old.modseq > s.modseq || (old.modseq == s.modseq && (old.fuKnown || !s.fuKnown)) {
			return
		}
		c.uidUsed -= len(old.uids)
	}
	c.tick++
	s.last = c.tick
	c.uidSnaps[id] = s
	c.uidUsed += len(s.uids)
	for c.uidUsed > c.uidBudget() {
		var victim store.MailboxID
		var oldest *uidSnap
		for k, v := range c.uidSnaps {
			if oldest == nil || v.last < oldest.last {
				victim, oldest = k, v
			}
		}
		delete(c.uidSnaps, victim)
		c.uidUsed -= len(oldest.uids)
	}
}

// UIDList returns the mailbox's UIDs, shared with the cache (read-only).
func (a *Account) UIDList(ctx context.Context, id store.MailboxID, firstUnseen bool) (store.UIDList, error) {
	var out store.UIDList
	err := a.s.read(ctx, func(tx *Tx) error {
		var n, unseen int
		var hms int64
		err := tx.QueryRowContext(ctx, `SELECT messages, unseen, highestmodseq FROM mailboxes WHERE id = ? AND user_id = ?`, id, a.user).Scan(&n, &unseen, &hms)
		if err == sql.ErrNoRows {
			return fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
		}
		if err != nil {
			return err
		}
		ms := uint64(hms)
		snap := a.s.entries.getUIDs(id)
		var next *uidSnap
		switch {
		case snap == nil:
		case snap.modseq == ms && len(snap.uids) == n:
			next = snap
		case snap.modseq < ms:
			if next, err = uidDelta(ctx, tx, id, snap, ms, n, unseen, firstUnseen); err != nil {
				return err
			}
		}
		if next == nil {
			uids, err := scanAllUIDs(ctx, tx, id, n)
			if err != nil {
				return err
			}
			next = &uidSnap{modseq: ms, uids: uids}
		}
		if firstUnseen && !next.fuKnown {
			fu := uint32(0)
			if unseen > 0 {
				if fu, err = firstUnseenFrom(ctx, tx, id, 0); err != nil {
					return err
				}
			}
			next = &uidSnap{modseq: next.modseq, uids: next.uids, fu: fu, fuKnown: true}
		}
		if next != snap {
			a.s.entries.putUIDs(id, next)
		}
		out = store.UIDList{UIDs: next.uids, ModSeq: ms}
		if firstUnseen {
			out.FirstUnseen = next.fu
		}
		return nil
	})
	return out, err
}

// uidDelta brings snap up to modseq ms from the rows changed and the UIDs
// expunged since; nil means a full read is needed because the count does
// not match n. The changed rows are always all there, so a tombstone
// pruned away (RFC 7162 3.2.5.1) leaves a UID too many: the count catches
// it.
func uidDelta(ctx context.Context, tx *Tx, id store.MailboxID, snap *uidSnap, ms uint64, n, unseen int, wantFU bool) (*uidSnap, error) {
	rows, err := tx.QueryContext(ctx, `SELECT (flags << 32) | uid FROM mailbox_messages
		INDEXED BY mailbox_messages_modseq WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, id, snap.modseq)
	if err != nil {
		return nil, err
	}
	var added []uint32
	minUnseen := uint32(0) // lowest changed UID without \Seen
	var packed int64
	for rows.Next() {
		if err := rows.Scan(&packed); err != nil {
			rows.Close()
			return nil, err
		}
		u := uint32(packed)
		if minUnseen == 0 && (packed>>32)&bitSeen == 0 {
			minUnseen = u
		}
		if _, ok := slices.BinarySearch(snap.uids, u); !ok {
			added = append(added, u)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	gone, err := queryUint32s(ctx, tx, `SELECT uid FROM expunged INDEXED BY expunged_modseq
		WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, id, snap.modseq)
	if err != nil {
		return nil, err
	}
	uids := mergeUIDs(snap.uids, added, gone)
	if len(uids) != n {
		return nil, nil
	}
	next := &uidSnap{modseq: ms, uids: uids}
	if !wantFU || !snap.fuKnown {
		return next, nil
	}
	// Every UID below snap.fu was seen at snap.modseq; only changed rows
	// can have lost \Seen since.
	next.fuKnown = true
	switch {
	case unseen == 0:
	case minUnseen != 0 && (snap.fu == 0 || minUnseen < snap.fu):
		next.fu = minUnseen
	default:
		if next.fu, err = firstUnseenFrom(ctx, tx, id, snap.fu); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// mergeUIDs returns old with added inserted and gone removed (all
// ascending), or old itself when both are empty. The common case, new
// messages above the last UID, is one copy.
func mergeUIDs(old, added, gone []uint32) []uint32 {
	if len(added) == 0 && len(gone) == 0 {
		return old
	}
	out := make([]uint32, 0, len(old)+len(added))
	if len(gone) == 0 && (len(old) == 0 || added[0] > old[len(old)-1]) {
		out = append(append(out, old...), added...)
		return out
	}
	i, j, k := 0, 0, 0
	for i < len(old) || j < len(added) {
		var u uint32
		if j == len(added) || (i < len(old) && old[i] < added[j]) {
			u = old[i]
			i++
		} else {
			u = added[j]
			j++
		}
		for k < len(gone) && gone[k] < u {
			k++
		}
		if k < len(gone) && gone[k] == u {
			continue
		}
		out = append(out, u)
	}
	return slices.Clip(out)
}

// scanAllUIDs reads the UIDs of a mailbox of about n messages.
func scanAllUIDs(ctx context.Context, tx *Tx, id store.MailboxID, n int) ([]uint32, error) {
	rows, err := tx.QueryContext(ctx, `SELECT uid FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]uint32, 0, n)
	var v int64 // an int64 scan avoids database/sql's string conversion
	for rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, uint32(v))
	}
	return slices.Clip(out), rows.Err()
}

// firstUnseenFrom returns the lowest UID >= from without \Seen, 0 if none:
// a walk of the primary key that stops at the first match.
func firstUnseenFrom(ctx context.Context, tx *Tx, id store.MailboxID, from uint32) (uint32, error) {
	var u int64
	err := tx.QueryRowContext(ctx, `SELECT uid FROM mailbox_messages WHERE mailbox_id = ? AND uid >= ? AND flags & ? = 0 ORDER BY uid LIMIT 1`,
		id, from, bitSeen).Scan(&u)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return uint32(u), err
}
