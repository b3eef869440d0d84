package imapserver

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// modseqOf returns the current MODSEQ of each message of user's mailbox,
// by UID, as decimal strings.
func modseqOf(t *testing.T, ts *testServer, user, mailbox string) map[uint32]string {
	t.Helper()
	es, err := ts.account(t, user).Entries(context.Background(), ts.mailbox(t, user, mailbox).ID)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[uint32]string, len(es))
	for _, e := range es {
		out[e.UID] = strconv.FormatUint(e.ModSeq, 10)
	}
	return out
}

// highestModSeq returns the mailbox's HIGHESTMODSEQ as a string.
func highestModSeq(t *testing.T, ts *testServer, user, mailbox string) string {
	t.Helper()
	st, err := ts.account(t, user).Status(context.Background(), ts.mailbox(t, user, mailbox).ID)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatUint(st.HighestModSeq, 10)
}

// highestModSeqLine is the HIGHESTMODSEQ response every SELECT and EXAMINE
// sends (RFC 7162 3.1.2.1).
func highestModSeqLine(t *testing.T, ts *testServer, user, mailbox string) string {
	t.Helper()
	return "* OK [HIGHESTMODSEQ " + highestModSeq(t, ts, user, mailbox) + "] Highest"
}

// withoutObjectID drops the RFC 8474 MAILBOXID and RFC 4467 URLMECH lines
// that SELECT also sends (other extensions' concern), keeping the
// transcripts below about RFC 7162.
func withoutObjectID(lines []string) []string {
	out := lines[:0:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, "* OK [MAILBOXID ") && l != "* OK [URLMECH INTERNAL] Ok" {
			out = append(out, l)
		}
	}
	return out
}

func expectLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestCondstoreEnable(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a ENABLE CONDSTORE", "* ENABLED CONDSTORE", "a OK ENABLE completed")
	c.expectCmd("b ENABLE CONDSTORE", "* ENABLED", "b OK ENABLE completed")
	// RFC 7162 3.2.3: QRESYNC is enabled on its own name.
	c.expectCmd("c ENABLE QRESYNC", "* ENABLED QRESYNC", "c OK ENABLE completed")

	c2 := ts.rawLogin(t, "alice")
	c2.expectCmd("a ENABLE QRESYNC CONDSTORE", "* ENABLED QRESYNC", "a OK ENABLE completed")

	caps := strings.Join(c.cmd("d CAPABILITY"), " ")
	if !strings.Contains(caps, " CONDSTORE ") || !strings.Contains(caps, " QRESYNC ") {
		t.Fatalf("CAPABILITY lacks CONDSTORE/QRESYNC: %s", caps)
	}
}

// TestCondstoreSelect: RFC 7162 3.1.2.1 and 3.1.8 (example of SELECT
// (CONDSTORE)); a plain SELECT before any enabling command has
// HIGHESTMODSEQ too ("every successful SELECT or EXAMINE"), but FETCH
// responses get no MODSEQ until CONDSTORE is enabled.
func TestCondstoreSelect(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	c := ts.rawLogin(t, "alice")
	hm := highestModSeq(t, ts, "alice", "INBOX")
	if !hasLine(c.cmd("a SELECT INBOX"), "* OK [HIGHESTMODSEQ "+hm+"] Highest") {
		t.Fatal("SELECT before CONDSTORE was enabled lacks HIGHESTMODSEQ")
	}
	c.expectCmd("a2 FETCH 1 (FLAGS)", `* 1 FETCH (FLAGS (\Recent))`, "a2 OK FETCH completed")
	got := withoutObjectID(c.cmd("b EXAMINE INBOX (CONDSTORE)"))
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "INBOX").UIDValidity), 10)
	expectLines(t, "EXAMINE (CONDSTORE)", got,
		`* OK [CLOSED] Previous mailbox is now closed`,
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`* OK [PERMANENTFLAGS ()] No permanent flags permitted`,
		`* 1 EXISTS`,
		`* 0 RECENT`,
		`* OK [UNSEEN 1] First unseen.`,
		`* OK [UIDVALIDITY `+uv+`] UIDs valid`,
		`* OK [UIDNEXT 2] Predicted next UID`,
		`* OK [HIGHESTMODSEQ `+hm+`] Highest`,
		`b OK [READ-ONLY] EXAMINE completed`)
	c.expectCmd("c SELECT INBOX (FOO)", "c BAD Unknown SELECT parameter FOO")
	c.expectCmd("d SELECT INBOX ()", "d BAD Empty SELECT parameter list")
}

// TestCondstoreImplicitEnable: each CONDSTORE enabling command of RFC 7162
// 3.1 turns it on; in the selected state the client then gets the
// HIGHESTMODSEQ it could not see at SELECT.
func TestCondstoreImplicitEnable(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ms := modseqOf(t, ts, "alice", "INBOX")
	hm := highestModSeq(t, ts, "alice", "INBOX")
	for _, cmd := range []string{
		"FETCH 1 (MODSEQ)",
		"FETCH 1 (FLAGS) (CHANGEDSINCE 1)",
		"SEARCH MODSEQ 1",
		`STORE 1 (UNCHANGEDSINCE 1) +FLAGS (x)`,
		"STATUS INBOX (HIGHESTMODSEQ)",
	} {
		c := ts.rawLogin(t, "alice")
		c.cmd("a SELECT INBOX")
		lines := c.cmd("b " + cmd)
		if len(lines) < 2 || lines[0] != "* OK [HIGHESTMODSEQ "+hm+"] Highest" {
			t.Fatalf("%s: %q", cmd, lines)
		}
		// Now enabled: a second one says nothing more, and flag
		// changes carry UID and MODSEQ.
		c.expectCmd("c FETCH 1 (MODSEQ)", "* 1 FETCH (MODSEQ ("+ms[1]+"))", "c OK FETCH completed")
	}
	// STATUS enables it in the authenticated state too: SELECT then shows
	// HIGHESTMODSEQ.
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a STATUS INBOX (HIGHESTMODSEQ)", "* STATUS INBOX (HIGHESTMODSEQ "+hm+")", "a OK STATUS completed")
	if !hasLine(c.cmd("b SELECT INBOX"), "* OK [HIGHESTMODSEQ "+hm+"] Highest") {
		t.Fatal("SELECT after STATUS HIGHESTMODSEQ lacks HIGHESTMODSEQ")
	}
}

// TestCondstoreStoreUnchangedSince reproduces RFC 7162 3.1.3 (examples 6
// and 7): messages modified since the given mod-sequence are left alone
// and listed in [MODIFIED], as UIDs for UID STORE and message numbers for
// STORE; .SILENT still returns the new MODSEQ, with the UID.
func TestCondstoreStoreUnchangedSince(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 5; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	c.cmd("a SELECT INBOX (CONDSTORE)")
	base := highestModSeq(t, ts, "alice", "INBOX")
	// Messages 2 and 4 change after base.
	c.cmd(`b STORE 2,4 +FLAGS.SILENT (\Answered)`)
	ms := modseqOf(t, ts, "alice", "INBOX")

	lines := c.cmd(`c UID STORE 1,2,4 (UNCHANGEDSINCE ` + base + `) +FLAGS.SILENT (\Deleted)`)
	ms2 := modseqOf(t, ts, "alice", "INBOX")
	expectLines(t, "UID STORE UNCHANGEDSINCE", lines,
		`* 1 FETCH (UID 1 MODSEQ (`+ms2[1]+`))`,
		`c OK [MODIFIED 2,4] Conditional STORE failed`)
	if ms2[2] != ms[2] || ms2[4] != ms[4] {
		t.Fatal("messages failing UNCHANGEDSINCE were changed")
	}
	// Non-UID STORE: message numbers in MODIFIED; without .SILENT the
	// FETCH carries UID, FLAGS and MODSEQ.
	lines = c.cmd(`d STORE 3:5 (UNCHANGEDSINCE ` + ms2[4] + `) +FLAGS (\Seen)`)
	ms3 := modseqOf(t, ts, "alice", "INBOX")
	expectLines(t, "STORE UNCHANGEDSINCE", lines,
		`* 3 FETCH (UID 3 FLAGS (\Seen \Recent) MODSEQ (`+ms3[3]+`))`,
		`* 4 FETCH (UID 4 FLAGS (\Answered \Seen \Recent) MODSEQ (`+ms3[4]+`))`,
		`* 5 FETCH (UID 5 FLAGS (\Seen \Recent) MODSEQ (`+ms3[5]+`))`,
		`d OK STORE completed`)
	// UNCHANGEDSINCE 0 fails for every message (RFC 7162 3.1.3).
	c.expectCmd(`e STORE 1:2 (UNCHANGEDSINCE 0) +FLAGS (\Flagged)`, `e OK [MODIFIED 1:2] Conditional STORE failed`)
}

// TestCondstoreUnsolicited: once enabled, flag changes made elsewhere come
// as FETCH with UID and MODSEQ (RFC 7162 3.1), also for non-UID commands.
func TestCondstoreUnsolicited(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	a := ts.rawLogin(t, "alice")
	a.cmd("a ENABLE CONDSTORE")
	a.cmd("b SELECT INBOX")
	b := ts.rawLogin(t, "alice")
	b.cmd("a SELECT INBOX")
	b.cmd(`b STORE 2 +FLAGS (\Flagged)`)
	ms := modseqOf(t, ts, "alice", "INBOX")
	a.expectCmd("c NOOP", `* 2 FETCH (FLAGS (\Flagged \Recent) UID 2 MODSEQ (`+ms[2]+`))`, "c OK NOOP completed")
	// A body fetch that sets \Seen reports UID, FLAGS and MODSEQ.
	lines := a.cmd("d FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])")
	ms = modseqOf(t, ts, "alice", "INBOX")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], ` UID 1 FLAGS (\Seen \Recent) MODSEQ (`+ms[1]+`))`) {
		t.Fatalf("FETCH setting \\Seen: %q", lines)
	}
}

// TestCondstoreSearch: RFC 7162 3.1.5 (example 13) and 3.1.6 ESEARCH.
func TestCondstoreSearch(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 4; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	c.cmd("a SELECT INBOX (CONDSTORE)")
	base := highestModSeq(t, ts, "alice", "INBOX")
	c.cmd(`b STORE 2 +FLAGS (\Flagged)`)
	c.cmd(`c STORE 3 +FLAGS (\Seen)`)
	ms := modseqOf(t, ts, "alice", "INBOX")
	next := strconv.Itoa(mustAtoi(t, base) + 1)
	c.expectCmd("d SEARCH MODSEQ "+next, "* SEARCH 2 3 (MODSEQ "+ms[3]+")", "d OK SEARCH completed")
	c.expectCmd("e SEARCH FLAGGED MODSEQ "+next, "* SEARCH 2 (MODSEQ "+ms[2]+")", "e OK SEARCH completed")
	// No match: no MODSEQ.
	c.expectCmd("f SEARCH MODSEQ 999999", "* SEARCH", "f OK SEARCH completed")
	// The entry-name form (RFC 7162 3.1.5) is accepted.
	c.expectCmd(`g UID SEARCH MODSEQ "/flags/\\flagged" all `+next, "* SEARCH 2 3 (MODSEQ "+ms[3]+")", "g OK UID SEARCH completed")
	c.expectCmd("h UID SEARCH RETURN (ALL COUNT) MODSEQ "+next,
		`* ESEARCH (TAG "h") UID ALL 2:3 COUNT 2 MODSEQ `+ms[3], "h OK UID SEARCH completed")
	c.expectCmd("i SEARCH RETURN (MIN) MODSEQ "+next,
		`* ESEARCH (TAG "i") MIN 2 MODSEQ `+ms[2], "i OK SEARCH completed")
	// Without MODSEQ in the criteria, no MODSEQ result.
	c.expectCmd("j SEARCH FLAGGED", "* SEARCH 2", "j OK SEARCH completed")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func hasPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestCondstoreImapclient drives CONDSTORE from go-imap v2's client:
// SELECT (CONDSTORE) gives HIGHESTMODSEQ, FETCH MODSEQ and CHANGEDSINCE
// work.
func TestCondstoreImapclient(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	cl := ts.client(t, "alice")
	data, err := cl.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if want := highestModSeq(t, ts, "alice", "INBOX"); strconv.FormatUint(data.HighestModSeq, 10) != want {
		t.Fatalf("HighestModSeq = %d, want %s", data.HighestModSeq, want)
	}
	ms := modseqOf(t, ts, "alice", "INBOX")
	msgs, err := cl.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, ModSeq: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || strconv.FormatUint(msgs[1].ModSeq, 10) != ms[2] {
		t.Fatalf("FETCH MODSEQ: %+v", msgs)
	}
	if err := cl.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	msgs, err = cl.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, Flags: true, ChangedSince: data.HighestModSeq}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].UID != 2 || msgs[0].Flags[0] != imap.FlagFlagged {
		t.Fatalf("FETCH CHANGEDSINCE: %+v", msgs)
	}
}
