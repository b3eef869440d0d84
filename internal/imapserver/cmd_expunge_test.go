package imapserver

import (
	"strings"
	"testing"
)

func TestExpunge(t *testing.T) {
	ts, c := storeServer(t, 5, false)
	other := ts.rawLogin(t, "alice")
	other.cmd("s SELECT INBOX")
	c.expectCmd("a EXPUNGE", "a OK EXPUNGE completed")
	c.expectCmd(`b STORE 2,4 +FLAGS.SILENT (\Deleted)`, "b OK STORE completed")
	// RFC 9051 7.4.1: each EXPUNGE uses the numbering left by the
	// previous one: messages 2 and 4 of 5 give 2 then 3.
	c.expectCmd("c EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE", "c OK EXPUNGE completed")
	c.expectCmd("d FETCH 1:* UID", "* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 5)", "d OK FETCH completed")
	// The other session learns of it at its next command.
	lines := other.cmd("n NOOP")
	if got := strings.Join(lines, "|"); !strings.HasPrefix(got, "* 2 EXPUNGE|* 3 EXPUNGE|") || !strings.HasSuffix(got, "n OK NOOP completed") {
		t.Fatalf("other session: %q", lines)
	}
}

func TestUIDExpunge(t *testing.T) {
	_, c := storeServer(t, 5, true)
	c.expectCmd(`a STORE 1:* +FLAGS.SILENT (\Deleted)`, "a OK STORE completed")
	// RFC 4315 2.1: only the \Deleted messages of the UID set go.
	c.expectCmd("b UID EXPUNGE 2:3,5", "* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE", "b OK UID EXPUNGE completed")
	// A set naming no message expunges nothing (not "everything").
	c.expectCmd("c UID EXPUNGE 99", "c OK UID EXPUNGE completed")
	c.expectCmd("d FETCH 1:* UID", "* 1 FETCH (UID 1)", "* 2 FETCH (UID 4)", "d OK FETCH completed")
	c.expectCmd(`e STORE 2 -FLAGS.SILENT (\Deleted)`, "e OK STORE completed")
	c.expectCmd("f UID EXPUNGE 1:*", "* 1 EXPUNGE", "f OK UID EXPUNGE completed")
	c.expectCmd("g FETCH 1:* UID", "* 1 FETCH (UID 4)", "g OK FETCH completed")
}

func TestExpungeErrors(t *testing.T) {
	_, c := storeServer(t, 2, false)
	for _, tc := range []struct{ cmd, want string }{
		{"a EXPUNGE 1", "a BAD "},
		{"b UID EXPUNGE", "b BAD "},
		{"c UID EXPUNGE x", "c BAD "},
	} {
		got := c.cmd(tc.cmd)
		if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
			t.Errorf("%s: got %q, want one line starting %q", tc.cmd, got, tc.want)
		}
	}
	c.expectCmd(`d STORE 1 +FLAGS.SILENT (\Deleted)`, "d OK STORE completed")
	c.cmd("e EXAMINE INBOX")
	c.expectCmd("f EXPUNGE", "f NO Mailbox is read-only")
	c.expectCmd("g UID EXPUNGE 1", "g NO Mailbox is read-only")
	c.expectCmd("h FETCH 1:* UID", "* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "h OK FETCH completed")
}
