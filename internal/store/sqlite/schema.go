package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; migrations[i] brings the schema from
// version i to i+1. Never edit a released entry: append a new one.
//
// Design notes (kept engine-neutral so the PostgreSQL engine can mirror it):
//   - users.modseq is the per-user MODSEQ counter (RFC 7162): every mutation
//     takes users.modseq+1, so modseqs increase across all of a user's
//     mailboxes (NOTIFY) and strictly within each.
//   - mailboxes carry the counters STATUS needs (messages, unseen, deleted,
//     size, and recent: the messages with uid >= first_recent_uid),
//     maintained in the same transaction as each change.
//   - messages is one stored body per user (the EMAILID), addressed by the
//     SHA-256 of its bytes; UNIQUE(blob, user_id) dedupes per user and also
//     serves "is this blob referenced by anyone" for garbage collection.
//     A message row lives while a mailbox_messages row points at it (checked
//     through mailbox_messages_message, not a stored refcount that could
//     drift).
//   - mailbox_messages.flags is a bitmask of system flags; keywords is the
//     space-separated, sorted list in the mailbox's spelling.
//   - mailbox_keywords lists every keyword ever used in the mailbox (for
//     FLAGS / PERMANENTFLAGS; RFC 9051 7.3.5 lets a server keep them) with
//     the first spelling seen, keyed by its lower-case form because flags
//     are case-insensitive.
//   - message_keywords(mailbox_id, keyword, uid) is the inverted index for
//     SEARCH KEYWORD and labels: one index range read gives the UIDs
//     carrying a keyword in ascending order, without touching the message
//     rows. It costs a row per (message, keyword), and nothing for the
//     common case of messages with system flags only, which is why it was
//     preferred over a bit-per-keyword scheme (unbounded keyword count) or
//     a LIKE scan of mailbox_messages.keywords (whole-mailbox scan).
//   - expunged keeps a tombstone per expunged UID with the modseq of the
//     expunge, for CONDSTORE/QRESYNC VANISHED (RFC 7162 3.2.5.1).
//   - ids are AUTOINCREMENT: never reused, so a session holding the id of
//     a deleted mailbox cannot reach its namesake, and an EMAILID (RFC
//     8474) or user id never names something else later.
//   - quota_* columns are reserved for RFC 9208 (NULL: unlimited).
//   - Labels and All Mail (docs/labels.md, labels.go) are mailboxes rows
//     with kind <> 0 (store.MailboxKind) and, for a label folder, label =
//     the folded keyword. A virtual mailbox's messages are ordinary
//     mailbox_messages rows (own UID, same message_id, a copy of the
//     flags), each linked by a mirrors row to the folder entry it shows,
//     so every read path works on them unchanged and only the writes that
//     change folder entries maintain them (syncMirrors), in the same
//     transaction. mirrors_src finds the mirrors of a folder entry. Only
//     kind 0 counts towards the quota.
var migrations = []string{
	// 1: initial schema.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	name           TEXT    NOT NULL UNIQUE,
	pass_hash      TEXT    NOT NULL,
	created        INTEGER NOT NULL,
	modseq         INTEGER NOT NULL DEFAULT 0,
	quota_storage  INTEGER,
	quota_messages INTEGER
);

CREATE TABLE mailboxes (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name             TEXT    NOT NULL,
	uidvalidity      INTEGER NOT NULL,
	uidnext          INTEGER NOT NULL DEFAULT 1,
	highestmodseq    INTEGER NOT NULL,
	special_use      TEXT    NOT NULL DEFAULT '',
	first_recent_uid INTEGER NOT NULL DEFAULT 1,
	recent           INTEGER NOT NULL DEFAULT 0,
	messages         INTEGER NOT NULL DEFAULT 0,
	unseen           INTEGER NOT NULL DEFAULT 0,
	deleted          INTEGER NOT NULL DEFAULT 0,
	size             INTEGER NOT NULL DEFAULT 0,
	UNIQUE (user_id, name)
);

CREATE TABLE subscriptions (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name    TEXT    NOT NULL,
	PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

CREATE TABLE messages (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	blob    BLOB    NOT NULL,
	size    INTEGER NOT NULL,
	header  BLOB    NOT NULL,
	parsed  BLOB    NOT NULL,
	date    INTEGER,
	UNIQUE (blob, user_id)
);
CREATE INDEX messages_user ON messages(user_id);

CREATE TABLE mailbox_messages (
	mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid           INTEGER NOT NULL,
	message_id    INTEGER NOT NULL REFERENCES messages(id),
	flags         INTEGER NOT NULL DEFAULT 0,
	keywords      TEXT    NOT NULL DEFAULT '',
	modseq        INTEGER NOT NULL,
	size          INTEGER NOT NULL,
	internal_date INTEGER NOT NULL,
	internal_tz   INTEGER NOT NULL DEFAULT 0,
	save_date     INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX mailbox_messages_modseq ON mailbox_messages(mailbox_id, modseq);
CREATE INDEX mailbox_messages_message ON mailbox_messages(message_id);
-- Partial index: EXPUNGE finds the \Deleted messages (bit 2) without a
-- mailbox scan; it stays tiny because few messages carry \Deleted.
CREATE INDEX mailbox_messages_deleted ON mailbox_messages(mailbox_id, uid) WHERE flags & 2 <> 0;

CREATE TABLE mailbox_keywords (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	folded     TEXT    NOT NULL,
	keyword    TEXT    NOT NULL,
	PRIMARY KEY (mailbox_id, folded)
) WITHOUT ROWID;

CREATE TABLE message_keywords (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	keyword    TEXT    NOT NULL,
	uid        INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, keyword, uid)
) WITHOUT ROWID;

CREATE TABLE expunged (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid        INTEGER NOT NULL,
	modseq     INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);
`,
	// 2: SCRAM-SHA-256 keys (scram.go).
	scramMigration,
	// 3: threads for RFC 8474 THREADID (threads.go).
	threadsMigration,
	// 4: URLAUTH keys (urlauth.go).
	urlauthMigration,
	// 5: labels, label folders and All Mail (labels.go); the mirrors of
	// existing mail are made by reconcileLabels at Open.
	labelsMigration,
	// 6: the thread trigger looks keys up by primary key (threads.go).
	threadsTriggerMigration,
}

// migrate brings the database to the latest schema version in one
// transaction.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		if err == sql.ErrNoRows {
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if v > len(migrations) {
			return fmt.Errorf("sqlite: database schema version %d is newer than this program (%d)", v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if _, err := tx.tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("sqlite: migration %d: %w", v+1, err)
			}
			if _, err := tx.tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v+1); err != nil {
				return err
			}
		}
		return nil
	})
}
