package sqlite

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/casier/casier/internal/store"
)

func TestSCRAMKeys(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, "alice", "$argon2id$x"); err != nil {
		t.Fatal(err)
	}
	// A new user has no keys until they are set.
	u, k, err := s.UserSCRAM(ctx, "alice")
	if err != nil || u.Name != "alice" || u.PassHash != "$argon2id$x" || k.Iterations != 0 || k.Salt != nil {
		t.Fatalf("UserSCRAM(new) = %+v, %+v, %v", u, k, err)
	}
	want := store.SCRAMKeys{Salt: []byte("salt-salt"), Iterations: 4096, StoredKey: bytes.Repeat([]byte{1}, 32), ServerKey: bytes.Repeat([]byte{2}, 32)}
	if err := s.SetSCRAMKeys(ctx, "alice", want); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSCRAMKeys(ctx, "nobody", want); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetSCRAMKeys(nobody) = %v", err)
	}
	if err := s.SetSCRAMKeys(ctx, "alice", store.SCRAMKeys{}); err == nil {
		t.Fatal("empty keys accepted")
	}
	if _, _, err := s.UserSCRAM(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UserSCRAM(nobody) = %v", err)
	}
	s.Close()

	// Kept across a reopen (the migration does not run twice).
	s, err = Open(dir, Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, k, err = s.UserSCRAM(ctx, "alice")
	if err != nil || k.Iterations != 4096 || !bytes.Equal(k.Salt, want.Salt) || !bytes.Equal(k.StoredKey, want.StoredKey) || !bytes.Equal(k.ServerKey, want.ServerKey) {
		t.Fatalf("UserSCRAM after reopen = %+v, %v", k, err)
	}
	// A new password clears the keys: the old password must not keep
	// working through SCRAM.
	if err := s.SetPassword(ctx, "alice", "$argon2id$y"); err != nil {
		t.Fatal(err)
	}
	if _, k, err := s.UserSCRAM(ctx, "alice"); err != nil || k.Iterations != 0 {
		t.Fatalf("UserSCRAM after SetPassword = %+v, %v", k, err)
	}
}
