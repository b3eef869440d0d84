package storetest

import (
	"testing"

	"github.com/casier/casier/internal/store"
)

func testCopy(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX")
	arch := mbox(t, a, "Archive")
	res := appendN(t, a, in.ID, 0, 5)
	setFlags(t, a, in.ID, store.FlagsAdd, []string{store.FlagSeen, "$Keep"}, 4)
	setFlags(t, a, in.ID, store.FlagsAdd, []string{store.FlagDeleted}, 2)
	src, _ := a.Records(ctx, in.ID, []uint32{2, 4})

	cr, err := a.Copy(ctx, in.ID, []uint32{9, 4, 2}, arch.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "CopyResult", cr, store.CopyResult{UIDValidity: arch.UIDValidity, SrcUIDs: []uint32{2, 4}, DstUIDs: []uint32{1, 2}})
	dst, err := a.Records(ctx, arch.ID, []uint32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range dst {
		if dst[i].MessageID != src[i].MessageID || !dst[i].InternalDate.Equal(src[i].InternalDate) || dst[i].Size != src[i].Size {
			t.Fatalf("copy %d: %+v from %+v", i, dst[i], src[i])
		}
		eq(t, "copied flags", dst[i].Flags, src[i].Flags)
	}
	eq(t, "Archive keywords", status(t, a, arch.ID).Keywords, []string{"$Keep"})
	st := checkCounters(t, a, arch.ID)
	if st.Messages != 2 || st.Deleted != 1 || st.Unseen != 1 || st.UIDNext != 3 {
		t.Fatalf("Archive status %+v", st)
	}
	eq(t, "source untouched", uidsOf(entries(t, a, in.ID)), []uint32{1, 2, 3, 4, 5})
	checkCounters(t, a, in.ID)
	_ = res

	// Copy into the same mailbox is allowed and gives new UIDs.
	cr, err = a.Copy(ctx, in.ID, []uint32{1}, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "self copy", cr.DstUIDs, []uint32{6})
	checkCounters(t, a, in.ID)

	_, err = a.Copy(ctx, in.ID, []uint32{1}, arch.ID+1000)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = a.Copy(ctx, in.ID+1000, []uint32{1}, arch.ID)
	wantErr(t, err, store.ErrNoMailbox)

	// Copying nothing that exists changes nothing.
	hm := status(t, a, arch.ID).HighestModSeq
	cr, err = a.Copy(ctx, in.ID, []uint32{77, 78}, arch.ID)
	if err != nil || len(cr.SrcUIDs) != 0 || len(cr.DstUIDs) != 0 {
		t.Fatalf("empty copy: %+v %v", cr, err)
	}
	eq(t, "HIGHESTMODSEQ after empty copy", status(t, a, arch.ID).HighestModSeq, hm)
}

func testMove(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX")
	trash := mbox(t, a, "Trash")
	appendN(t, a, in.ID, 0, 4)
	setFlags(t, a, in.ID, store.FlagsAdd, []string{"$Tag", store.FlagSeen}, 3)
	mark := status(t, a, in.ID).HighestModSeq
	src, _ := a.Records(ctx, in.ID, []uint32{1, 3})

	cr, err := a.Move(ctx, in.ID, []uint32{3, 1}, trash.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "MoveResult", cr, store.CopyResult{UIDValidity: trash.UIDValidity, SrcUIDs: []uint32{1, 3}, DstUIDs: []uint32{1, 2}})
	eq(t, "INBOX left", uidsOf(entries(t, a, in.ID)), []uint32{2, 4})
	ist := checkCounters(t, a, in.ID)
	tst := checkCounters(t, a, trash.ID)
	if ist.Messages != 2 || ist.Unseen != 2 || tst.Messages != 2 || tst.Unseen != 1 {
		t.Fatalf("after move: INBOX %+v Trash %+v", ist, tst)
	}
	if ist.HighestModSeq != tst.HighestModSeq || ist.HighestModSeq <= mark {
		t.Fatalf("move modseqs: INBOX %d Trash %d mark %d", ist.HighestModSeq, tst.HighestModSeq, mark)
	}
	ch, err := a.Changes(ctx, in.ID, mark)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "INBOX changes", ch, store.ChangeSet{Expunged: []uint32{1, 3}, HighestModSeq: ist.HighestModSeq, UIDNext: 5})
	ch, err = a.Changes(ctx, trash.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Trash changes", ch, store.ChangeSet{
		Changed: []store.Entry{
			{UID: 1, ModSeq: tst.HighestModSeq},
			{UID: 2, Flags: []string{"$Tag", store.FlagSeen}, ModSeq: tst.HighestModSeq},
		},
		HighestModSeq: tst.HighestModSeq, UIDNext: 3,
	})
	dst, _ := a.Records(ctx, trash.ID, []uint32{1, 2})
	if dst[0].MessageID != src[0].MessageID || dst[1].MessageID != src[1].MessageID {
		t.Fatal("move changed message ids")
	}
	eq(t, "body after move", readBody(t, a, dst[1].MessageID), msg(2))
	_, err = a.Move(ctx, in.ID, []uint32{2}, trash.ID+1000)
	wantErr(t, err, store.ErrNoMailbox)
	eq(t, "failed move kept source", uidsOf(entries(t, a, in.ID)), []uint32{2, 4})
}

func testExpunge(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	appendN(t, a, in, 0, 6)
	setFlags(t, a, in, store.FlagsAdd, []string{store.FlagDeleted, "$K"}, 2, 3, 5)

	// Only listed UIDs carrying \Deleted go (RFC 4315 UID EXPUNGE).
	out, err := a.Expunge(ctx, in, []uint32{1, 3, 5})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "UID EXPUNGE", out, []uint32{3, 5})
	st := checkCounters(t, a, in)
	if st.Messages != 4 || st.Deleted != 1 {
		t.Fatalf("after UID EXPUNGE %+v", st)
	}
	setFlags(t, a, in, store.FlagsAdd, []string{store.FlagDeleted}, 6)
	out, err = a.Expunge(ctx, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "EXPUNGE", out, []uint32{2, 6})
	eq(t, "left", uidsOf(entries(t, a, in)), []uint32{1, 4})
	st = checkCounters(t, a, in)
	if st.Messages != 2 || st.Deleted != 0 || st.Unseen != 2 || st.UIDNext != 7 {
		t.Fatalf("after EXPUNGE %+v", st)
	}
	hm := st.HighestModSeq
	out, err = a.Expunge(ctx, in, nil)
	if err != nil || len(out) != 0 {
		t.Fatalf("empty expunge: %v %v", out, err)
	}
	eq(t, "HIGHESTMODSEQ after empty expunge", status(t, a, in).HighestModSeq, hm)
	// UIDs are never reused.
	eq(t, "next UID", appendRaw(t, a, in, msg(100)).UID, uint32(7))
}

func testChanges(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	r := appendN(t, a, in, 0, 5)
	m0 := r[4].ModSeq

	ch, err := a.Changes(ctx, in, m0)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "no changes", ch, store.ChangeSet{HighestModSeq: m0, UIDNext: 6})

	s1 := setFlags(t, a, in, store.FlagsAdd, []string{store.FlagSeen}, 4, 2).Changed[0].ModSeq
	s2 := setFlags(t, a, in, store.FlagsAdd, []string{store.FlagDeleted}, 1).Changed[0].ModSeq
	if _, err := a.Expunge(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	s3 := status(t, a, in).HighestModSeq
	a6 := appendRaw(t, a, in, msg(6)).ModSeq

	ch, err = a.Changes(ctx, in, m0)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "changes since m0", ch, store.ChangeSet{
		Changed: []store.Entry{
			{UID: 2, Flags: []string{store.FlagSeen}, ModSeq: s1},
			{UID: 4, Flags: []string{store.FlagSeen}, ModSeq: s1},
			{UID: 6, ModSeq: a6},
		},
		Expunged:      []uint32{1},
		HighestModSeq: a6, UIDNext: 7,
	})
	ch, err = a.Changes(ctx, in, s2)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "changes since s2", ch, store.ChangeSet{
		Changed:  []store.Entry{{UID: 6, ModSeq: a6}},
		Expunged: []uint32{1}, HighestModSeq: a6, UIDNext: 7,
	})
	ch, err = a.Changes(ctx, in, s3)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "changes since s3", ch, store.ChangeSet{Changed: []store.Entry{{UID: 6, ModSeq: a6}}, HighestModSeq: a6, UIDNext: 7})
	ch, err = a.Changes(ctx, in, 0)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "changes since 0", uidsOf(ch.Changed), []uint32{2, 3, 4, 5, 6})
	eq(t, "expunged since 0", ch.Expunged, []uint32{1})
}

func testRecent(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	appendN(t, a, in, 0, 3)
	st := status(t, a, in)
	if st.Recent != 3 || st.FirstRecentUID != 1 {
		t.Fatalf("before claim %+v", st)
	}
	first, err := a.ClaimRecent(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "first claim", first, uint32(1))
	st = status(t, a, in)
	if st.Recent != 0 || st.FirstRecentUID != 4 {
		t.Fatalf("after claim %+v", st)
	}
	first, _ = a.ClaimRecent(ctx, in)
	eq(t, "second claim", first, uint32(4))
	appendN(t, a, in, 10, 2)
	setFlags(t, a, in, store.FlagsAdd, []string{store.FlagDeleted}, 4)
	if _, err := a.Expunge(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	st = checkCounters(t, a, in)
	if st.Recent != 1 || st.FirstRecentUID != 4 {
		t.Fatalf("recent counts only existing UIDs: %+v", st)
	}
	// Moving out a recent and a non-recent message, copying one in.
	if _, err := a.Move(ctx, in, []uint32{1, 5}, mbox(t, a, "Trash").ID); err != nil {
		t.Fatal(err)
	}
	st = checkCounters(t, a, in)
	if st.Recent != 0 || st.Messages != 2 {
		t.Fatalf("after move out: %+v", st)
	}
	eq(t, "Trash recent", checkCounters(t, a, mbox(t, a, "Trash").ID).Recent, uint32(2))
	if _, err := a.Copy(ctx, mbox(t, a, "Trash").ID, []uint32{1}, in); err != nil {
		t.Fatal(err)
	}
	st = checkCounters(t, a, in)
	if st.Recent != 1 || st.Messages != 3 {
		t.Fatalf("after copy in: %+v", st)
	}
	first, _ = a.ClaimRecent(ctx, in)
	eq(t, "third claim", first, uint32(4))
	eq(t, "recent after third", status(t, a, in).Recent, uint32(0))
}

func testHub(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	other := account(t, s, "bob")
	sub := s.Hub().Subscribe(a.UserID())
	defer sub.Close()
	osub := s.Hub().Subscribe(other.UserID())
	defer osub.Close()
	in := mbox(t, a, "INBOX").ID
	all := mbox(t, a, "All Mail").ID

	// All Mail shows the message: it changes too.
	r := appendRaw(t, a, in, msg(1))
	select {
	case <-sub.Ready():
	default:
		t.Fatal("no signal after append")
	}
	eq(t, "append change", sub.Take(), []store.Change{
		{User: a.UserID(), Kind: store.ChangeMessages, Mailbox: in, ModSeq: r.ModSeq},
		{User: a.UserID(), Kind: store.ChangeMessages, Mailbox: all, ModSeq: r.ModSeq},
	})

	sr := setFlags(t, a, in, store.FlagsAdd, []string{store.FlagSeen}, 1)
	eq(t, "store change", sub.Take(), []store.Change{
		{User: a.UserID(), Kind: store.ChangeMessages, Mailbox: in, ModSeq: sr.Changed[0].ModSeq},
		{User: a.UserID(), Kind: store.ChangeMessages, Mailbox: all, ModSeq: sr.Changed[0].ModSeq},
	})
	setFlags(t, a, in, store.FlagsAdd, []string{store.FlagSeen}, 1)
	eq(t, "no-op store publishes nothing", len(sub.Take()), 0)

	m := create(t, a, "Folder")
	eq(t, "create change", sub.Take(), []store.Change{{User: a.UserID(), Kind: store.ChangeMailboxes, Mailbox: m.ID, ModSeq: m.HighestModSeq}})

	cr, err := a.Move(ctx, in, []uint32{1}, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	// All Mail keeps the message under its UID: it does not change.
	got := sub.Take()
	ms := status(t, a, m.ID).HighestModSeq
	eq(t, "move changes", got, []store.Change{
		{User: a.UserID(), Kind: store.ChangeMessages, Mailbox: in, ModSeq: ms},
		{User: a.UserID(), Kind: store.ChangeMessages, Mailbox: m.ID, ModSeq: ms},
	})
	_ = cr
	if err := a.RenameMailbox(ctx, "Folder", "Folder2"); err != nil {
		t.Fatal(err)
	}
	got = sub.Take()
	if len(got) == 0 || got[0].Kind != store.ChangeMailboxes || got[0].Mailbox != m.ID {
		t.Fatalf("rename changes %+v", got)
	}
	if err := a.DeleteMailbox(ctx, "Folder2"); err != nil {
		t.Fatal(err)
	}
	// The message leaves All Mail with its folder.
	got = sub.Take()
	if len(got) != 2 || got[0].Kind != store.ChangeMailboxes || got[0].Mailbox != m.ID ||
		got[1].Kind != store.ChangeMessages || got[1].Mailbox != all || got[1].ModSeq != status(t, a, all).HighestModSeq {
		t.Fatalf("delete changes %+v", got)
	}
	eq(t, "other user saw nothing after its creation", len(osub.Take()), 0)
}
