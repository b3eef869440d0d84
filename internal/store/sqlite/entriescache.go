package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"sync"

	"github.com/casier/casier/internal/store"
)

// entriesCache keeps the last entry list read of recently used mailboxes,
// with the HIGHESTMODSEQ it was read at. SELECT, FETCH 1:* FLAGS and flag
// SEARCH each need every entry of the mailbox; rebuilding 10,000 of them
// from rows costs ~7 ms, while bringing a cached list up to date costs the
// size of the change: every change to a mailbox's messages takes a new
// modseq, recorded on the changed rows and on the tombstones of expunged
// UIDs (both indexed by modseq), and raises the mailbox's highestmodseq
// (RFC 7162 3.1; the store's invariant). So the list at modseq M, plus the
// rows with modseq > M, minus the tombstones with modseq > M, is the list
// now. The merged length is checked against the mailbox's message counter;
// a mismatch falls back to a full read.
//
// Cached lists are never modified (a merge builds a new one) and callers
// get a copy of the slice; flag slices are shared, as they already are
// between entries without keywords (see sysLists).
type entriesCache struct {
	mu   sync.Mutex
	max  int // total entries held, across mailboxes
	used int
	tick uint64
	m    map[store.MailboxID]*entriesSnap

	// UID lists (uidview.go), under mu, with their own budget.
	uidSnaps map[store.MailboxID]*uidSnap
	uidUsed  int
}

type entriesSnap struct {
	modseq  uint64
	entries []store.Entry
	last    uint64 // tick of last use, for eviction
}

// defaultCachedEntries bounds the entries cache: about 40 bytes each.
const defaultCachedEntries = 500_000

func newEntriesCache(max int) *entriesCache {
	if max <= 0 {
		return nil
	}
	return &entriesCache{max: max, m: map[store.MailboxID]*entriesSnap{}, uidSnaps: map[store.MailboxID]*uidSnap{}}
}

func (c *entriesCache) get(id store.MailboxID) *entriesSnap {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[id]
	if s != nil {
		c.tick++
		s.last = c.tick
	}
	return s
}

// put stores a list read at modseq unless a newer one is there already,
// then evicts the least recently used lists over the budget.
func (c *entriesCache) put(id store.MailboxID, modseq uint64, es []store.Entry) {
	if c == nil || len(es) > c.max/2 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[id]; old != nil {
		if old.modseq >= modseq {
			return
		}
		c.used -= len(old.entries)
	}
	c.tick++
	c.m[id] = &entriesSnap{modseq: modseq, entries: es, last: c.tick}
	c.used += len(es)
	for c.used > c.max {
		var victim store.MailboxID
		var oldest *entriesSnap
		for k, s := range c.m {
			if oldest == nil || s.last < oldest.last {
				victim, oldest = k, s
			}
		}
		delete(c.m, victim)
		c.used -= len(oldest.entries)
	}
}

// entriesDelta reads what changed after snap.modseq and merges it into a
// new list; ok is false when the result does not have want entries.
func entriesDelta(ctx context.Context, tx *Tx, id store.MailboxID, snap *entriesSnap, want int) (out []store.Entry, ok bool, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT (flags << 32) | uid, modseq, keywords FROM mailbox_messages
		INDEXED BY mailbox_messages_modseq WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, id, snap.modseq)
	if err != nil {
		return nil, false, err
	}
	var changed []store.Entry
	var packed, modseq int64
	var kws sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&packed, &modseq, &kws); err != nil {
			rows.Close()
			return nil, false, err
		}
		changed = append(changed, store.Entry{UID: uint32(packed), Flags: flagList(int(packed>>32), string(kws)), ModSeq: uint64(modseq)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	gone, err := queryUint32s(ctx, tx, `SELECT uid FROM expunged INDEXED BY expunged_modseq
		WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, id, snap.modseq)
	if err != nil {
		return nil, false, err
	}
	out = mergeEntries(snap.entries, changed, gone)
	return out, len(out) == want, nil
}

// mergeEntries returns old with changed applied (replacing or inserting by
// UID) and the gone UIDs removed; all three are ascending.
func mergeEntries(old, changed []store.Entry, gone []uint32) []store.Entry {
	out := make([]store.Entry, 0, len(old)+len(changed))
	i, j, k := 0, 0, 0
	for i < len(old) || j < len(changed) {
		var e store.Entry
		switch {
		case j == len(changed) || (i < len(old) && old[i].UID < changed[j].UID):
			e = old[i]
			i++
		case i == len(old) || changed[j].UID < old[i].UID:
			e = changed[j]
			j++
		default: // same UID: the change wins
			e = changed[j]
			i++
			j++
		}
		for k < len(gone) && gone[k] < e.UID {
			k++
		}
		if k < len(gone) && gone[k] == e.UID {
			continue
		}
		out = append(out, e)
	}
	return slices.Clip(out)
}
