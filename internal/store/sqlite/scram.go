package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/casier/casier/internal/store"
)

// scramMigration adds the SCRAM-SHA-256 keys (RFC 5802 3) beside the
// password hash: "iterations$salt$storedkey$serverkey", base64 parts, NULL
// when none are stored. The trigger clears them whenever pass_hash changes,
// so a new password set by any path never leaves the old one usable
// through SCRAM.
//
// It is appended from here (one file per feature); it must stay the
// migration right after the initial schema: a later migration is appended
// after it, never before.
const scramMigration = `
ALTER TABLE users ADD COLUMN scram_sha256 TEXT;
CREATE TRIGGER users_scram_reset AFTER UPDATE OF pass_hash ON users
BEGIN
	UPDATE users SET scram_sha256 = NULL WHERE id = NEW.id;
END;
`

var _ store.SCRAMStore = (*Store)(nil)

// UserSCRAM returns the user called name and its SCRAM keys.
func (s *Store) UserSCRAM(ctx context.Context, name string) (store.User, store.SCRAMKeys, error) {
	var (
		u       store.User
		created int64
		enc     sql.NullString
	)
	err := s.rq().QueryRowContext(ctx, `SELECT id, name, pass_hash, created, scram_sha256 FROM users WHERE name = ?`, name).
		Scan(&u.ID, &u.Name, &u.PassHash, &created, &enc)
	if err == sql.ErrNoRows {
		return u, store.SCRAMKeys{}, fmt.Errorf("sqlite: user %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return u, store.SCRAMKeys{}, err
	}
	u.Created = time.Unix(created, 0)
	if !enc.Valid || enc.String == "" {
		return u, store.SCRAMKeys{}, nil
	}
	k, err := decodeSCRAM(enc.String)
	if err != nil {
		return u, store.SCRAMKeys{}, fmt.Errorf("sqlite: user %q: %w", name, err)
	}
	return u, k, nil
}

// SetSCRAMKeys stores a user's SCRAM keys.
func (s *Store) SetSCRAMKeys(ctx context.Context, name string, k store.SCRAMKeys) error {
	if k.Iterations <= 0 || len(k.Salt) == 0 || len(k.StoredKey) == 0 || len(k.ServerKey) == 0 {
		return fmt.Errorf("sqlite: incomplete SCRAM keys for %q", name)
	}
	enc := strconv.Itoa(k.Iterations) + "$" + b64.EncodeToString(k.Salt) + "$" +
		b64.EncodeToString(k.StoredKey) + "$" + b64.EncodeToString(k.ServerKey)
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET scram_sha256 = ? WHERE name = ?`, enc, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: user %q: %w", name, store.ErrNotFound)
		}
		return nil
	})
}

var b64 = base64.RawStdEncoding

func decodeSCRAM(s string) (store.SCRAMKeys, error) {
	var k store.SCRAMKeys
	parts := strings.Split(s, "$")
	if len(parts) != 4 {
		return k, fmt.Errorf("malformed SCRAM keys")
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n <= 0 {
		return k, fmt.Errorf("malformed SCRAM iteration count")
	}
	k.Iterations = n
	for i, dst := range []*[]byte{&k.Salt, &k.StoredKey, &k.ServerKey} {
		if *dst, err = b64.DecodeString(parts[i+1]); err != nil || len(*dst) == 0 {
			return store.SCRAMKeys{}, fmt.Errorf("malformed SCRAM keys")
		}
	}
	return k, nil
}
