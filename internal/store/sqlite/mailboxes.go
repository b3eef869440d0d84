package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
)

// querier is what *sql.Tx and *sql.DB have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const mailboxCols = `m.id, m.name, m.uidvalidity, m.uidnext, m.highestmodseq, m.special_use,
	EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = m.user_id AND s.name = m.name), m.kind`

// mailboxDest lists the destinations of mailboxCols, plus more.
func mailboxDest(m *store.Mailbox, more ...any) []any {
	return append([]any{&m.ID, &m.Name, &m.UIDValidity, &m.UIDNext, &m.HighestModSeq, &m.SpecialUse, &m.Subscribed, &m.Kind}, more...)
}

// finishMailbox sets the fields derived from the columns: a label
// folder's Label is the last level of its name.
func finishMailbox(m *store.Mailbox) {
	if m.Kind == store.KindLabel {
		m.Label = labelOf(m.Name)
	}
}

func scanMailbox(row interface{ Scan(...any) error }) (store.Mailbox, error) {
	var m store.Mailbox
	err := row.Scan(mailboxDest(&m)...)
	finishMailbox(&m)
	return m, err
}

func mailboxByName(ctx context.Context, q querier, user store.UserID, name string) (store.Mailbox, error) {
	m, err := scanMailbox(q.QueryRowContext(ctx, `SELECT `+mailboxCols+` FROM mailboxes m WHERE m.user_id = ? AND m.name = ?`, user, name))
	if err == sql.ErrNoRows {
		return m, fmt.Errorf("sqlite: mailbox %q: %w", name, store.ErrNoMailbox)
	}
	return m, err
}

func mailboxByID(ctx context.Context, q querier, user store.UserID, id store.MailboxID) (store.Mailbox, error) {
	m, err := scanMailbox(q.QueryRowContext(ctx, `SELECT `+mailboxCols+` FROM mailboxes m WHERE m.id = ? AND m.user_id = ?`, id, user))
	if err == sql.ErrNoRows {
		return m, fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
	}
	return m, err
}

func mailboxExists(ctx context.Context, q querier, user store.UserID, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE user_id = ? AND name = ?`, user, name).Scan(&n)
	return n > 0, err
}

// createMailboxTx inserts one folder (its parents must exist or not
// matter).
func createMailboxTx(ctx context.Context, tx *Tx, user store.UserID, name, use string) (store.Mailbox, error) {
	return insertMailbox(ctx, tx, user, name, use, store.KindFolder, "", 0)
}

// insertMailbox inserts one mailbox of the given kind (label: the folded
// keyword of a label folder). Its HIGHESTMODSEQ starts at ms, or at a new
// modseq when ms is 0, so above zero and above anything a deleted namesake
// ever had; a mailbox created to receive entries at the current
// transaction's modseq passes that one.
func insertMailbox(ctx context.Context, tx *Tx, user store.UserID, name, use string, kind store.MailboxKind, label string, ms uint64) (store.Mailbox, error) {
	uv, err := nextUIDValidity(ctx, tx)
	if err != nil {
		return store.Mailbox{}, err
	}
	if ms == 0 {
		if ms, err = nextModSeq(ctx, tx, user); err != nil {
			return store.Mailbox{}, err
		}
	}
	var id store.MailboxID
	err = tx.QueryRowContext(ctx, `INSERT INTO mailboxes (user_id, name, uidvalidity, highestmodseq, special_use, kind, label)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, user, name, uv, ms, use, kind, label).Scan(&id)
	if err != nil {
		return store.Mailbox{}, err
	}
	return mailboxByID(ctx, tx, user, id)
}

// createParentsTx creates the missing ancestors of name (RFC 9051 6.3.4).
func createParentsTx(ctx context.Context, tx *Tx, user store.UserID, name string) error {
	for _, p := range parents(name) {
		ok, err := mailboxExists(ctx, tx, user, p)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := createMailboxTx(ctx, tx, user, p, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// Mailboxes returns all mailboxes sorted by name.
func (a *Account) Mailboxes(ctx context.Context) ([]store.Mailbox, error) {
	rows, err := a.s.rq().QueryContext(ctx, `SELECT `+mailboxCols+` FROM mailboxes m WHERE m.user_id = ? ORDER BY m.name`, a.user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Mailbox
	for rows.Next() {
		m, err := scanMailbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Mailbox returns the mailbox called name.
func (a *Account) Mailbox(ctx context.Context, name string) (store.Mailbox, error) {
	n, err := lookupName(name)
	if err != nil {
		return store.Mailbox{}, err
	}
	return mailboxByName(ctx, a.s.rq(), a.user, n)
}

// CreateMailbox creates name and its missing parents. Under the label
// prefix it creates a label folder; with the special use \All, a new All
// Mail (labelsetup.go).
func (a *Account) CreateMailbox(ctx context.Context, name, specialUse string) (store.Mailbox, error) {
	n, err := normName(name)
	if err != nil {
		return store.Mailbox{}, err
	}
	use, err := normSpecialUse(specialUse)
	if err != nil {
		return store.Mailbox{}, err
	}
	var m store.Mailbox
	err = a.s.write(ctx, func(tx *Tx) error {
		ok, err := mailboxExists(ctx, tx, a.user, n)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("sqlite: mailbox %q: %w", n, store.ErrExists)
		}
		switch {
		case a.s.labels.inPrefix(n):
			m, err = a.createLabelTx(ctx, tx, n, use)
			return err
		case use == `\All`:
			m, err = a.createAllMailTx(ctx, tx, n)
			return err
		}
		if err := createParentsTx(ctx, tx, a.user, n); err != nil {
			return err
		}
		m, err = createMailboxTx(ctx, tx, a.user, n, use)
		if err == nil {
			tx.publish(store.Change{User: a.user, Kind: store.ChangeMailboxes, Mailbox: m.ID, ModSeq: m.HighestModSeq})
		}
		return err
	})
	if err != nil {
		return store.Mailbox{}, err
	}
	return m, nil
}

// DeleteMailbox deletes a mailbox without children, with its messages.
// Deleting a label folder removes the label from every message and deletes
// no mail; the label root cannot be deleted.
func (a *Account) DeleteMailbox(ctx context.Context, name string) error {
	n, err := lookupName(name)
	if err != nil {
		return err
	}
	if n == "INBOX" {
		return fmt.Errorf("sqlite: %w", store.ErrInbox)
	}
	var id store.MailboxID
	var blobs []blobstore.Hash
	err = a.s.write(ctx, func(tx *Tx) error {
		blobs = nil
		m, err := mailboxByName(ctx, tx, a.user, n)
		if err != nil {
			return err
		}
		id = m.ID
		if m.Kind == store.KindLabelRoot {
			return store.Cannot("the labels folder cannot be deleted")
		}
		// We keep no \Noselect placeholders, so a parent cannot outlive
		// its children: refuse, as Dovecot does (RFC 9051 6.3.5 leaves
		// the choice to the server).
		lo, hi := childRange(n)
		var kids int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE user_id = ? AND name >= ? AND name < ?`, a.user, lo, hi).Scan(&kids); err != nil {
			return err
		}
		if kids > 0 {
			return fmt.Errorf("sqlite: mailbox %q: %w", n, store.ErrHasChildren)
		}
		tx.publish(store.Change{User: a.user, Kind: store.ChangeMailboxes, Mailbox: id})
		switch m.Kind {
		case store.KindLabel:
			return a.deleteLabelTx(ctx, tx, m)
		case store.KindAll:
			// Its entries and mirrors go with it (ON DELETE CASCADE); the
			// messages stay in their folders.
			_, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE id = ?`, id)
			return err
		}
		msgs, err := queryInt64s(ctx, tx, `SELECT DISTINCT message_id FROM mailbox_messages WHERE mailbox_id = ?`, id)
		if err != nil {
			return err
		}
		// The folder's messages leave the virtual mailboxes first (with
		// tombstones there): deleting the folder would only drop the
		// mirrors links.
		mx := a.s.newMirrorSync(tx, a.user)
		var ms uint64
		err = mx.dropAll(ctx, id, func() (uint64, error) {
			var err error
			ms, err = nextModSeq(ctx, tx, a.user)
			return ms, err
		})
		if err != nil {
			return err
		}
		if err := mx.flush(ctx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE id = ?`, id); err != nil {
			return err
		}
		blobs, err = dropOrphans(ctx, tx, msgs)
		return err
	})
	if err != nil {
		return err
	}
	a.s.collect(ctx, blobs)
	return nil
}

// RenameMailbox renames a mailbox and its subtree; renaming INBOX moves its
// messages to a new mailbox instead (RFC 9051 6.3.6).
func (a *Account) RenameMailbox(ctx context.Context, oldName, newName string) error {
	from, err := lookupName(oldName)
	if err != nil {
		return err
	}
	to, err := normName(newName)
	if err != nil {
		return err
	}
	if from == "INBOX" {
		return a.renameInbox(ctx, to)
	}
	lo, hi := childRange(from)
	if to == from {
		return fmt.Errorf("sqlite: mailbox %q: %w", to, store.ErrExists)
	}
	if to >= lo && to < hi {
		return fmt.Errorf("sqlite: cannot rename %q under itself: %w", from, store.ErrInvalidName)
	}
	var id store.MailboxID
	err = a.s.write(ctx, func(tx *Tx) error {
		m, err := mailboxByName(ctx, tx, a.user, from)
		if err != nil {
			return err
		}
		id = m.ID
		switch {
		case m.Kind == store.KindLabelRoot:
			return store.Cannot("the labels folder cannot be renamed")
		case m.Kind == store.KindLabel:
			return a.renameLabelTx(ctx, tx, m, to)
		case a.s.labels.inPrefix(to):
			return store.Cannot("a folder cannot be moved into the labels folder")
		}
		var virt int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE user_id = ? AND name >= ? AND name < ? AND kind IN (2, 3)`,
			a.user, lo, hi).Scan(&virt); err != nil {
			return err
		}
		if virt > 0 {
			return store.Cannot("the labels folder cannot be moved")
		}
		type mbox struct {
			id   int64
			name string
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM mailboxes WHERE user_id = ? AND name >= ? AND name < ?`, a.user, lo, hi)
		if err != nil {
			return err
		}
		subtree := []mbox{{int64(m.ID), m.Name}}
		for rows.Next() {
			var b mbox
			if err := rows.Scan(&b.id, &b.name); err != nil {
				rows.Close()
				return err
			}
			subtree = append(subtree, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, b := range subtree {
			nn := to + b.name[len(from):]
			if len(nn) > maxNameLen {
				return fmt.Errorf("sqlite: mailbox name %q too long: %w", nn, store.ErrInvalidName)
			}
			ok, err := mailboxExists(ctx, tx, a.user, nn)
			if err != nil {
				return err
			}
			if ok {
				return fmt.Errorf("sqlite: mailbox %q: %w", nn, store.ErrExists)
			}
		}
		if err := createParentsTx(ctx, tx, a.user, to); err != nil {
			return err
		}
		for _, b := range subtree {
			nn := to + b.name[len(from):]
			if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET name = ? WHERE id = ?`, nn, b.id); err != nil {
				return err
			}
		}
		for _, b := range subtree {
			if err := moveSubscription(ctx, tx, a.user, b.name, to+b.name[len(from):]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.s.hub.Publish(store.Change{User: a.user, Kind: store.ChangeMailboxes, Mailbox: id})
	a.s.hub.Publish(store.Change{User: a.user, Kind: store.ChangeSubscription})
	return nil
}

// moveSubscription makes a subscription follow a renamed mailbox, as users
// expect (and as Dovecot and Cyrus do); subscriptions to names that do not
// exist are left alone.
func moveSubscription(ctx context.Context, tx *Tx, user store.UserID, from, to string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE user_id = ? AND name = ?`, user, from)
	if err != nil {
		return err
	}
	if k, _ := res.RowsAffected(); k > 0 {
		_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)`, user, to)
	}
	return err
}

// renameInbox creates to and moves every INBOX message into it; INBOX
// stays, empty, with its children (RFC 9051 6.3.6). The messages keep
// their UIDs in All Mail and the label folders.
func (a *Account) renameInbox(ctx context.Context, to string) error {
	if to == "INBOX" {
		return fmt.Errorf("sqlite: mailbox %q: %w", to, store.ErrExists)
	}
	if a.s.labels.inPrefix(to) {
		return store.Cannot("a folder cannot be moved into the labels folder")
	}
	var inbox, dst store.Mailbox
	var ms uint64
	err := a.s.write(ctx, func(tx *Tx) error {
		ms = 0
		var err error
		inbox, err = mailboxByName(ctx, tx, a.user, "INBOX")
		if err != nil {
			return err
		}
		ok, err := mailboxExists(ctx, tx, a.user, to)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("sqlite: mailbox %q: %w", to, store.ErrExists)
		}
		if err := createParentsTx(ctx, tx, a.user, to); err != nil {
			return err
		}
		if dst, err = createMailboxTx(ctx, tx, a.user, to, ""); err != nil {
			return err
		}
		uids, err := queryUint32s(ctx, tx, `SELECT uid FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid`, inbox.ID)
		if err != nil {
			return err
		}
		if len(uids) == 0 {
			return nil
		}
		ms, err = nextModSeq(ctx, tx, a.user)
		if err != nil {
			return err
		}
		mx := a.s.newMirrorSync(tx, a.user)
		if _, err := copyTx(ctx, tx, mx, inbox.ID, uids, dst.ID, ms, true, true); err != nil {
			return err
		}
		return mx.flush(ctx)
	})
	if err != nil {
		return err
	}
	a.s.hub.Publish(store.Change{User: a.user, Kind: store.ChangeMailboxes, Mailbox: dst.ID, ModSeq: dst.HighestModSeq})
	return nil
}

// Subscribe adds or removes name from the subscriptions; the mailbox need
// not exist (RFC 9051 6.3.7).
func (a *Account) Subscribe(ctx context.Context, name string, on bool) error {
	n, err := normName(name)
	if err != nil {
		return err
	}
	err = a.s.write(ctx, func(tx *Tx) error {
		var err error
		if on {
			_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)`, a.user, n)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE user_id = ? AND name = ?`, a.user, n)
		}
		return err
	})
	if err != nil {
		return err
	}
	a.s.hub.Publish(store.Change{User: a.user, Kind: store.ChangeSubscription})
	return nil
}

// Subscriptions returns the subscribed names, sorted.
func (a *Account) Subscriptions(ctx context.Context) ([]string, error) {
	rows, err := a.s.rq().QueryContext(ctx, `SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name`, a.user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Status returns the mailbox counters, read from the mailbox row: no
// message is scanned, whatever the mailbox size.
func (a *Account) Status(ctx context.Context, id store.MailboxID) (store.MailboxStatus, error) {
	var st store.MailboxStatus
	err := a.s.read(ctx, func(tx *Tx) error {
		st = store.MailboxStatus{}
		err := tx.QueryRowContext(ctx, `SELECT `+mailboxCols+`, m.messages, m.unseen, m.deleted, m.size, m.first_recent_uid, m.recent
			FROM mailboxes m WHERE m.id = ? AND m.user_id = ?`, id, a.user).Scan(
			mailboxDest(&st.Mailbox, &st.Messages, &st.Unseen, &st.Deleted, &st.Size, &st.FirstRecentUID, &st.Recent)...)
		finishMailbox(&st.Mailbox)
		if err == sql.ErrNoRows {
			return fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
		}
		if err != nil {
			return err
		}
		st.Keywords, err = mailboxKeywords(ctx, tx, id)
		return err
	})
	return st, err
}

// ClaimRecent makes every current message non-recent for later sessions
// and returns the first UID that was recent (RFC 3501 2.3.2).
//
// Most SELECTs find nothing recent, so the mailbox row is read first and
// the write lock (shared with every delivery, and with other processes) is
// taken only when there is something to claim. The write transaction reads
// the row again: a session that claimed in between leaves nothing for us,
// so two racing sessions never both report the same message as recent.
func (a *Account) ClaimRecent(ctx context.Context, id store.MailboxID) (uint32, error) {
	var first, next uint32
	err := a.s.rq().QueryRowContext(ctx, `SELECT first_recent_uid, uidnext FROM mailboxes WHERE id = ? AND user_id = ?`, id, a.user).Scan(&first, &next)
	if err == sql.ErrNoRows {
		return 0, fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
	}
	if err != nil {
		return 0, err
	}
	if first >= next {
		return first, nil
	}
	err = a.s.write(ctx, func(tx *Tx) error {
		var next uint32
		err := tx.QueryRowContext(ctx, `SELECT first_recent_uid, uidnext FROM mailboxes WHERE id = ? AND user_id = ?`, id, a.user).Scan(&first, &next)
		if err == sql.ErrNoRows {
			return fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
		}
		if err != nil {
			return err
		}
		if first < next {
			_, err = tx.ExecContext(ctx, `UPDATE mailboxes SET first_recent_uid = ?, recent = 0 WHERE id = ?`, next, id)
		}
		return err
	})
	return first, err
}

func queryInt64s(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func queryUint32s(ctx context.Context, q querier, query string, args ...any) ([]uint32, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
