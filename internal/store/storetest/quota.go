package storetest

import (
	"bytes"
	"testing"

	"github.com/casier/casier/internal/store"
)

func quota(t *testing.T, a store.Account) store.Quota {
	t.Helper()
	q, err := a.Quota(ctx)
	if err != nil {
		t.Fatalf("Quota: %v", err)
	}
	return q
}

// testQuota checks RFC 9208 usage accounting (every mailbox entry counts,
// copies too) and enforcement: an operation that would pass a limit
// fails with ErrOverQuota and changes nothing.
func testQuota(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	b := account(t, s, "bob")
	in := mbox(t, a, "INBOX")
	arch := mbox(t, a, "Archive")
	trash := mbox(t, a, "Trash")
	sz := int64(len(msg(1))) // msg(0..9) have the same length

	eq(t, "new user", quota(t, a), store.Quota{})
	wantErr(t, s.SetQuota(ctx, "nobody", 10, 10), store.ErrNotFound)
	if err := s.SetQuota(ctx, "alice", -1, 0); err == nil {
		t.Fatal("negative limit accepted")
	}

	appendN(t, a, in.ID, 0, 3)
	if _, err := a.Copy(ctx, in.ID, []uint32{1, 2}, arch.ID); err != nil {
		t.Fatal(err)
	}
	// Copies count: 5 entries, 3 bodies.
	eq(t, "usage after copy", quota(t, a), store.Quota{StorageUsed: 5 * sz, MessagesUsed: 5})
	if _, err := a.Move(ctx, arch.ID, []uint32{1}, trash.ID); err != nil {
		t.Fatal(err)
	}
	eq(t, "usage after move", quota(t, a), store.Quota{StorageUsed: 5 * sz, MessagesUsed: 5})
	eq(t, "bob untouched", quota(t, b), store.Quota{})

	// MESSAGE limit: one more fits, the next is refused and leaves no trace.
	if err := s.SetQuota(ctx, "alice", 0, 6); err != nil {
		t.Fatal(err)
	}
	appendRaw(t, a, in.ID, msg(3))
	before := status(t, a, in.ID)
	blobsBefore, counted := blobCount(t, s)
	_, err := a.Append(ctx, in.ID, store.AppendRequest{Body: bytes.NewReader(msg(4)), Size: sz})
	wantErr(t, err, store.ErrOverQuota)
	after := checkCounters(t, a, in.ID)
	if after.Messages != before.Messages || after.UIDNext != before.UIDNext || after.HighestModSeq != before.HighestModSeq {
		t.Fatalf("refused append changed INBOX: %+v -> %+v", before, after)
	}
	if n, _ := blobCount(t, s); counted && n != blobsBefore {
		t.Fatalf("refused append left %d body files, had %d", n, blobsBefore)
	}
	_, err = a.Copy(ctx, in.ID, []uint32{1}, arch.ID)
	wantErr(t, err, store.ErrOverQuota)
	eq(t, "Archive after refused copy", uidsOf(entries(t, a, arch.ID)), []uint32{2})
	_, err = a.AppendBatch(ctx, arch.ID, []store.BatchMessage{{Body: msg(5)}})
	wantErr(t, err, store.ErrOverQuota)
	eq(t, "Archive after refused batch", uidsOf(entries(t, a, arch.ID)), []uint32{2})
	eq(t, "usage at the limit", quota(t, a), store.Quota{MessageLimit: 6, StorageUsed: 6 * sz, MessagesUsed: 6})
	// Moving within the account is neutral, so allowed at the limit.
	if _, err := a.Move(ctx, in.ID, []uint32{4}, arch.ID); err != nil {
		t.Fatalf("Move at the limit: %v", err)
	}
	// Bob has no limit.
	appendN(t, b, mbox(t, b, "INBOX").ID, 0, 7)

	// STORAGE limit in bytes: one byte short of another message.
	if err := s.SetQuota(ctx, "alice", 7*sz-1, 0); err != nil {
		t.Fatal(err)
	}
	_, err = a.Append(ctx, in.ID, store.AppendRequest{Body: bytes.NewReader(msg(4)), Size: sz})
	wantErr(t, err, store.ErrOverQuota)
	if err := s.SetQuota(ctx, "alice", 7*sz, 0); err != nil {
		t.Fatal(err)
	}
	appendRaw(t, a, in.ID, msg(4))
	eq(t, "storage at the limit", quota(t, a), store.Quota{StorageLimit: 7 * sz, StorageUsed: 7 * sz, MessagesUsed: 7})

	// Expunge frees; DeletedSize says how much it will.
	setFlags(t, a, in.ID, store.FlagsAdd, []string{store.FlagDeleted}, 1, 2)
	ds, err := a.DeletedSize(ctx, in.ID)
	if err != nil || ds != 2*sz {
		t.Fatalf("DeletedSize = %d, %v; want %d", ds, err, 2*sz)
	}
	if ds, err := a.DeletedSize(ctx, arch.ID); err != nil || ds != 0 {
		t.Fatalf("DeletedSize(Archive) = %d, %v; want 0", ds, err)
	}
	_, err = b.DeletedSize(ctx, in.ID)
	wantErr(t, err, store.ErrNoMailbox)
	if _, err := a.Expunge(ctx, in.ID, nil); err != nil {
		t.Fatal(err)
	}
	eq(t, "after expunge", quota(t, a), store.Quota{StorageLimit: 7 * sz, StorageUsed: 5 * sz, MessagesUsed: 5})

	// Removing the limits lifts enforcement.
	if err := s.SetQuota(ctx, "alice", 0, 0); err != nil {
		t.Fatal(err)
	}
	appendN(t, a, in.ID, 5, 3)
	eq(t, "limits removed", quota(t, a), store.Quota{StorageUsed: 8 * sz, MessagesUsed: 8})
}
