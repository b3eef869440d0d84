package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/casier/casier/internal/store"
)

// The virtual mailboxes themselves: creating, renaming and deleting label
// folders and All Mail, and bringing a database in line with the label
// settings at Open (docs/labels.md).

// visibleFolders lists the user's folders whose messages virtual mailboxes
// show (all but Trash and Junk).
const visibleFolders = `SELECT id FROM mailboxes WHERE user_id = ? AND kind = 0 AND special_use NOT IN ('\Trash', '\Junk') ORDER BY id`

// allFolders lists the user's folders.
const allFolders = `SELECT id FROM mailboxes WHERE user_id = ? AND kind = 0 ORDER BY id`

// syncChunk bounds the entries one sync call reads at a time when a whole
// folder is brought up to date.
const syncChunk = 1000

// addVirtualMailboxes gives a user All Mail (subscribed) and the label
// root when they are missing and their names are free. ms is their
// initial modseq (0: new ones).
func (s *Store) addVirtualMailboxes(ctx context.Context, tx *Tx, user store.UserID, ms uint64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE user_id = ? AND kind = 1`, user).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		taken, err := mailboxExists(ctx, tx, user, allMailName)
		if err != nil {
			return err
		}
		if !taken {
			if _, err := insertMailbox(ctx, tx, user, allMailName, `\All`, store.KindAll, "", ms); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)`, user, allMailName); err != nil {
				return err
			}
		}
	}
	return s.newMirrorSync(tx, user).ensureRoot(ctx, ms)
}

// syncFolders brings the mirrors of every entry of the given folders up to
// date.
func (x *mirrorSync) syncFolders(ctx context.Context, folders []int64, ms uint64) error {
	for _, f := range folders {
		uids, err := queryUint32s(ctx, x.tx, `SELECT uid FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid`, f)
		if err != nil {
			return err
		}
		for len(uids) > 0 {
			n := min(len(uids), syncChunk)
			if err := x.sync(ctx, store.MailboxID(f), uids[:n], ms); err != nil {
				return err
			}
			uids = uids[n:]
		}
	}
	return nil
}

// createLabelTx creates the label folder name (under the prefix), or the
// label root itself when it is missing. Messages already carrying the
// keyword appear in the new folder.
func (a *Account) createLabelTx(ctx context.Context, tx *Tx, name, use string) (store.Mailbox, error) {
	cfg := a.s.labels
	x := a.s.newMirrorSync(tx, a.user)
	if name == cfg.prefix {
		if use != "" {
			return store.Mailbox{}, store.Cannot("the labels folder cannot have a special use")
		}
		if err := x.ensureRoot(ctx, 0); err != nil {
			return store.Mailbox{}, err
		}
		return mailboxByName(ctx, tx, a.user, name)
	}
	k := name[len(cfg.prefix)+1:]
	if err := cfg.checkLabelName(k); err != nil {
		return store.Mailbox{}, err
	}
	if use != "" {
		return store.Mailbox{}, store.Cannot("a label folder cannot have a special use")
	}
	var other store.MailboxID
	err := tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE user_id = ? AND kind = 2 AND label = ?`, a.user, fold(k)).Scan(&other)
	if err == nil {
		return store.Mailbox{}, fmt.Errorf("sqlite: label %q: %w", k, store.ErrExists)
	}
	if err != sql.ErrNoRows {
		return store.Mailbox{}, err
	}
	ms, err := nextModSeq(ctx, tx, a.user)
	if err != nil {
		return store.Mailbox{}, err
	}
	id, err := x.createLabel(ctx, k, ms)
	if err != nil {
		return store.Mailbox{}, err
	}
	folders, err := queryInt64s(ctx, tx, visibleFolders, a.user)
	if err != nil {
		return store.Mailbox{}, err
	}
	for _, f := range folders {
		uids, err := queryUint32s(ctx, tx, `SELECT uid FROM message_keywords WHERE mailbox_id = ? AND keyword = ? ORDER BY uid`, f, fold(k))
		if err != nil {
			return store.Mailbox{}, err
		}
		if err := x.sync(ctx, store.MailboxID(f), uids, ms); err != nil {
			return store.Mailbox{}, err
		}
	}
	if err := x.flush(ctx); err != nil {
		return store.Mailbox{}, err
	}
	return mailboxByID(ctx, tx, a.user, id)
}

// createAllMailTx creates an All Mail (there can be one) showing every
// message of the visible folders.
func (a *Account) createAllMailTx(ctx context.Context, tx *Tx, name string) (store.Mailbox, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE user_id = ? AND kind = 1`, a.user).Scan(&n); err != nil {
		return store.Mailbox{}, err
	}
	if n > 0 {
		return store.Mailbox{}, fmt.Errorf("sqlite: All Mail: %w", store.ErrExists)
	}
	if err := createParentsTx(ctx, tx, a.user, name); err != nil {
		return store.Mailbox{}, err
	}
	ms, err := nextModSeq(ctx, tx, a.user)
	if err != nil {
		return store.Mailbox{}, err
	}
	m, err := insertMailbox(ctx, tx, a.user, name, `\All`, store.KindAll, "", ms)
	if err != nil {
		return store.Mailbox{}, err
	}
	tx.publish(store.Change{User: a.user, Kind: store.ChangeMailboxes, Mailbox: m.ID, ModSeq: ms})
	folders, err := queryInt64s(ctx, tx, visibleFolders, a.user)
	if err != nil {
		return store.Mailbox{}, err
	}
	x := a.s.newMirrorSync(tx, a.user)
	if err := x.syncFolders(ctx, folders, ms); err != nil {
		return store.Mailbox{}, err
	}
	if err := x.flush(ctx); err != nil {
		return store.Mailbox{}, err
	}
	return mailboxByID(ctx, tx, a.user, m.ID)
}

// changeKeyword applies chg to every entry of the user's folders that
// carries keyword k (found through the keyword index) and syncs their
// mirrors.
func (a *Account) changeKeyword(ctx context.Context, tx *Tx, x *mirrorSync, k string, chg flagChange) error {
	folders, err := queryInt64s(ctx, tx, allFolders, a.user)
	if err != nil {
		return err
	}
	var ms uint64
	for _, f := range folders {
		uids, err := queryUint32s(ctx, tx, `SELECT uid FROM message_keywords WHERE mailbox_id = ? AND keyword = ? ORDER BY uid`, f, fold(k))
		if err != nil || len(uids) == 0 {
			if err != nil {
				return err
			}
			continue
		}
		_, rows, _, err := storeFlagsTx(ctx, tx, a.user, store.MailboxID(f), uids, chg, 0, &ms)
		if err != nil {
			return err
		}
		if err := x.syncFlags(ctx, store.MailboxID(f), rows, ms); err != nil {
			return err
		}
	}
	return x.flush(ctx)
}

// deleteLabelTx deletes label folder m and removes its label from every
// message (Trash and Junk included); no mail is deleted.
func (a *Account) deleteLabelTx(ctx context.Context, tx *Tx, m store.Mailbox) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE id = ?`, m.ID); err != nil {
		return err
	}
	return a.changeKeyword(ctx, tx, a.s.newMirrorSync(tx, a.user), m.Label, flagChange{del: []string{m.Label}})
}

// renameLabelTx renames label folder m to name, which must be a label
// folder name too: the folder keeps its UIDVALIDITY and UIDs, and every
// message carrying the old label carries the new one instead.
func (a *Account) renameLabelTx(ctx context.Context, tx *Tx, m store.Mailbox, name string) error {
	cfg := a.s.labels
	if !strings.HasPrefix(name, cfg.prefix+string(store.Separator)) {
		return store.Cannot("a label folder can only be renamed to another label folder")
	}
	k := name[len(cfg.prefix)+1:]
	if err := cfg.checkLabelName(k); err != nil {
		return err
	}
	taken, err := mailboxExists(ctx, tx, a.user, name)
	if err != nil {
		return err
	}
	var other store.MailboxID
	err = tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE user_id = ? AND kind = 2 AND label = ? AND id <> ?`, a.user, fold(k), m.ID).Scan(&other)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	if taken || err == nil {
		return fmt.Errorf("sqlite: mailbox %q: %w", name, store.ErrExists)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET name = ?, label = ? WHERE id = ?`, name, fold(k), m.ID); err != nil {
		return err
	}
	if err := moveSubscription(ctx, tx, a.user, m.Name, name); err != nil {
		return err
	}
	if fold(k) == fold(m.Label) {
		return nil // a new spelling of the same keyword
	}
	return a.changeKeyword(ctx, tx, a.s.newMirrorSync(tx, a.user), m.Label, flagChange{del: []string{m.Label}, add: []string{k}})
}

// reconcileLabels brings the database in line with the label settings, in
// one transaction, when they changed since the last Open (or migration 5
// has just added labels): label folders follow a new prefix, those of
// keywords that are no longer labels go, and every folder entry gets the
// mirrors it should have (new label folders included). The first time it
// also gives every user All Mail and the label root.
func (s *Store) reconcileLabels(ctx context.Context) error {
	var pending, have int64
	err := s.rq().QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'labels_backfill'`).Scan(&pending)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	err = s.rq().QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'labels_config'`).Scan(&have)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	h := s.labels.hash()
	if pending == 0 && err == nil && have == h {
		return nil
	}
	return s.write(ctx, func(tx *Tx) error {
		users, err := queryInt64s(ctx, tx, `SELECT id FROM users ORDER BY id`)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := s.reconcileUser(ctx, tx, store.UserID(u), pending != 0); err != nil {
				return fmt.Errorf("sqlite: labels of user %d: %w", u, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = 'labels_backfill'`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('labels_config', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, h)
		if err != nil {
			return err
		}
		// The settings themselves, for Options.KeepLabelSettings (meta
		// is not a STRICT table: the value column holds this text).
		js, err := json.Marshal(s.labels.settings())
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('labels_settings', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, string(js))
		return err
	})
}

// labelSettings is the stored form of the label settings.
type labelSettings struct {
	Prefix  string   `json:"prefix"`
	Exclude []string `json:"exclude"`
}

// loadLabelSettings replaces the label settings given to Open by those the
// data was last reconciled with, if any (Options.KeepLabelSettings).
func (s *Store) loadLabelSettings(ctx context.Context) error {
	var js string
	err := s.rq().QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'labels_settings'`).Scan(&js)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	var ls labelSettings
	if err := json.Unmarshal([]byte(js), &ls); err != nil {
		return fmt.Errorf("sqlite: stored label settings: %w", err)
	}
	if ls.Exclude == nil {
		ls.Exclude = []string{}
	}
	c, err := newLabelConfig(ls.Prefix, ls.Exclude)
	if err != nil {
		return err
	}
	s.labels = c
	return nil
}

// reconcileUser is reconcileLabels for one user.
func (s *Store) reconcileUser(ctx context.Context, tx *Tx, user store.UserID, first bool) error {
	ms, err := nextModSeq(ctx, tx, user)
	if err != nil {
		return err
	}
	if first {
		err = s.addVirtualMailboxes(ctx, tx, user, ms)
	} else {
		err = s.moveLabels(ctx, tx, user, ms)
	}
	if err != nil {
		return err
	}
	folders, err := queryInt64s(ctx, tx, allFolders, user)
	if err != nil {
		return err
	}
	x := s.newMirrorSync(tx, user)
	if err := x.syncFolders(ctx, folders, ms); err != nil {
		return err
	}
	return x.flush(ctx)
}

// moveLabels renames the user's label root and label folders to the
// current prefix, and deletes the label folders of keywords that are no
// longer labels. A label folder whose new name a folder has taken is
// deleted too (the keyword stays on the messages, as for any keyword that
// has no folder); a root whose new name is taken gives way to that folder.
func (s *Store) moveLabels(ctx context.Context, tx *Tx, user store.UserID, ms uint64) error {
	cfg := s.labels
	rows, err := tx.QueryContext(ctx, `SELECT id, name, kind FROM mailboxes WHERE user_id = ? AND kind IN (2, 3) ORDER BY kind DESC, id`, user)
	if err != nil {
		return err
	}
	type box struct {
		id   store.MailboxID
		name string
		kind store.MailboxKind
	}
	var boxes []box
	for rows.Next() {
		var b box
		if err := rows.Scan(&b.id, &b.name, &b.kind); err != nil {
			rows.Close()
			return err
		}
		boxes = append(boxes, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	drop := func(id store.MailboxID) error {
		tx.publish(store.Change{User: user, Kind: store.ChangeMailboxes, Mailbox: id})
		_, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE id = ?`, id)
		return err
	}
	move := func(b box, name string) error {
		tx.publish(store.Change{User: user, Kind: store.ChangeMailboxes, Mailbox: b.id})
		if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET name = ? WHERE id = ?`, name, b.id); err != nil {
			return err
		}
		return moveSubscription(ctx, tx, user, b.name, name)
	}
	var oldRoots []box
	for _, b := range boxes {
		want := cfg.prefix
		if b.kind == store.KindLabel {
			k := labelOf(b.name)
			if !cfg.isLabel(k) {
				if err := drop(b.id); err != nil {
					return err
				}
				continue
			}
			want = cfg.labelName(k)
		}
		if b.name == want {
			continue
		}
		taken, err := mailboxExists(ctx, tx, user, want)
		if err != nil {
			return err
		}
		switch {
		case !taken:
			err = move(b, want)
		case b.kind == store.KindLabel:
			err = drop(b.id)
		default:
			oldRoots = append(oldRoots, b)
		}
		if err != nil {
			return err
		}
	}
	for _, b := range oldRoots {
		lo, hi := childRange(b.name)
		var kids int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE user_id = ? AND name >= ? AND name < ?`, user, lo, hi).Scan(&kids); err != nil {
			return err
		}
		if kids == 0 {
			if err := drop(b.id); err != nil {
				return err
			}
		}
	}
	// A renamed root may need parents (a prefix with several levels).
	if err := createParentsTx(ctx, tx, user, cfg.prefix); err != nil {
		return err
	}
	return s.newMirrorSync(tx, user).ensureRoot(ctx, ms)
}
