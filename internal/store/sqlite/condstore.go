package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/casier/casier/internal/store"
)

// Tombstone pruning (RFC 7162 3.2.5.1). The expunged table keeps one row per
// expunged UID so that QRESYNC can answer VANISHED (EARLIER) exactly. A
// deployment may prune old rows; the mailbox then remembers the modseq up
// to which rows were dropped (its "tombstone floor", kept in the meta table
// under "tombstone_floor:<mailbox id>" so no schema change is needed; no
// row means 0, complete). A client whose modseq is below the floor gets,
// instead of the exact list, every UID of its known range that does not
// exist now, which RFC 7162 3.2.5.1 permits. Nothing prunes automatically.

var _ store.Tombstones = (*Account)(nil)

func floorKey(id store.MailboxID) string {
	return "tombstone_floor:" + strconv.FormatInt(int64(id), 10)
}

// TombstoneFloor implements store.Tombstones.
func (a *Account) TombstoneFloor(ctx context.Context, id store.MailboxID) (uint64, error) {
	var floor int64
	err := a.s.read(ctx, func(tx *Tx) error {
		floor = 0
		if err := checkMailbox(ctx, tx, a.user, id); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, floorKey(id)).Scan(&floor)
		if err == sql.ErrNoRows {
			return nil
		}
		return err
	})
	return uint64(floor), err
}

// PruneTombstones implements store.Tombstones.
func (a *Account) PruneTombstones(ctx context.Context, id store.MailboxID, upTo uint64) error {
	if upTo > 1<<63-1 {
		return fmt.Errorf("sqlite: tombstone floor %d out of range", upTo)
	}
	err := a.s.write(ctx, func(tx *Tx) error {
		if err := checkMailbox(ctx, tx, a.user, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM expunged WHERE mailbox_id = ? AND modseq <= ?`, id, int64(upTo)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`, floorKey(id), int64(upTo))
		return err
	})
	if err != nil {
		return err
	}
	// The entries cache merges tombstones into old snapshots: one older
	// than the floor could no longer be brought up to date.
	if c := a.s.entries; c != nil {
		c.mu.Lock()
		if old := c.m[id]; old != nil {
			c.used -= len(old.entries)
			delete(c.m, id)
		}
		c.mu.Unlock()
	}
	// Sessions recheck the mailbox and see the new floor.
	a.s.hub.Publish(store.Change{User: a.user, Kind: store.ChangeMailboxes, Mailbox: id})
	return nil
}
