package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"

	"github.com/casier/casier/internal/store"
)

// urlauthMigration adds the URLAUTH keys (RFC 4467 INTERNAL mechanism):
// one random 256-bit key per mailbox, dropped with the mailbox, so a URL
// to a deleted mailbox never verifies against a namesake created later.
// The user_id column lets RESETKEY without a mailbox delete all of a
// user's keys with one index range.
const urlauthMigration = `
CREATE TABLE urlauth_keys (
	mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	key        BLOB    NOT NULL
);
CREATE INDEX urlauth_keys_user ON urlauth_keys(user_id);
`

var _ store.URLAuthKeys = (*Store)(nil)

// URLAuthKey returns the key of the user's mailbox, creating it if asked.
func (s *Store) URLAuthKey(ctx context.Context, user store.UserID, mailbox store.MailboxID, create bool) ([]byte, error) {
	var key []byte
	err := s.rq().QueryRowContext(ctx, `SELECT key FROM urlauth_keys WHERE mailbox_id = ? AND user_id = ?`, mailbox, user).Scan(&key)
	if err == nil {
		return key, nil
	}
	if err != sql.ErrNoRows {
		return nil, err
	}
	if !create {
		return nil, fmt.Errorf("sqlite: urlauth key of mailbox %d: %w", mailbox, store.ErrNotFound)
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	err = s.write(ctx, func(tx *Tx) error {
		var owner store.UserID
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM mailboxes WHERE id = ?`, mailbox).Scan(&owner)
		if err == sql.ErrNoRows || err == nil && owner != user {
			return fmt.Errorf("sqlite: mailbox %d: %w", mailbox, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		// Another session may have created the key meanwhile: keep
		// theirs, so URLs already handed out stay valid.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO urlauth_keys (mailbox_id, user_id, key) VALUES (?, ?, ?)`, mailbox, user, fresh); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT key FROM urlauth_keys WHERE mailbox_id = ?`, mailbox).Scan(&key)
	})
	return key, err
}

// ResetURLAuthKeys deletes one mailbox's key, or all the user's.
func (s *Store) ResetURLAuthKeys(ctx context.Context, user store.UserID, mailbox store.MailboxID) error {
	return s.write(ctx, func(tx *Tx) error {
		var err error
		if mailbox == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM urlauth_keys WHERE user_id = ?`, user)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM urlauth_keys WHERE mailbox_id = ? AND user_id = ?`, mailbox, user)
		}
		return err
	})
}
