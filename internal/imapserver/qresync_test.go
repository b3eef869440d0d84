package imapserver

import (
	"context"
	"strconv"
	"testing"

	"github.com/casier/casier/internal/store"
)

func TestQresyncRequiresEnable(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	// RFC 7162 3.2.5: BAD without ENABLE QRESYNC.
	c.expectCmd("a SELECT INBOX (QRESYNC (1 1))", "a BAD QRESYNC must be enabled first")
	c.expectCmd("b UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)", "b BAD UID FETCH not allowed now.")
	c.cmd("c ENABLE QRESYNC")
	c.expectCmd("d SELECT INBOX (QRESYNC (1 0))", "d BAD Invalid mod-sequence")
	c.expectCmd("e SELECT INBOX (QRESYNC (1 5 1:3 (1:2 1)))", "e BAD seq-match-data sets differ in size")
	c.cmd("f SELECT INBOX")
	// RFC 7162 3.2.6: VANISHED needs UID FETCH and CHANGEDSINCE.
	c.expectCmd("g FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)", "g BAD VANISHED requires UID FETCH and CHANGEDSINCE")
	c.expectCmd("h UID FETCH 1:* FLAGS (VANISHED)", "h BAD VANISHED requires UID FETCH and CHANGEDSINCE")
}

// TestQresyncMultiDevice: device A records its state and leaves; device B
// flags 2 messages, expunges 3, moves 1 away and appends 2; A comes back
// with SELECT (QRESYNC ...) and learns exactly that (RFC 7162 3.2.5), then
// idles and gets B's next changes as FETCH with MODSEQ and VANISHED.
func TestQresyncMultiDevice(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 10; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	ctx := context.Background()
	a := ts.rawLogin(t, "alice")
	a.expectCmd("a ENABLE QRESYNC", "* ENABLED QRESYNC", "a OK ENABLE completed")
	hm := highestModSeq(t, ts, "alice", "INBOX")
	if !hasLine(a.cmd("b SELECT INBOX"), "* OK [HIGHESTMODSEQ "+hm+"] Highest") {
		t.Fatal("SELECT lacks HIGHESTMODSEQ")
	}
	a.cmd("c LOGOUT")

	b := ts.rawLogin(t, "alice")
	b.cmd("a SELECT INBOX")
	b.cmd(`b UID STORE 2,9 +FLAGS (\Flagged)`)
	b.cmd(`c UID STORE 3,5,7 +FLAGS (\Deleted)`)
	b.cmd("d EXPUNGE")
	b.cmd("e UID MOVE 4 Trash")
	n1 := ts.deliver(t, "alice", "INBOX", harnessMessage(11))
	n2 := ts.deliver(t, "alice", "INBOX", harnessMessage(12))
	ms := modseqOf(t, ts, "alice", "INBOX")
	hm2 := highestModSeq(t, ts, "alice", "INBOX")
	mb := ts.mailbox(t, "alice", "INBOX")
	uv := strconv.FormatUint(uint64(mb.UIDValidity), 10)

	a = ts.rawLogin(t, "alice")
	a.cmd("a ENABLE QRESYNC")
	got := withoutObjectID(a.cmd("b SELECT INBOX (QRESYNC (" + uv + " " + hm + " 1:10))"))
	expectLines(t, "QRESYNC SELECT", got,
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.`,
		`* 8 EXISTS`,
		`* 2 RECENT`,
		`* OK [UNSEEN 1] First unseen.`,
		`* OK [UIDVALIDITY `+uv+`] UIDs valid`,
		`* OK [UIDNEXT 13] Predicted next UID`,
		`* OK [HIGHESTMODSEQ `+hm2+`] Highest`,
		`* VANISHED (EARLIER) 3:5,7`,
		`* 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (`+ms[2]+`))`,
		`* 5 FETCH (UID 9 FLAGS (\Flagged) MODSEQ (`+ms[9]+`))`,
		`* 7 FETCH (UID 11 FLAGS (\Recent) MODSEQ (`+ms[n1]+`))`,
		`* 8 FETCH (UID 12 FLAGS (\Recent) MODSEQ (`+ms[n2]+`))`,
		`b OK [READ-WRITE] SELECT completed`)

	// A wrong UIDVALIDITY gives a plain SELECT (RFC 7162 3.2.5), after
	// [CLOSED] for the mailbox left (3.2.11).
	got = withoutObjectID(a.cmd("c EXAMINE INBOX (QRESYNC (" + strconv.FormatUint(uint64(mb.UIDValidity)+1, 10) + " " + hm + "))"))
	if got[0] != "* OK [CLOSED] Previous mailbox is now closed" || hasPrefix(got, "* VANISHED") || hasPrefix(got, "* 2 FETCH") {
		t.Fatalf("EXAMINE with stale UIDVALIDITY: %q", got)
	}
	// Known UIDs restrict VANISHED; without them all expunged UIDs come.
	got = a.cmd("d SELECT INBOX (QRESYNC (" + uv + " " + hm + " 5:6))")
	if !hasLine(got, "* VANISHED (EARLIER) 5") {
		t.Fatalf("known-uids 5:6: %q", got)
	}
	got = a.cmd("e SELECT INBOX (QRESYNC (" + uv + " " + hm + "))")
	if !hasLine(got, "* VANISHED (EARLIER) 3:5,7") {
		t.Fatalf("no known-uids: %q", got)
	}
	// seq-match-data (RFC 7162 3.2.5.2): message 2 is still UID 2, so
	// nothing at or below UID 2 can have gone; message 8 was UID 8 and
	// is not now, which proves nothing.
	got = a.cmd("f SELECT INBOX (QRESYNC (" + uv + " " + hm + " 1:10 (2,8 2,8)))")
	if !hasLine(got, "* VANISHED (EARLIER) 3:5,7") {
		t.Fatalf("seq-match-data: %q", got)
	}

	// A idles; B's next changes arrive with MODSEQ, expunges as VANISHED.
	a.send("g IDLE")
	a.expect("+ idling")
	b.cmd(`f UID STORE 6 +FLAGS (\Seen)`)
	a.expect(`* 3 FETCH (FLAGS (\Seen) UID 6 MODSEQ (` + modseqOf(t, ts, "alice", "INBOX")[6] + `))`)
	b.cmd(`g UID STORE 8 +FLAGS (\Deleted)`)
	a.expect(`* 4 FETCH (FLAGS (\Deleted) UID 8 MODSEQ (` + modseqOf(t, ts, "alice", "INBOX")[8] + `))`)
	b.cmd("h EXPUNGE")
	a.expect("* VANISHED 8")
	a.send("DONE")
	a.expect("g OK IDLE completed")
	// Own EXPUNGE: VANISHED too (RFC 7162 3.2.10), never EXPUNGE.
	a.cmd(`h UID STORE 1,2 +FLAGS.SILENT (\Deleted)`)
	a.expectCmd("i EXPUNGE", "* VANISHED 1:2", "i OK EXPUNGE completed")
	_ = ctx
}

// TestQresyncFetchVanished: UID FETCH (CHANGEDSINCE m VANISHED), RFC 7162
// 3.2.6 (example 23 adapted): VANISHED (EARLIER) first, for the UIDs of
// the set only, then the changed messages.
func TestQresyncFetchVanished(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 6; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	c.cmd("a ENABLE QRESYNC")
	c.cmd("b SELECT INBOX")
	base := highestModSeq(t, ts, "alice", "INBOX")
	c.cmd(`c UID STORE 2,4,5 +FLAGS.SILENT (\Deleted)`)
	c.expectCmd("d UID EXPUNGE 2,4", "* VANISHED 2,4", "d OK UID EXPUNGE completed")
	c.cmd(`e UID STORE 6 +FLAGS.SILENT (\Seen)`)
	ms := modseqOf(t, ts, "alice", "INBOX")
	c.expectCmd("f UID FETCH 3:* (FLAGS) (CHANGEDSINCE "+base+" VANISHED)",
		"* VANISHED (EARLIER) 4",
		`* 3 FETCH (UID 5 FLAGS (\Deleted \Recent) MODSEQ (`+ms[5]+`))`,
		`* 4 FETCH (UID 6 FLAGS (\Seen \Recent) MODSEQ (`+ms[6]+`))`,
		"f OK UID FETCH completed")
	c.expectCmd("g UID FETCH 1:* (FLAGS) (CHANGEDSINCE "+ms[6]+" VANISHED)", "g OK UID FETCH completed")
}

// TestQresyncPrunedTombstones simulates pruning: the exact expunge list is
// gone for old mod-sequences, so VANISHED (EARLIER) lists every UID of the
// client's known range missing now (RFC 7162 3.2.5.1), narrowed by
// seq-match-data; newer mod-sequences still get the exact answer.
func TestQresyncPrunedTombstones(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 10; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	ctx := context.Background()
	acct := ts.account(t, "alice")
	mb := ts.mailbox(t, "alice", "INBOX")
	uv := strconv.FormatUint(uint64(mb.UIDValidity), 10)
	b := ts.rawLogin(t, "alice")
	b.cmd("a SELECT INBOX")
	b.cmd(`b UID STORE 3 +FLAGS.SILENT (\Deleted)`)
	b.cmd("c EXPUNGE")
	old := highestModSeq(t, ts, "alice", "INBOX") // client state: 3 already gone
	b.cmd(`d UID STORE 8 +FLAGS.SILENT (\Deleted)`)
	b.cmd("e EXPUNGE")
	mid := highestModSeq(t, ts, "alice", "INBOX")
	b.cmd(`f UID STORE 9 +FLAGS.SILENT (\Deleted)`)
	b.cmd("g EXPUNGE")

	tomb, ok := acct.(store.Tombstones)
	if !ok {
		t.Fatal("sqlite account does not implement store.Tombstones")
	}
	if err := tomb.PruneTombstones(ctx, mb.ID, mustU64(t, mid)); err != nil {
		t.Fatal(err)
	}
	if f, err := tomb.TombstoneFloor(ctx, mb.ID); err != nil || strconv.FormatUint(f, 10) != mid {
		t.Fatalf("floor = %d, %v; want %s", f, err, mid)
	}
	a := ts.rawLogin(t, "alice")
	a.cmd("a ENABLE QRESYNC")
	// Older than the floor: every absent UID of 1:10.
	got := a.cmd("b SELECT INBOX (QRESYNC (" + uv + " " + old + " 1:10))")
	if !hasLine(got, "* VANISHED (EARLIER) 3,8:9") {
		t.Fatalf("fallback: %q", got)
	}
	// With seq-match-data: message 5 was UID 6 for the client and still
	// is, so only UIDs above 6 are considered.
	got = a.cmd("c SELECT INBOX (QRESYNC (" + uv + " " + old + " 1:10 (5 6)))")
	if !hasLine(got, "* VANISHED (EARLIER) 8:9") {
		t.Fatalf("fallback with seq-match-data: %q", got)
	}
	// At the floor: exact, from the tombstones kept.
	got = a.cmd("d SELECT INBOX (QRESYNC (" + uv + " " + mid + " 1:10))")
	if !hasLine(got, "* VANISHED (EARLIER) 9") {
		t.Fatalf("exact after prune: %q", got)
	}
	// UID FETCH VANISHED falls back the same way.
	a.expectCmd("e UID FETCH 1:* (FLAGS) (CHANGEDSINCE "+old+" VANISHED)",
		"* VANISHED (EARLIER) 3,8:9", "e OK UID FETCH completed")
	// The entries cache was dropped: SELECT still sees the right view.
	if !hasLine(a.cmd("f SELECT INBOX"), "* 7 EXISTS") {
		t.Fatal("view after prune")
	}
}

func mustU64(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
