package imapserver

import (
	"context"
	"reflect"
	"testing"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// Test-only commands for sync: "UID XNOOP" is a UID command allowing
// EXPUNGE; "XSTORE uid flag" adds a flag through the store and reports it
// itself, as STORE does, so sync must not report it again.
func init() {
	register("UID XNOOP", stateSelected, true, func(s *Session, cmd *imapwire.Command) error {
		return cmd.Args().End()
	})
	register("XSTORE", stateSelected, true, func(s *Session, cmd *imapwire.Command) error {
		d := cmd.Args()
		if err := d.SP(); err != nil {
			return err
		}
		uid, err := d.Number()
		if err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		flag, err := d.Flag()
		if err != nil {
			return err
		}
		res, err := s.acct.StoreFlags(s.ctx, s.sel.mbox.ID, store.StoreRequest{UIDs: []uint32{uid}, Mode: store.FlagsAdd, Flags: []string{flag}})
		if err != nil {
			return errFromStore(err)
		}
		for _, e := range res.Changed {
			s.writeFetchFlags(s.msn(e.UID), e)
		}
		s.markOwn(res.Changed)
		return nil
	})
}

// storeFlags changes flags directly in the store, as another device would.
func storeFlags(t *testing.T, ts *testServer, mailbox string, mode store.FlagMode, flags []string, uids ...uint32) {
	t.Helper()
	mb := ts.mailbox(t, "alice", mailbox)
	if _, err := ts.account(t, "alice").StoreFlags(context.Background(), mb.ID, store.StoreRequest{UIDs: uids, Mode: mode, Flags: flags}); err != nil {
		t.Fatal(err)
	}
}

func expunge(t *testing.T, ts *testServer, mailbox string, uids ...uint32) {
	t.Helper()
	storeFlags(t, ts, mailbox, store.FlagsAdd, []string{store.FlagDeleted}, uids...)
	mb := ts.mailbox(t, "alice", mailbox)
	got, err := ts.account(t, "alice").Expunge(context.Background(), mb.ID, uids)
	if err != nil || !reflect.DeepEqual(got, uids) {
		t.Fatalf("expunge %v: %v, %v", uids, got, err)
	}
}

func TestSyncFlagsFromAnotherSession(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 3; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	rev1 := ts.rawLogin(t, "alice")
	rev1.cmd("a SELECT INBOX") // owns \Recent of all three
	rev2 := ts.rawLogin(t, "alice")
	rev2.cmd("a ENABLE IMAP4rev2")
	rev2.cmd("b SELECT INBOX")

	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagSeen}, 2)
	rev1.expectCmd("b NOOP", `* 2 FETCH (FLAGS (\Seen \Recent))`, "b OK NOOP completed")
	rev1.expectCmd("c NOOP", "c OK NOOP completed")
	// During a UID command the UID is included.
	rev2.expectCmd("c UID XNOOP", `* 2 FETCH (FLAGS (\Seen) UID 2)`, "c OK UID XNOOP completed")

	// A new keyword: FLAGS and PERMANENTFLAGS come first.
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{"$Important"}, 3)
	rev2.expectCmd("d NOOP",
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Important)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Important \*)] Flags permitted.`,
		`* 3 FETCH (FLAGS ($Important))`,
		"d OK NOOP completed")
	// A read-only session gets FLAGS only.
	ro := ts.rawLogin(t, "alice")
	ro.cmd("a EXAMINE INBOX")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{"Work"}, 1)
	ro.expectCmd("b NOOP",
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Important Work)`,
		`* 1 FETCH (FLAGS (Work))`,
		"b OK NOOP completed")
}

func TestSyncOwnChangesNotRepeated(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	c := ts.rawLogin(t, "alice")
	c.cmd("a ENABLE IMAP4rev2")
	c.cmd("b SELECT INBOX")
	other := ts.rawLogin(t, "alice")
	other.cmd("a ENABLE IMAP4rev2")
	other.cmd("b SELECT INBOX")

	c.expectCmd(`c XSTORE 1 \Flagged`, `* 1 FETCH (FLAGS (\Flagged))`, "c OK XSTORE completed")
	c.expectCmd("d NOOP", "d OK NOOP completed")
	// The other session does see it.
	other.expectCmd("c NOOP", `* 1 FETCH (FLAGS (\Flagged))`, "c OK NOOP completed")
	// A later change of the same message by someone else is reported.
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagSeen}, 1)
	c.expectCmd("e NOOP", `* 1 FETCH (FLAGS (\Flagged \Seen))`, "e OK NOOP completed")
}

func TestSyncNewMessagesAndRecent(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	a := ts.rawLogin(t, "alice")
	a.cmd("a SELECT INBOX")
	b := ts.rawLogin(t, "alice")
	b.cmd("a SELECT INBOX")
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	ts.deliver(t, "alice", "INBOX", harnessMessage(3))
	// The first session to hear of new messages gets their \Recent.
	a.expectCmd("b NOOP", "* 3 EXISTS", "* 3 RECENT", "b OK NOOP completed")
	b.expectCmd("b NOOP", "* 3 EXISTS", "* 0 RECENT", "b OK NOOP completed")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagSeen}, 2)
	a.expectCmd("c NOOP", `* 2 FETCH (FLAGS (\Seen \Recent))`, "c OK NOOP completed")
	b.expectCmd("c NOOP", `* 2 FETCH (FLAGS (\Seen))`, "c OK NOOP completed")
	// Another delivery after b claimed nothing: b can get it now.
	ts.deliver(t, "alice", "INBOX", harnessMessage(4))
	b.expectCmd("d NOOP", "* 4 EXISTS", "* 1 RECENT", "d OK NOOP completed")
	a.expectCmd("d NOOP", "* 4 EXISTS", "* 3 RECENT", "d OK NOOP completed")
}

func TestSyncExpungeDeferred(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 4; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	c.cmd("a ENABLE IMAP4rev2")
	c.cmd("b SELECT INBOX")
	expunge(t, ts, "INBOX", 2, 3)
	ts.deliver(t, "alice", "INBOX", harnessMessage(5))
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagSeen}, 4)
	// No EXPUNGE during a command that forbids it (RFC 9051 7.5.1):
	// the expunged messages keep their numbers, so EXISTS counts them.
	c.expectCmd("c XNOEXP", "* 5 EXISTS", `* 4 FETCH (FLAGS (\Seen))`, "c OK XNOEXP completed")
	c.expectCmd("d XNOEXP", "d OK XNOEXP completed")
	// Then at the next command that allows it, with numbers recomputed
	// after each removal.
	c.expectCmd("e NOOP", "* 2 EXPUNGE", "* 2 EXPUNGE", "e OK NOOP completed")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagFlagged}, 5)
	c.expectCmd("f NOOP", `* 3 FETCH (FLAGS (\Flagged))`, "f OK NOOP completed")
	// Expunge by another session, in one batch at the end of the mailbox.
	expunge(t, ts, "INBOX", 4, 5)
	c.expectCmd("g UID XNOOP", "* 2 EXPUNGE", "* 2 EXPUNGE", "g OK UID XNOOP completed")
	c.expectCmd("h XNOEXP", "h OK XNOEXP completed")
}

func TestSyncMailboxDeletedAndRenamed(t *testing.T) {
	ts := newTestServer(t)
	acct := ts.account(t, "alice")
	ctx := context.Background()
	if _, err := acct.CreateMailbox(ctx, "Work", ""); err != nil {
		t.Fatal(err)
	}
	ts.deliver(t, "alice", "Work", harnessMessage(1))
	c := ts.rawLogin(t, "alice")
	c.cmd("a SELECT Work")
	if err := acct.RenameMailbox(ctx, "Work", "Job"); err != nil {
		t.Fatal(err)
	}
	ts.deliver(t, "alice", "Job", harnessMessage(2))
	c.expectCmd("b NOOP", "* 2 EXISTS", "* 2 RECENT", "b OK NOOP completed")
	if c.cmd("c NOOP")[0] != "c OK NOOP completed" {
		t.Fatal("NOOP after rename")
	}
	if err := acct.DeleteMailbox(ctx, "Job"); err != nil {
		t.Fatal(err)
	}
	c.send("d NOOP")
	c.expect("* BYE Selected mailbox was deleted")
	c.expectClosed()
}

func TestResolveSeq(t *testing.T) {
	s := &Session{sel: &selected{uids: []uint32{3, 5, 9, 10, 20}}}
	set := func(rs ...imapwire.SeqRange) imapwire.SeqSet { return imapwire.SeqSet{Ranges: rs} }
	r := func(a, b uint32) imapwire.SeqRange { return imapwire.SeqRange{Start: a, Stop: b} }
	for _, tc := range []struct {
		name string
		set  imapwire.SeqSet
		uid  bool
		want []uint32
		bad  bool
	}{
		{"msn 1", set(r(1, 1)), false, []uint32{3}, false},
		{"msn 2:4", set(r(2, 4)), false, []uint32{5, 9, 10}, false},
		{"msn 4:2", set(r(4, 2)), false, []uint32{5, 9, 10}, false},
		{"msn *", set(r(0, 0)), false, []uint32{20}, false},
		{"msn 3:*", set(r(3, 0)), false, []uint32{9, 10, 20}, false},
		{"msn 5,1,1:2", set(r(5, 5), r(1, 1), r(1, 2)), false, []uint32{3, 5, 20}, false},
		{"msn 6", set(r(6, 6)), false, nil, true},
		{"msn 2:6", set(r(2, 6)), false, nil, true},
		{"uid 5:10", set(r(5, 10)), true, []uint32{5, 9, 10}, false},
		{"uid 4:8", set(r(4, 8)), true, []uint32{5}, false},
		{"uid 100:*", set(r(100, 0)), true, []uint32{20}, false},
		{"uid *", set(r(0, 0)), true, []uint32{20}, false},
		{"uid 21:30", set(r(21, 30)), true, nil, false},
		{"uid 1:2,19:*", set(r(1, 2), r(19, 0)), true, []uint32{20}, false},
		{"uid 10,3,9:10", set(r(10, 10), r(3, 3), r(9, 10)), true, []uint32{3, 9, 10}, false},
	} {
		got, err := s.resolveSeq(tc.set, tc.uid)
		if tc.bad {
			if err == nil {
				t.Errorf("%s: got %v, want an error", tc.name, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	empty := &Session{sel: &selected{}}
	if got, err := empty.resolveSeq(set(r(1, 0)), true); err != nil || len(got) != 0 {
		t.Errorf("uid 1:* on empty: %v, %v", got, err)
	}
	if _, err := empty.resolveSeq(set(r(1, 0)), false); err == nil {
		t.Errorf("msn 1:* on empty: no error")
	}
	// RFC 5182: "$" names the saved UIDs still in the view.
	if got, err := s.resolveSeq(imapwire.SeqSet{Saved: true}, false); err != nil || len(got) != 0 {
		t.Errorf("$ unset: %v, %v", got, err)
	}
	s.sel.saved = []uint32{3, 4, 20}
	if got, err := s.resolveSeq(imapwire.SeqSet{Saved: true}, false); err != nil || !reflect.DeepEqual(got, []uint32{3, 20}) {
		t.Errorf("$: %v, %v; want [3 20]", got, err)
	}
	s.sel.saved = nil
	if s.msn(9) != 3 || s.msn(4) != 0 || s.msn(20) != 5 {
		t.Errorf("msn: %d %d %d", s.msn(9), s.msn(4), s.msn(20))
	}
}
