package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/casier/casier/internal/store"
)

func testDedupe(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	b := account(t, s, "bob")
	in := mbox(t, a, "INBOX").ID
	sent := mbox(t, a, "Sent").ID
	raw := msg(1)
	r1 := appendRaw(t, a, in, raw)
	r2 := appendRaw(t, a, sent, raw)
	r3 := appendRaw(t, a, in, raw)
	if r1.MessageID != r2.MessageID || r1.MessageID != r3.MessageID {
		t.Fatalf("same body, different MessageIDs: %d %d %d", r1.MessageID, r2.MessageID, r3.MessageID)
	}
	if r3.UID != 2 {
		t.Fatalf("second copy in INBOX got UID %d", r3.UID)
	}
	rb := appendRaw(t, b, mbox(t, b, "INBOX").ID, raw)
	if rb.MessageID == r1.MessageID {
		t.Fatal("two users share a MessageID")
	}
	if n, ok := blobCount(t, s); ok && n != 1 {
		t.Fatalf("%d body files for one content, want 1", n)
	}
	eq(t, "bob's body", readBody(t, b, rb.MessageID), raw)
	checkCounters(t, a, in)
}

func testCollect(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	arch := mbox(t, a, "Archive").ID
	keep := appendRaw(t, a, in, msg(1))
	gone := appendRaw(t, a, in, msg(2))
	if _, err := a.Copy(ctx, in, []uint32{gone.UID}, arch); err != nil {
		t.Fatal(err)
	}
	count := func(want int) {
		t.Helper()
		if n, ok := blobCount(t, s); ok && n != want {
			t.Fatalf("%d body files, want %d", n, want)
		}
	}
	count(2)
	setFlags(t, a, in, store.FlagsAdd, []string{store.FlagDeleted}, gone.UID)
	if _, err := a.Expunge(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	count(2) // still referenced from Archive
	eq(t, "body via Archive", readBody(t, a, gone.MessageID), msg(2))
	setFlags(t, a, arch, store.FlagsAdd, []string{store.FlagDeleted}, 1)
	if _, err := a.Expunge(ctx, arch, nil); err != nil {
		t.Fatal(err)
	}
	count(1)
	_, err := a.OpenBody(ctx, gone.MessageID)
	wantErr(t, err, store.ErrNotFound)
	eq(t, "other body", readBody(t, a, keep.MessageID), msg(1))

	// Deleting a mailbox releases its bodies too.
	x := create(t, a, "X")
	appendRaw(t, a, x.ID, msg(3))
	count(2)
	if err := a.DeleteMailbox(ctx, "X"); err != nil {
		t.Fatal(err)
	}
	count(1)
	// Appending a body again after its collection stores it again.
	r := appendRaw(t, a, in, msg(2))
	eq(t, "re-appended body", readBody(t, a, r.MessageID), msg(2))
	count(2)
}

func testDeleteUser(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	b := account(t, s, "bob")
	appendRaw(t, a, mbox(t, a, "INBOX").ID, msg(1))
	appendRaw(t, a, mbox(t, a, "Sent").ID, msg(2))
	br := appendRaw(t, b, mbox(t, b, "INBOX").ID, msg(1))
	if err := a.Subscribe(ctx, "Ghost", true); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err := s.User(ctx, "alice")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Account(ctx, a.UserID())
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx, "alice"), store.ErrNotFound)
	if n, ok := blobCount(t, s); ok && n != 1 {
		t.Fatalf("%d body files after deleting alice, want 1 (bob's)", n)
	}
	eq(t, "bob's body survives", readBody(t, b, br.MessageID), msg(1))
	// The name can be reused, with a fresh account.
	a2 := account(t, s, "alice")
	eq(t, "new alice INBOX", status(t, a2, mbox(t, a2, "INBOX").ID).Messages, uint32(0))
	subs, _ := a2.Subscriptions(ctx)
	eq(t, "new alice subscriptions", subs, []string{"All Mail", "Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"})
}

func testDurability(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("engine harness cannot reopen")
	}
	s := newStore(t, h)
	a := account(t, s, "alice")
	in := mbox(t, a, "INBOX").ID
	appendN(t, a, in, 0, 3)
	setFlags(t, a, in, store.FlagsAdd, []string{store.FlagSeen, "$Kw"}, 2)
	setFlags(t, a, in, store.FlagsAdd, []string{store.FlagDeleted}, 3)
	if _, err := a.Expunge(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	create(t, a, "Keep/Me")
	if err := a.Subscribe(ctx, "Keep/Me", true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ClaimRecent(ctx, in); err != nil {
		t.Fatal(err)
	}
	mbs, _ := a.Mailboxes(ctx)
	st := status(t, a, in)
	es := entries(t, a, in)
	recs, _ := a.Records(ctx, in, uidsOf(es))
	ch, _ := a.Changes(ctx, in, 0)
	users, _ := s.Users(ctx)

	s2 := h.Reopen(t, s)
	a2, err := s2.Account(ctx, a.UserID())
	if err != nil {
		t.Fatal(err)
	}
	mbs2, _ := a2.Mailboxes(ctx)
	eq(t, "mailboxes", mbs2, mbs)
	eq(t, "status", status(t, a2, in), st)
	eq(t, "entries", entries(t, a2, in), es)
	recs2, _ := a2.Records(ctx, in, uidsOf(es))
	eq(t, "records", recs2, recs)
	ch2, _ := a2.Changes(ctx, in, 0)
	eq(t, "changes", ch2, ch)
	users2, _ := s2.Users(ctx)
	eq(t, "users", users2, users)
	for _, r := range recs2 {
		eq(t, "body", readBody(t, a2, r.MessageID), msg(int(r.UID-1)))
	}
	// Counters keep going where they were.
	r := appendRaw(t, a2, in, msg(50))
	if r.UID != 4 || r.ModSeq <= st.HighestModSeq {
		t.Fatalf("append after reopen: %+v", r)
	}
}

func testConcurrentAppends(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	const workers, each = 8, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	uids := make(chan uint32, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				raw := []byte(fmt.Sprintf("Subject: w%d i%d\r\n\r\nbody\r\n", w, i))
				r, err := a.Append(ctx, in, store.AppendRequest{Body: bytes.NewReader(raw), Size: int64(len(raw))})
				if err != nil {
					errs <- err
					return
				}
				uids <- r.UID
				// Readers run alongside the writers.
				if _, err := a.Entries(ctx, in); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	close(uids)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[uint32]bool{}
	for u := range uids {
		if seen[u] {
			t.Fatalf("UID %d given twice", u)
		}
		seen[u] = true
	}
	for u := uint32(1); u <= workers*each; u++ {
		if !seen[u] {
			t.Fatalf("UID %d missing", u)
		}
	}
	st := checkCounters(t, a, in)
	if st.Messages != workers*each || st.UIDNext != workers*each+1 {
		t.Fatalf("status %+v", st)
	}
	_ = s
}
