package imapserver

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/casier/casier/internal/store"
)

// Tests of SORT contexts (RFC 5267 4, CONTEXT=SORT) and of the ESORT
// PARTIAL option, on the five messages of sortFixture. Their DATE order
// is 3 5 1 4 2 (1 and 4 have the same date, so UID order breaks the tie).

// datedMessage is a message with the given Date header.
func datedMessage(i int, date string) string {
	return crlf(fmt.Sprintf("From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: dated %d\nDate: %s\nMessage-ID: <d%d@example.org>\n\nHello %d.\n", i, date, i, i))
}

// TestSortContextUpdates: UID SORT RETURN (UPDATE) keeps a sorted result
// up to date, with ADDTO and REMOVEFROM carrying positions in sort order
// (RFC 5267 4.3.3, 4.3.4), until CANCELUPDATE.
func TestSortContextUpdates(t *testing.T) {
	ts, c := sortFixtureServer(t, true)
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagFlagged}, 1, 2, 4)
	c.expectCmd("n0 NOOP", `* 1 FETCH (FLAGS (\Flagged))`, `* 2 FETCH (FLAGS (\Flagged))`, `* 4 FETCH (FLAGS (\Flagged))`, "n0 OK NOOP completed")
	c.expectCmd("a UID SORT RETURN (COUNT UPDATE) (DATE) UTF-8 UNSEEN", `* ESEARCH (TAG "a") UID COUNT 5`, "a OK UID SORT completed")
	// Base subjects BANANA, APPLE, ÉTÉ: reversed, 4 1 2.
	c.expectCmd("b UID SORT RETURN (UPDATE) (REVERSE SUBJECT) UTF-8 FLAGGED", `* ESEARCH (TAG "b") UID ALL 4,1:2`, "b OK UID SORT completed")

	// A delivery dated between 5 (Jan 2) and 1 (Jan 3) is third: 3 5 6 1 4 2.
	ts.deliver(t, "alice", "INBOX", datedMessage(6, "Tue, 2 Jan 2024 12:00:00 +0000"))
	c.expectCmd("n1 NOOP", "* 6 EXISTS", `* ESEARCH (TAG "a") UID ADDTO (3 6)`, "n1 OK NOOP completed")

	// Two at once: one goes first, the other ties with 1 and 4 and
	// follows them by UID; a pair each, the second counted after the
	// first was inserted: 7 3 5 6 1 4 8 2.
	ts.deliver(t, "alice", "INBOX", datedMessage(7, "Sun, 31 Dec 2023 08:00:00 +0000"))
	ts.deliver(t, "alice", "INBOX", datedMessage(8, "Wed, 3 Jan 2024 10:00:00 +0000"))
	c.expectCmd("n2 NOOP", "* 8 EXISTS", `* ESEARCH (TAG "a") UID ADDTO (1 7 7 8)`, "n2 OK NOOP completed")

	// Another device marks 5, 6 and 2 seen: one pair for the adjacent 5
	// and 6, then 2, at its position once they are gone: 7 3 1 4 8.
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagSeen}, 2, 5, 6)
	c.expectCmd("n3 NOOP", `* 2 FETCH (FLAGS (\Flagged \Seen))`, `* 5 FETCH (FLAGS (\Seen))`, `* 6 FETCH (FLAGS (\Seen))`,
		`* ESEARCH (TAG "a") UID REMOVEFROM (3 5:6 6 2)`, "n3 OK NOOP completed")

	// The session's own STORE: 5 comes back to its place, and removing
	// \Flagged from 1 takes it out of the other context only (it stays
	// in the first, unchanged: no update there).
	c.expectCmd(`s1 UID STORE 5 -FLAGS (\Seen)`, `* ESEARCH (TAG "a") UID ADDTO (3 5)`, `* 5 FETCH (UID 5 FLAGS ())`, "s1 OK UID STORE completed")
	c.expectCmd(`s2 STORE 1 -FLAGS (\Flagged)`, `* ESEARCH (TAG "b") UID REMOVEFROM (2 1)`, `* 1 FETCH (FLAGS ())`, "s2 OK STORE completed")

	// Expunges elsewhere: REMOVEFROM before the EXPUNGE responses, while
	// message numbers still hold. 7 3 5 1 4 8 loses 3 (second) and 8
	// (sixth, fifth once 3 is gone).
	expunge(t, ts, "INBOX", 3, 8)
	c.expectCmd("n4 NOOP", `* ESEARCH (TAG "a") UID REMOVEFROM (2 3 5 8)`, "* 3 EXPUNGE", "* 7 EXPUNGE", "n4 OK NOOP completed")
	c.expectCmd("r UID SORT RETURN (ALL) (DATE) UTF-8 UNSEEN", `* ESEARCH (TAG "r") UID ALL 7,5,1,4`, "r OK UID SORT completed")

	// CANCELUPDATE ends the updates of both; the tags are free again.
	c.expectCmd(`x CANCELUPDATE "a" "b"`, "x OK CANCELUPDATE completed")
	ts.deliver(t, "alice", "INBOX", datedMessage(9, "Sat, 30 Dec 2023 08:00:00 +0000"))
	c.expectCmd("n5 NOOP", "* 7 EXISTS", "n5 OK NOOP completed")
	c.expectCmd(`y CANCELUPDATE "a"`, "y BAD No search context with tag a")
}

// TestSortContextMessageNumbers: SORT (not UID SORT) contexts carry
// message numbers (RFC 5267 4.3.2): a removal is numbered before the
// EXPUNGE, an addition after the EXISTS.
func TestSortContextMessageNumbers(t *testing.T) {
	ts, c := sortFixtureServer(t, true)
	c.expectCmd("a SORT RETURN (UPDATE) (REVERSE ARRIVAL) UTF-8 ALL", `* ESEARCH (TAG "a") ALL 5,4,3,2,1`, "a OK SORT completed")
	c.expectCmd("b SORT RETURN (MIN UPDATE) (SUBJECT) UTF-8 ALL", `* ESEARCH (TAG "b") MIN 5`, "b OK SORT completed")
	expunge(t, ts, "INBOX", 2, 5)
	// Subjects: 5 "", 2 APPLE, 1 BANANA, 3 BANANA, 4 ÉTÉ.
	c.expectCmd("n1 NOOP", `* ESEARCH (TAG "a") REMOVEFROM (1 5 3 2)`, `* ESEARCH (TAG "b") REMOVEFROM (1 5,2)`,
		"* 2 EXPUNGE", "* 4 EXPUNGE", "n1 OK NOOP completed")
	// Left: UIDs 1 3 4 as 1 2 3. The newest arrival is first; its
	// subject, DATED 6, sorts between BANANA and ÉTÉ.
	ts.deliver(t, "alice", "INBOX", datedMessage(6, "Tue, 2 Jan 2024 12:00:00 +0000"))
	c.expectCmd("n2 NOOP", "* 4 EXISTS", `* ESEARCH (TAG "a") ADDTO (1 4)`, `* ESEARCH (TAG "b") ADDTO (3 4)`, "n2 OK NOOP completed")
}

// TestSortContextPartial: PARTIAL pages the sorted result (RFC 5267 4.4,
// RFC 9394 3.1), and with UPDATE the client still hears of every change,
// inside its page or not (RFC 5267 4.4: the options do not interact).
func TestSortContextPartial(t *testing.T) {
	ts, c := sortFixtureServer(t, true)
	c.expectCmd("a UID SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL", `* ESEARCH (TAG "a") UID PARTIAL (2:3 5,1)`, "a OK UID SORT completed")
	c.expectCmd("b SORT RETURN (PARTIAL -1:-2 COUNT) (DATE) UTF-8 ALL", `* ESEARCH (TAG "b") COUNT 5 PARTIAL (-1:-2 4,2)`, "b OK SORT completed")
	c.expectCmd("c SORT RETURN (PARTIAL 6:9) (DATE) UTF-8 ALL", `* ESEARCH (TAG "c") PARTIAL (6:9 NIL)`, "c OK SORT completed")
	c.expectCmd("d SORT RETURN (PARTIAL 1:9) (DATE) UTF-8 SUBJECT nothing", `* ESEARCH (TAG "d") PARTIAL (1:9 NIL)`, "d OK SORT completed")
	// REVERSE DATE is 2 1 4 5 3 (REVERSE turns the dates, not the tie
	// between 1 and 4). SAVE with PARTIAL keeps what PARTIAL returned
	// (RFC 9394 3.1), as a set.
	c.expectCmd("e SORT RETURN (SAVE PARTIAL 1:2) (REVERSE DATE) UTF-8 ALL", `* ESEARCH (TAG "e") PARTIAL (1:2 2,1)`, "e OK SORT completed")
	c.expectCmd("f SEARCH $", `* ESEARCH (TAG "f") ALL 1:2`, "f OK SEARCH completed")

	c.expectCmd("p UID SORT RETURN (PARTIAL 1:2 UPDATE) (DATE) UTF-8 ALL", `* ESEARCH (TAG "p") UID PARTIAL (1:2 3,5)`, "p OK UID SORT completed")
	ts.deliver(t, "alice", "INBOX", datedMessage(6, "Thu, 4 Jan 2024 12:00:00 +0000")) // fifth: 3 5 1 4 6 2
	c.expectCmd("n NOOP", "* 6 EXISTS", `* ESEARCH (TAG "p") UID ADDTO (5 6)`, "n OK NOOP completed")
}

// TestSortContextLimits: a tag already naming a context cannot ask for
// another (RFC 5267 4.3: BAD); past the limits a SORT is answered once,
// with an untagged NO [NOUPDATE] (RFC 5267 4.3.1).
func TestSortContextLimits(t *testing.T) {
	ts, c := sortFixtureServer(t, true)
	c.expectCmd("a UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL", `* ESEARCH (TAG "a") UID COUNT 5`, "a OK UID SORT completed")
	c.expectCmd("a UID SORT RETURN (UPDATE COUNT) (SUBJECT) UTF-8 ALL", "a BAD Tag a already names a search context")
	c.expectCmd("s UID SEARCH RETURN (UPDATE COUNT) ALL", `* ESEARCH (TAG "s") UID COUNT 5`, "s OK UID SEARCH completed")
	c.expectCmd("s SORT RETURN (UPDATE) (DATE) UTF-8 ALL", "s BAD Tag s already names a search context")
	// Without UPDATE a tag may be reused (RFC 9051 2.2.1 allows it).
	c.expectCmd("a UID SORT RETURN (COUNT) (DATE) UTF-8 ALL", `* ESEARCH (TAG "a") UID COUNT 5`, "a OK UID SORT completed")

	for i := 2; i < maxSearchContexts; i++ {
		tag := "t" + strconv.Itoa(i)
		c.expectCmd(tag+" UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL", `* ESEARCH (TAG "`+tag+`") UID COUNT 5`, tag+" OK UID SORT completed")
	}
	c.expectCmd("x UID SORT RETURN (UPDATE MIN) (DATE) UTF-8 ALL", `* NO [NOUPDATE "x"] Too many contexts`,
		`* ESEARCH (TAG "x") UID MIN 3`, "x OK UID SORT completed")
	c.expectCmd(`y CANCELUPDATE "x"`, "y BAD No search context with tag x")

	// The sort keys kept are bounded too: 5 kept, 5 more would pass 7.
	c.expectCmd(`z CANCELUPDATE "t2" "t3"`, "z OK CANCELUPDATE completed")
	saved := maxSortContextKeys
	maxSortContextKeys = 5 * (maxSearchContexts - 3) // the contexts left: a, t4... (s keeps no keys)
	t.Cleanup(func() { maxSortContextKeys = saved })
	c.expectCmd("k1 UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 2:5", `* NO [NOUPDATE "k1"] Too many contexts`,
		`* ESEARCH (TAG "k1") UID COUNT 4`, "k1 OK UID SORT completed")
	maxSortContextKeys++
	c.expectCmd("k2 UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 5", `* ESEARCH (TAG "k2") UID COUNT 1`, "k2 OK UID SORT completed")

	// Every context left gets the update: all but t2 and t3, and k2.
	expunge(t, ts, "INBOX", 5)
	got := c.cmd("n NOOP")
	if len(got) != maxSearchContexts-1+2 || got[len(got)-2] != "* 5 EXPUNGE" {
		t.Fatalf("NOOP after an expunge: %q", got)
	}
	for _, l := range got[:len(got)-2] {
		if !strings.HasSuffix(l, " UID REMOVEFROM (2 5)") && l != `* ESEARCH (TAG "s") UID REMOVEFROM (0 5)` &&
			l != `* ESEARCH (TAG "k2") UID REMOVEFROM (1 5)` {
			t.Errorf("update %q", l)
		}
	}
}
