package sqlite

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/casier/casier/internal/store"
)

func TestURLAuthKeys(t *testing.T) {
	s, err := Open(t.TempDir(), Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	alice, err := s.CreateUser(ctx, "alice", "$argon2id$x")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := s.CreateUser(ctx, "bob", "$argon2id$x")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := s.Account(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := acct.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	other, err := acct.CreateMailbox(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.URLAuthKey(ctx, alice.ID, inbox.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("URLAuthKey before create = %v, want ErrNotFound", err)
	}
	k1, err := s.URLAuthKey(ctx, alice.ID, inbox.ID, true)
	if err != nil || len(k1) != 32 {
		t.Fatalf("URLAuthKey(create) = %x, %v", k1, err)
	}
	if k, err := s.URLAuthKey(ctx, alice.ID, inbox.ID, true); err != nil || !bytes.Equal(k, k1) {
		t.Fatalf("second URLAuthKey = %x, %v; want the same key", k, err)
	}
	k2, err := s.URLAuthKey(ctx, alice.ID, other.ID, true)
	if err != nil || bytes.Equal(k2, k1) {
		t.Fatalf("Other key = %x, %v; want a different key", k2, err)
	}
	// Bob cannot get or create a key for alice's mailbox.
	if _, err := s.URLAuthKey(ctx, bob.ID, inbox.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob URLAuthKey = %v", err)
	}
	if _, err := s.URLAuthKey(ctx, bob.ID, inbox.ID, true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob URLAuthKey(create) = %v", err)
	}

	// RESETKEY of one mailbox.
	if err := s.ResetURLAuthKeys(ctx, alice.ID, inbox.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.URLAuthKey(ctx, alice.ID, inbox.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after reset = %v", err)
	}
	if k, err := s.URLAuthKey(ctx, alice.ID, other.ID, false); err != nil || !bytes.Equal(k, k2) {
		t.Fatalf("Other after INBOX reset = %x, %v", k, err)
	}
	// RESETKEY of all; then a deleted mailbox takes its key along.
	if err := s.ResetURLAuthKeys(ctx, alice.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.URLAuthKey(ctx, alice.ID, other.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after reset all = %v", err)
	}
	if _, err := s.URLAuthKey(ctx, alice.ID, other.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := acct.DeleteMailbox(ctx, "Other"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.rq().QueryRowContext(ctx, `SELECT count(*) FROM urlauth_keys`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("keys left after DeleteMailbox: %d, %v", n, err)
	}
}
