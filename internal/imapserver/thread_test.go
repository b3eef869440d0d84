package imapserver

import (
	"strings"
	"testing"
)

// threadFixture: a discussion with references, a reply found by subject
// only, a referenced-but-missing parent, and an unrelated message.
func threadFixture(t *testing.T) *rawConn {
	ts := newTestServer(t)
	msgs := []string{
		"Subject: Plans\nMessage-ID: <a@x>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n.\n",
		"Subject: Re: Plans\nMessage-ID: <b@x>\nIn-Reply-To: <a@x>\nDate: Mon, 1 Jan 2024 11:00:00 +0000\n\n.\n",
		"Subject: Re: Plans\nMessage-ID: <c@x>\nReferences: <a@x>\n <b@x>\nDate: Mon, 1 Jan 2024 12:00:00 +0000\n\n.\n",
		"Subject: Lunch\nMessage-ID: <d@x>\nReferences: <gone@x>\nDate: Mon, 1 Jan 2024 09:00:00 +0000\n\n.\n",
		"Subject: Re: Lunch\nMessage-ID: <e@x>\nReferences: <gone@x>\nDate: Mon, 1 Jan 2024 13:00:00 +0000\n\n.\n",
		"Subject: [fwd: Plans]\nMessage-ID: <f@x>\nDate: Mon, 1 Jan 2024 10:30:00 +0000\n\n.\n",
		"Subject: Other\nMessage-ID: <g@x>\nDate: Mon, 1 Jan 2024 08:00:00 +0000\n\n.\n",
		"Subject: plans\nMessage-ID: <h@x>\nDate: Mon, 1 Jan 2024 14:00:00 +0000\n\n.\n",
	}
	for _, m := range msgs {
		ts.deliver(t, "alice", "INBOX", crlf(m))
	}
	c := ts.rawLogin(t, "alice")
	lines := c.cmd("s SELECT INBOX")
	if !strings.HasPrefix(lines[len(lines)-1], "s OK") {
		t.Fatalf("SELECT: %q", lines)
	}
	return c
}

func TestThreadOrderedSubject(t *testing.T) {
	c := threadFixture(t)
	// By base subject, each thread's first message (by date) parents the
	// rest; threads by the date of that first message.
	c.expectCmd("a THREAD ORDEREDSUBJECT UTF-8 ALL",
		"* THREAD (7)(4 5)(1 (6)(2)(3)(8))", "a OK THREAD completed")
	c.expectCmd("b THREAD orderedsubject US-ASCII 1:2", "* THREAD (1 2)", "b OK THREAD completed")
	c.expectCmd("c THREAD ORDEREDSUBJECT UTF-8 SUBJECT nothing", "* THREAD", "c OK THREAD completed")
}

func TestThreadReferences(t *testing.T) {
	c := threadFixture(t)
	// 1 <- 2 <- 3 by references; 6 is a forward of the same subject and 8
	// shares it: both join 1's thread by subject (6 as a forward under 1;
	// 8 is not a reply, so 1 and 8 go under a dummy). 4 and 5 share a
	// missing parent: a dummy at the root.
	c.expectCmd("a THREAD REFERENCES UTF-8 ALL",
		"* THREAD (7)((4)(5))((1 (6)(2 3))(8))", "a OK THREAD completed")
	c.expectCmd("b UID THREAD REFERENCES UTF-8 2:3", "* THREAD (2 3)", "b OK UID THREAD completed")
}

func TestThreadErrors(t *testing.T) {
	c := threadFixture(t)
	for _, args := range []string{"BOGUS UTF-8 ALL", "REFERENCES UTF-8", "REFERENCES", "(REFERENCES) UTF-8 ALL"} {
		got := c.cmd("e THREAD " + args)
		if len(got) != 1 || !strings.HasPrefix(got[0], "e BAD") {
			t.Errorf("THREAD %s: %q", args, got)
		}
	}
	got := c.cmd("f THREAD REFERENCES KOI8-X ALL")
	if len(got) != 1 || !strings.HasPrefix(got[0], "f NO [BADCHARSET") {
		t.Errorf("bad charset: %q", got)
	}
}
