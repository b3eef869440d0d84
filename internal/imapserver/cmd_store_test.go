package imapserver

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/casier/casier/internal/imapwire"
)

// storeServer delivers n plain messages to alice's INBOX and returns a raw
// connection with INBOX selected, IMAP4rev2 enabled when rev2.
func storeServer(t *testing.T, n int, rev2 bool) (*testServer, *rawConn) {
	ts := newTestServer(t)
	for i := 1; i <= n; i++ {
		ts.deliverAt(t, "alice", "INBOX", harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	if rev2 {
		c.expectCmd("e ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "e OK ENABLE completed")
	}
	c.cmd("s SELECT INBOX")
	return ts, c
}

func TestStoreVariants(t *testing.T) {
	_, c := storeServer(t, 3, false)
	// RFC 9051 6.4.6: FLAGS replaces, +FLAGS adds, -FLAGS removes; the new
	// flags come back (with \Recent for this IMAP4rev1 session) in the
	// store's order.
	c.expectCmd(`a STORE 1 FLAGS (\Seen \Flagged)`, `* 1 FETCH (FLAGS (\Flagged \Seen \Recent))`, "a OK STORE completed")
	c.expectCmd(`b STORE 1:2 +FLAGS (\Answered)`,
		`* 1 FETCH (FLAGS (\Answered \Flagged \Seen \Recent))`,
		`* 2 FETCH (FLAGS (\Answered \Recent))`,
		"b OK STORE completed")
	c.expectCmd(`c STORE 1 -FLAGS (\Seen \Answered)`, `* 1 FETCH (FLAGS (\Flagged \Recent))`, "c OK STORE completed")
	// A bare flag list (no parentheses) is allowed for STORE.
	c.expectCmd(`d STORE 3 +FLAGS \Deleted $Junk`, `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Junk)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Junk \*)] Flags permitted.`,
		`* 3 FETCH (FLAGS ($Junk \Deleted \Recent))`, "d OK STORE completed")
	// Messages whose flags do not change still get their flags back.
	c.expectCmd(`e STORE 1:3 +FLAGS (\Flagged)`,
		`* 1 FETCH (FLAGS (\Flagged \Recent))`,
		`* 2 FETCH (FLAGS (\Answered \Flagged \Recent))`,
		`* 3 FETCH (FLAGS ($Junk \Deleted \Flagged \Recent))`,
		"e OK STORE completed")
	// .SILENT: no FETCH.
	c.expectCmd(`f STORE 1:3 FLAGS.SILENT ()`, "f OK STORE completed")
	c.expectCmd("g FETCH 1:3 FLAGS",
		`* 1 FETCH (FLAGS (\Recent))`, `* 2 FETCH (FLAGS (\Recent))`, `* 3 FETCH (FLAGS (\Recent))`,
		"g OK FETCH completed")
	// UID STORE includes the UID; \Recent cannot be stored and is ignored
	// (RFC 3501 2.3.2); keywords keep their case.
	c.expectCmd(`h UID STORE 2 +FLAGS (\Recent $Later \seen)`,
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Junk $Later)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Junk $Later \*)] Flags permitted.`,
		`* 2 FETCH (UID 2 FLAGS ($Later \Seen \Recent))`, "h OK UID STORE completed")
	c.expectCmd(`i UID STORE 7 +FLAGS (\Seen)`, "i OK UID STORE completed")
	c.expectCmd(`j NOOP`, "j OK NOOP completed")
}

func TestStoreErrors(t *testing.T) {
	_, c := storeServer(t, 2, false)
	for _, tc := range []struct{ cmd, want string }{
		{`a STORE 3 +FLAGS (\Seen)`, "a BAD "},
		{`b STORE 1 +FLAGS (\Foo)`, `b BAD Invalid system flag \Foo`},
		{`c STORE 1 FLAGZ (\Seen)`, "c BAD Unknown STORE item FLAGZ"},
		{`e STORE 1 +FLAGS`, "e BAD "},
		{`f STORE 1 +FLAGS (\Seen`, "f BAD "},
		{`g STORE 1 +FLAGS (\*)`, "g BAD "},
	} {
		got := c.cmd(tc.cmd)
		if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
			t.Errorf("%s: got %q, want one line starting %q", tc.cmd, got, tc.want)
		}
	}
	// RFC 9051 6.3.3: EXAMINE is read-only.
	c.cmd("x EXAMINE INBOX")
	c.expectCmd(`h STORE 1 +FLAGS (\Seen)`, "h NO Mailbox is read-only")
	c.expectCmd(`i UID STORE 1 +FLAGS (\Seen)`, "i NO Mailbox is read-only")
}

func TestStoreRev2AndLargeSets(t *testing.T) {
	_, c := storeServer(t, 100, true)
	c.expectCmd(`a STORE 1:50 +FLAGS.SILENT (\Seen)`, "a OK STORE completed")
	// 100 responses: 50 changed, 50 unchanged (read in one entry scan); no
	// \Recent in IMAP4rev2.
	lines := c.cmd(`b STORE 1:* +FLAGS (\Seen)`)
	if len(lines) != 101 || lines[100] != "b OK STORE completed" {
		t.Fatalf("STORE 1:*: %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	for i := 1; i <= 100; i++ {
		if want := "* " + strconv.Itoa(i) + ` FETCH (FLAGS (\Seen))`; lines[i-1] != want {
			t.Fatalf("line %d: %q, want %q", i, lines[i-1], want)
		}
	}
	lines = c.cmd(`c UID STORE 1:* -FLAGS (\Seen)`)
	if len(lines) != 101 || lines[99] != `* 100 FETCH (UID 100 FLAGS ())` {
		t.Fatalf("UID STORE 1:*: %d lines, %q", len(lines), lines[99])
	}
}

func TestStoreWithClient(t *testing.T) {
	ts := newTestServer(t)
	ts.deliverAt(t, "alice", "INBOX", fxSimple)
	ts.deliverAt(t, "alice", "INBOX", fxMultipart)
	cl := ts.client(t, "alice")
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := cl.Store(imap.UIDSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "$Label1"}}, nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs {
		if m.UID != imap.UID(m.SeqNum) || len(m.Flags) != 3 || m.Flags[0] != "$Label1" || m.Flags[1] != imap.FlagFlagged || m.Flags[2] != `\Recent` {
			t.Errorf("message %d: uid %d flags %v", m.SeqNum, m.UID, m.Flags)
		}
	}
}

func init() {
	// Test-only: CONDSTORE cannot be enabled yet (not advertised), but the
	// FETCH and STORE paths for it exist; this turns it on for a session.
	register("XTESTCONDSTORE", stateAuthed, true, func(s *Session, cmd *imapwire.Command) error {
		s.condstore = true
		return nil
	})
}

// modseqs returns the current MODSEQ of alice's INBOX messages by UID.
func modseqs(t *testing.T, ts *testServer) map[uint32]string {
	t.Helper()
	es, err := ts.account(t, "alice").Entries(context.Background(), ts.mailbox(t, "alice", "INBOX").ID)
	if err != nil {
		t.Fatal(err)
	}
	m := map[uint32]string{}
	for _, e := range es {
		m[e.UID] = strconv.FormatUint(e.ModSeq, 10)
	}
	return m
}

func TestCondStorePaths(t *testing.T) {
	ts, c := storeServer(t, 3, true)
	c.expectCmd("x XTESTCONDSTORE", "x OK XTESTCONDSTORE completed")
	ms := modseqs(t, ts)
	c.expectCmd("a FETCH 1 (FLAGS MODSEQ)", "* 1 FETCH (FLAGS () MODSEQ ("+ms[1]+"))", "a OK FETCH completed")
	// RFC 7162 3.1.3: .SILENT still returns the new MODSEQ.
	lines := c.cmd(`b STORE 2 +FLAGS.SILENT (\Flagged)`)
	ms = modseqs(t, ts)
	if want := "* 2 FETCH (UID 2 MODSEQ (" + ms[2] + "))|b OK STORE completed"; strings.Join(lines, "|") != want {
		t.Fatalf("silent STORE: %q, want %q", lines, want)
	}
	// RFC 7162 3.1.4.1: CHANGEDSINCE returns only what changed, with MODSEQ.
	c.expectCmd("c FETCH 1:* (FLAGS) (CHANGEDSINCE "+ms[3]+")", `* 2 FETCH (FLAGS (\Flagged) MODSEQ (`+ms[2]+`))`, "c OK FETCH completed")
	c.expectCmd("d UID FETCH 1:* (UID) (CHANGEDSINCE "+ms[2]+")", "d OK UID FETCH completed")
	// UNCHANGEDSINCE: message 2 changed after message 3 was delivered, so
	// it fails; 1 and 3 pass (RFC 7162 3.1.3).
	lines = c.cmd(`e STORE 1:3 (UNCHANGEDSINCE ` + ms[3] + `) +FLAGS (\Seen)`)
	ms2 := modseqs(t, ts)
	want := []string{
		`* 1 FETCH (UID 1 FLAGS (\Seen) MODSEQ (` + ms2[1] + `))`,
		`* 3 FETCH (UID 3 FLAGS (\Seen) MODSEQ (` + ms2[3] + `))`,
		"e OK [MODIFIED 2] Conditional STORE failed",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("conditional STORE:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	c.expectCmd(`f UID STORE 3 (UNCHANGEDSINCE 0) -FLAGS (\Seen)`, "f OK [MODIFIED 3] Conditional STORE failed")
	// \Seen set by a body fetch: FLAGS and MODSEQ follow.
	lines = c.cmd("g FETCH 2 BODY[TEXT]")
	ms3 := modseqs(t, ts)
	if len(lines) != 2 || !strings.HasSuffix(lines[0], `FLAGS (\Flagged \Seen) MODSEQ (`+ms3[2]+`))`) {
		t.Fatalf("FETCH BODY[TEXT] under CONDSTORE: %q", lines)
	}
}
