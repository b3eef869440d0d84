package sqlite

import (
	"context"
	"fmt"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
)

// Replace appends a message to dst and removes uid from src in one write
// transaction (RFC 8508 3.4: the replacement is atomic, so no session ever
// sees both messages or neither, and a crash leaves one of the two states).
// The body is made durable before the transaction, as for Append; the old
// message leaves a tombstone at the same modseq as the new one. Through
// virtual mailboxes: the new message goes where Append puts it, and the
// old one is removed from the folder it is stored in.
func (a *Account) Replace(ctx context.Context, src store.MailboxID, uid uint32, dst store.MailboxID, req store.AppendRequest) (store.AppendResult, error) {
	na, err := a.prepareAppend(ctx, req)
	if err != nil {
		return store.AppendResult{}, err
	}
	h := na.msg.hash

	var res store.AppendResult
	var orphans []blobstore.Hash
	err = a.s.write(ctx, func(tx *Tx) error {
		res, orphans = store.AppendResult{}, nil
		from, err := loadMbox(ctx, tx, a.user, src)
		if err != nil {
			return err
		}
		if err := noSelect(from); err != nil {
			return err
		}
		t, err := appendTarget(ctx, tx, a.user, dst)
		if err != nil {
			return err
		}
		mx := a.s.newMirrorSync(tx, a.user)
		mx.known(from)
		mx.known(t)
		oldBox, oldUID := src, uid
		if from.virtual() {
			refs, err := readRefs(ctx, tx, src, []uint32{uid})
			if err != nil {
				return err
			}
			if len(refs) == 0 {
				return fmt.Errorf("sqlite: mailbox %d uid %d: %w", src, uid, store.ErrNotFound)
			}
			oldBox, oldUID = refs[0].src, refs[0].srcUID
		}
		old, err := readSrcRows(ctx, tx, oldBox, []uint32{oldUID})
		if err != nil {
			return err
		}
		if len(old) == 0 {
			return fmt.Errorf("sqlite: mailbox %d uid %d: %w", src, uid, store.ErrNotFound)
		}
		folder, na, err := virtualTarget(ctx, mx, t, na)
		if err != nil {
			return err
		}
		ms, err := nextModSeq(ctx, tx, a.user)
		if err != nil {
			return err
		}
		// The new message row is taken before the old entry goes, so a
		// replacement identical to the message it replaces keeps its row
		// (and its EMAILID) instead of being dropped as an orphan.
		mid, err := a.s.messageRow(ctx, tx, a.user, na.msg)
		if err != nil {
			return err
		}
		row, err := insertAppended(ctx, tx, a.user, folder.id, folder.uidnext, mid, ms, na)
		if err != nil {
			return err
		}
		if err := mx.syncNew(ctx, folder.id, []srcRow{row}, ms); err != nil {
			return err
		}
		if orphans, err = removeTx(ctx, tx, mx, oldBox, old, ms); err != nil {
			return err
		}
		if err := mx.flush(ctx); err != nil {
			return err
		}
		// RFC 9208: the usage after the whole replacement counts, so a
		// draft near the limit can still be replaced by one of similar size.
		if err := checkQuota(ctx, tx, a.user); err != nil {
			return err
		}
		res, err = appendResult(ctx, tx, t, folder, mid, ms)
		return err
	})
	if err != nil {
		a.s.collect(ctx, []blobstore.Hash{h}) // the body, if no row took it
		return store.AppendResult{}, err
	}
	a.s.collect(ctx, orphans)
	return res, nil
}
