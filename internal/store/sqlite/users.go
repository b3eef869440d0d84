package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
)

// defaultMailboxes are created with every user, all subscribed, with All
// Mail (subscribed too) and the label root (addVirtualMailboxes). RFC 6154
// special-use attributes let clients find them whatever the language.
var defaultMailboxes = []struct{ name, use string }{
	{"INBOX", ""},
	{"Sent", `\Sent`},
	{"Drafts", `\Drafts`},
	{"Trash", `\Trash`},
	{"Junk", `\Junk`},
	{"Archive", `\Archive`},
}

func validUserName(name string) error {
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "\x00\r\n") {
		return fmt.Errorf("sqlite: invalid user name %q", name)
	}
	return nil
}

// CreateUser creates a user with the default folders.
func (s *Store) CreateUser(ctx context.Context, name, passHash string) (store.User, error) {
	if err := validUserName(name); err != nil {
		return store.User{}, err
	}
	var u store.User
	err := s.write(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("sqlite: user %q: %w", name, store.ErrExists)
		}
		now := time.Now().Truncate(time.Second)
		res, err := tx.ExecContext(ctx, `INSERT INTO users (name, pass_hash, created) VALUES (?, ?, ?)`, name, passHash, now.Unix())
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		u = store.User{ID: store.UserID(id), Name: name, PassHash: passHash, Created: now}
		for _, d := range defaultMailboxes {
			if _, err := createMailboxTx(ctx, tx, u.ID, d.name, d.use); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)`, u.ID, d.name); err != nil {
				return err
			}
		}
		// All Mail and the parent of the label folders (docs/labels.md).
		return s.addVirtualMailboxes(ctx, tx, u.ID, 0)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var created int64
	if err := row.Scan(&u.ID, &u.Name, &u.PassHash, &created); err != nil {
		return u, err
	}
	u.Created = time.Unix(created, 0)
	return u, nil
}

// User returns the user called name.
func (s *Store) User(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.rq().QueryRowContext(ctx, `SELECT id, name, pass_hash, created FROM users WHERE name = ?`, name))
	if err == sql.ErrNoRows {
		return u, fmt.Errorf("sqlite: user %q: %w", name, store.ErrNotFound)
	}
	return u, err
}

// Users returns all users sorted by name.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.rq().QueryContext(ctx, `SELECT id, name, pass_hash, created FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, name, passHash string) error {
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET pass_hash = ? WHERE name = ?`, passHash, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: user %q: %w", name, store.ErrNotFound)
		}
		return nil
	})
}

// DeleteUser removes a user and all their mail.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	var id store.UserID
	var blobs []blobstore.Hash
	err := s.write(ctx, func(tx *Tx) error {
		blobs = nil
		if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE name = ?`, name).Scan(&id); err != nil {
			if err == sql.ErrNoRows {
				return fmt.Errorf("sqlite: user %q: %w", name, store.ErrNotFound)
			}
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT blob FROM messages WHERE user_id = ?`, id)
		if err != nil {
			return err
		}
		blobs, err = scanHashes(rows)
		if err != nil {
			return err
		}
		// Children first: mailbox_messages references messages without
		// a cascade, so the mailboxes (and their rows) must go before the
		// user row cascades to messages.
		if _, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE user_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return err
	}
	s.collect(ctx, blobs)
	s.hub.Publish(store.Change{User: id, Kind: store.ChangeMailboxes})
	return nil
}

// Account returns the handle on a user's mail.
func (s *Store) Account(ctx context.Context, id store.UserID) (store.Account, error) {
	var n int
	if err := s.rq().QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("sqlite: user %d: %w", id, store.ErrNotFound)
	}
	return &Account{s: s, user: id}, nil
}

// Account is one user's mail in the SQLite engine.
type Account struct {
	s    *Store
	user store.UserID
}

var _ store.Account = (*Account)(nil)

// UserID returns the account's user.
func (a *Account) UserID() store.UserID { return a.user }

func scanHashes(rows *sql.Rows) ([]blobstore.Hash, error) {
	defer rows.Close()
	var out []blobstore.Hash
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var h blobstore.Hash
		copy(h[:], b)
		out = append(out, h)
	}
	return out, rows.Err()
}
