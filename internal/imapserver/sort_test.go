package imapserver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// sortFixture delivers five messages into alice's INBOX and returns a
// session with INBOX selected. UIDs equal message numbers.
//
//	msn size-rank  Date (UTC)        From            To     Cc     Subject
//	1   ...        Jan 3 10:00       Zed <z@x>       bob    -      Re: Banana
//	2              (none; Feb 2)     amy@x           carl   dave   apple
//	3              Jan 1 12:00+0500  "Émile" <e@x>   amy    -      [list] banana
//	4              Jan 3 10:00       Bob <bob@x>     -      al     =?UTF-8?Q?=C3=A9t=C3=A9?=
//	5              Jan 2 00:00       bob@x           Amy    -      (none)
func sortFixture(t *testing.T) *rawConn {
	_, c := sortFixtureServer(t, false)
	return c
}

// sortFixtureServer is sortFixture that also returns the server, so the
// test can change the mailbox as another device would; with rev2 the
// session enables IMAP4rev2 first (no RECENT responses).
func sortFixtureServer(t *testing.T, rev2 bool) (*testServer, *rawConn) {
	ts := newTestServer(t)
	msgs := []string{
		"From: Zed <z@x.org>\nTo: bob@x.org\nSubject: Re: Banana\nDate: Wed, 3 Jan 2024 10:00:00 +0000\n\nlong body long body long body long body\n",
		"From: amy@x.org\nTo: carl@x.org\nCc: dave@x.org\nSubject: apple\n\nb\n",
		"From: =?UTF-8?Q?=C3=89mile?= <e@x.org>\nTo: amy@x.org\nSubject: [list] banana\nDate: Mon, 1 Jan 2024 12:00:00 +0500\n\nbody body\n",
		"From: Bob <bob@x.org>\nCc: al@x.org\nSubject: =?UTF-8?Q?=C3=A9t=C3=A9?=\nDate: Wed, 3 Jan 2024 10:00:00 +0000\n\nbo\n",
		"From: bob@x.org\nTo: Amy <amy@x.org>\nDate: Tue, 2 Jan 2024 00:00:00 +0000\n\nbod\n",
	}
	a, mb := ts.account(t, "alice"), ts.mailbox(t, "alice", "INBOX")
	for i, m := range msgs {
		// Internal dates: Feb 1, 2, ... in delivery order.
		m = crlf(m)
		_, err := a.Append(context.Background(), mb.ID, store.AppendRequest{Body: strings.NewReader(m), Size: int64(len(m)),
			InternalDate: time.Date(2024, 2, 1+i, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
	}
	c := ts.rawLogin(t, "alice")
	if rev2 {
		c.cmd("e ENABLE IMAP4rev2")
	}
	lines := c.cmd("s SELECT INBOX")
	if !strings.HasPrefix(lines[len(lines)-1], "s OK") {
		t.Fatalf("SELECT: %q", lines)
	}
	return ts, c
}

func TestSortKeys(t *testing.T) {
	c := sortFixture(t)
	for i, tc := range []struct{ crit, want string }{
		// Message 2 has no Date: its internal date (Feb 2) is the latest.
		{"DATE", "3 5 1 4 2"},
		{"REVERSE DATE", "2 1 4 5 3"},
		{"ARRIVAL", "1 2 3 4 5"},
		{"REVERSE ARRIVAL", "5 4 3 2 1"},
		// Base subjects: BANANA, APPLE, BANANA, ÉTÉ, "".
		{"SUBJECT", "5 2 1 3 4"},
		{"SUBJECT REVERSE DATE", "5 2 1 3 4"},
		{"SUBJECT DATE", "5 2 3 1 4"},
		// addr-mailbox of the first address: z amy e bob bob.
		{"FROM", "2 4 5 3 1"},
		{"TO", "4 3 5 1 2"},
		{"CC", "1 3 5 4 2"},
		{"SIZE", "2 5 4 3 1"},
		// Display names: Zed, amy@x.org, Émile, Bob, bob@x.org; a missing To
		// sorts first (empty string).
		{"DISPLAYFROM", "2 4 5 3 1"},
		{"DISPLAYTO", "4 5 3 1 2"},
		{"REVERSE DISPLAYTO", "2 1 3 5 4"},
		{"FROM REVERSE SIZE", "2 4 5 3 1"},
	} {
		tag := fmt.Sprintf("t%d", i)
		c.expectCmd(tag+" SORT ("+tc.crit+") UTF-8 ALL", "* SORT "+tc.want, tag+" OK SORT completed")
	}
}

func TestSortSearchAndUID(t *testing.T) {
	c := sortFixture(t)
	c.expectCmd("a UID SORT (SUBJECT) US-ASCII FROM bob", "* SORT 5 4", "a OK UID SORT completed")
	c.expectCmd("b SORT (DATE) utf-8 2:4", "* SORT 3 4 2", "b OK SORT completed")
	c.expectCmd("c SORT (DATE) UTF-8 SUBJECT nothing", "* SORT", "c OK SORT completed")
	c.expectCmd(`d SORT (SUBJECT) ISO-8859-1 SUBJECT {3+}`+"\r\n"+"\xe9t\xe9", "* SORT 4", "d OK SORT completed")
	c.expectCmd("e STORE 1 +FLAGS.SILENT (\\Deleted)", "e OK STORE completed")
	c.expectCmd("f UID SORT (REVERSE SIZE) UTF-8 UNDELETED", "* SORT 3 4 5 2", "f OK UID SORT completed")
}

func TestSortErrors(t *testing.T) {
	c := sortFixture(t)
	for i, tc := range []struct{ args, want string }{
		{"(DATE) ALL", "NO [BADCHARSET"}, // charset required: ALL is taken as one
		{"() UTF-8 ALL", "BAD"},          // empty criteria
		{"(BOGUS) UTF-8 ALL", "BAD"},     // unknown key
		{"(REVERSE) UTF-8 ALL", "BAD"},   // REVERSE alone
		{"(DATE) UTF-8", "BAD"},          // no search key
		{"DATE UTF-8 ALL", "BAD"},        // not a list
		{"(DATE) X-UNKNOWN ALL", "NO [BADCHARSET"},
		{"RETURN (PARTIAL 1:2 ALL) (DATE) UTF-8 ALL", "BAD"}, // RFC 9394 3.1: one or the other
	} {
		tag := fmt.Sprintf("e%d", i)
		got := c.cmd(tag + " SORT " + tc.args)
		if len(got) != 1 || !strings.HasPrefix(got[0], tag+" "+tc.want) {
			t.Errorf("SORT %s: %q, want %s", tc.args, got, tc.want)
		}
	}
}

func TestESort(t *testing.T) {
	c := sortFixture(t)
	c.expectCmd("a SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL",
		`* ESEARCH (TAG "a") MIN 3 MAX 2 COUNT 5`, "a OK SORT completed")
	c.expectCmd("b UID SORT RETURN (ALL) (REVERSE DATE) UTF-8 ALL",
		`* ESEARCH (TAG "b") UID ALL 2,1,4:5,3`, "b OK UID SORT completed")
	c.expectCmd("c SORT RETURN () (ARRIVAL) UTF-8 ALL",
		`* ESEARCH (TAG "c") ALL 1:5`, "c OK SORT completed")
	c.expectCmd("d SORT RETURN (MIN ALL COUNT) (DATE) UTF-8 SUBJECT nothing",
		`* ESEARCH (TAG "d") COUNT 0`, "d OK SORT completed")
	// RFC 5182: SAVE keeps the set, not the order.
	c.expectCmd("e SORT RETURN (SAVE) (REVERSE DATE) UTF-8 1:3", "e OK SORT completed")
	c.expectCmd("f SEARCH $", "* SEARCH 1 2 3", "f OK SEARCH completed")
	c.expectCmd("g SORT RETURN (SAVE MAX) (REVERSE DATE) UTF-8 ALL", `* ESEARCH (TAG "g") MAX 3`, "g OK SORT completed")
	c.expectCmd("h SEARCH $", "* SEARCH 3", "h OK SEARCH completed")
}

func TestSortModSeq(t *testing.T) {
	c := sortFixture(t)
	got := c.cmd("a SORT (REVERSE ARRIVAL) UTF-8 MODSEQ 1")
	// CONDSTORE is enabled by the MODSEQ key (RFC 7162 3.1).
	if len(got) != 3 || !strings.HasPrefix(got[0], "* OK [HIGHESTMODSEQ ") ||
		!strings.HasPrefix(got[1], "* SORT 5 4 3 2 1 (MODSEQ ") || got[2] != "a OK SORT completed" {
		t.Fatalf("SORT MODSEQ: %q", got)
	}
}
