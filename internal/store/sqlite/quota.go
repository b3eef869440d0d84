package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/casier/casier/internal/store"
)

// Quota (RFC 9208): limits live in users.quota_storage (bytes) and
// users.quota_messages, NULL meaning no limit (schema version 1 reserved
// them). Usage is not stored: it is the SUM of the per-mailbox counters
// (mailboxes.size and mailboxes.messages) that every change already keeps
// up to date in its own transaction. A user has a handful of mailboxes,
// read through the UNIQUE(user_id, name) index, so the sum is cheap, it
// needs no migration, and it can never drift from the mailboxes the way a
// second copy of the counters could. A mailbox entry counts once per
// mailbox (a message copied to two mailboxes counts twice, as in Dovecot)
// although its body is stored once.
//
// Enforcement runs after the change, inside the same write transaction:
// if the usage now passes a limit, the transaction is rolled back and
// ErrOverQuota returned, so nothing is stored. The write lock serializes
// writers, so two concurrent appends cannot both slip under the limit.

// quotaLimits reads a user's limits; 0 means none.
func quotaLimits(ctx context.Context, q querier, user store.UserID) (storage, messages int64, err error) {
	var ls, lm sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT quota_storage, quota_messages FROM users WHERE id = ?`, user).Scan(&ls, &lm)
	if err == sql.ErrNoRows {
		return 0, 0, fmt.Errorf("sqlite: user %d: %w", user, store.ErrNotFound)
	}
	return ls.Int64, lm.Int64, err
}

// quotaUsage sums the counters of the user's folders: the entries of
// virtual mailboxes (All Mail, labels) show messages stored in folders and
// take no storage (docs/labels.md).
func quotaUsage(ctx context.Context, q querier, user store.UserID) (storage, messages int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT coalesce(sum(size), 0), coalesce(sum(messages), 0) FROM mailboxes WHERE user_id = ? AND kind = 0`,
		user).Scan(&storage, &messages)
	return storage, messages, err
}

// checkQuota is called in a write transaction after messages were added
// to the user's mailboxes: it fails with ErrOverQuota (the caller's
// transaction then rolls back) when the usage now passes a limit. With no
// limit set it costs one primary-key read.
func checkQuota(ctx context.Context, tx *Tx, user store.UserID) error {
	ls, lm, err := quotaLimits(ctx, tx, user)
	if err != nil || ls == 0 && lm == 0 {
		return err
	}
	us, um, err := quotaUsage(ctx, tx, user)
	if err != nil {
		return err
	}
	if ls > 0 && us > ls || lm > 0 && um > lm {
		return fmt.Errorf("sqlite: user %d: %w", user, store.ErrOverQuota)
	}
	return nil
}

// SetQuota sets a user's limits; 0 removes one.
func (s *Store) SetQuota(ctx context.Context, name string, storageBytes, messages int64) error {
	if storageBytes < 0 || messages < 0 {
		return fmt.Errorf("sqlite: negative quota limit")
	}
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET quota_storage = nullif(?, 0), quota_messages = nullif(?, 0) WHERE name = ?`,
			storageBytes, messages, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: user %q: %w", name, store.ErrNotFound)
		}
		return nil
	})
}

// Quota returns the user's limits and usage, read in one snapshot.
func (a *Account) Quota(ctx context.Context) (store.Quota, error) {
	var q store.Quota
	err := a.s.read(ctx, func(tx *Tx) error {
		var err error
		if q.StorageLimit, q.MessageLimit, err = quotaLimits(ctx, tx, a.user); err != nil {
			return err
		}
		q.StorageUsed, q.MessagesUsed, err = quotaUsage(ctx, tx, a.user)
		return err
	})
	return q, err
}

// DeletedSize sums the sizes of the mailbox's \Deleted messages through
// the partial index that EXPUNGE uses, so the cost follows the number of
// \Deleted messages, not the size of the mailbox. EXPUNGE in a label
// folder frees nothing, nor in All Mail while there is a Trash to move
// the messages to (docs/labels.md).
func (a *Account) DeletedSize(ctx context.Context, id store.MailboxID) (int64, error) {
	var n int64
	err := a.s.read(ctx, func(tx *Tx) error {
		n = 0
		m, err := loadMbox(ctx, tx, a.user, id)
		if err != nil {
			return err
		}
		switch m.kind {
		case store.KindLabel, store.KindLabelRoot:
			return nil
		case store.KindAll:
			if trash, err := trashFolder(ctx, tx, a.user); err != nil || trash != 0 {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `SELECT coalesce(sum(size), 0) FROM mailbox_messages INDEXED BY mailbox_messages_deleted
			WHERE mailbox_id = ? AND flags & 2 <> 0`, id).Scan(&n)
	})
	return n, err
}
