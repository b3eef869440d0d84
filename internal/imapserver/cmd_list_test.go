package imapserver

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestListPatternMatch(t *testing.T) {
	tests := []struct {
		ref, pat, name string
		want           bool
	}{
		{"", "*", "a/b/c", true},
		{"", "%", "a", true},
		{"", "%", "a/b", false},
		{"", "a/%", "a/b", true},
		{"", "a/%", "a/b/c", false},
		{"", "a/*", "a/b/c", true},
		{"", "a/*", "a", false},
		{"", "a*", "a", true},
		{"", "a*", "ab/c", true},
		{"", "a%", "ab/c", false},
		{"", "%/%", "a/b", true},
		{"", "%b", "a/b", false},
		{"", "*b", "a/b", true},
		{"", "a%c", "abbc", true},
		{"", "a%c", "ab/c", false},
		{"", "Sent", "sent", false}, // names other than INBOX are case-sensitive
		{"", "Sent", "Sent", true},
		{"", "", "", true},
		// RFC 9051 6.3.9: reference and pattern are concatenated.
		{"a/", "%", "a/b", true},
		{"a/", "%", "a", false},
		{"a/", "/b", "a/b", true},
		{"a", "/%", "a/b", true},
		{"Arch", "*", "Archive", true},
		// INBOX is case-insensitive, also as a parent; otherwise the
		// upper-case name must match (RFC 9051 6.3.9).
		{"", "inbox", "INBOX", true},
		{"", "InBoX/x", "INBOX/x", true},
		{"inBOX", "/%", "INBOX/x", true},
		{"", "in*", "INBOX", false},
		{"", "IN*", "INBOX", true},
		{"", "I%/x", "INBOX/x", true},
		{"", "inbox2", "INBOX2", false},
		{"", "INBOX*", "INBOXES", true},
		{"", "inbox*", "INBOXES", false},
		// Merged wildcards behave like single ones.
		{"", "**%%*", "a/b", true},
		{"", "%%", "a/b", false},
		{"", "a%*%c", "a/b/c", true},
		// UTF-8 names match byte-wise.
		{"", "日本%", "日本語", true},
		{"", "日*語", "日本/語", true},
		{"", "日%語", "日本/語", false},
	}
	for _, tt := range tests {
		p := compilePattern(canonicalPattern(tt.ref, tt.pat))
		if got := p.match(tt.name); got != tt.want {
			t.Errorf("ref %q pattern %q name %q: got %v, want %v", tt.ref, tt.pat, tt.name, got, tt.want)
		}
	}
}

func TestListPatternTooLong(t *testing.T) {
	p := compilePattern(strings.Repeat("a", maxPatternLen+1))
	if p.match(strings.Repeat("a", maxPatternLen+1)) {
		t.Fatal("an over-long pattern must match nothing")
	}
	// Wildcard runs collapse, so a long run of them is still accepted.
	p = compilePattern(strings.Repeat("*%", 10000) + "x")
	if !p.match("a/b/x") {
		t.Fatal("collapsed wildcard run should match")
	}
}

func TestParentNames(t *testing.T) {
	if got := parentNames("a/b/c"); !slices.Equal(got, []string{"a", "a/b"}) {
		t.Fatalf("parentNames: %q", got)
	}
	if got := parentNames("a"); len(got) != 0 {
		t.Fatalf("parentNames(a): %q", got)
	}
}

// refMatch is a naive backtracking matcher used as the oracle.
func refMatch(p, n string) bool {
	if p == "" {
		return n == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(n); i++ {
			if refMatch(p[1:], n[i:]) {
				return true
			}
		}
		return false
	case '%':
		for i := 0; i <= len(n); i++ {
			if i > 0 && n[i-1] == '/' {
				return false
			}
			if refMatch(p[1:], n[i:]) {
				return true
			}
		}
		return false
	}
	return n != "" && p[0] == n[0] && refMatch(p[1:], n[1:])
}

func FuzzListPattern(f *testing.F) {
	f.Add("a/%", "a/b")
	f.Add("*b*", "a/b/c")
	f.Add("inbox/%", "INBOX/x")
	f.Add("%%*", "")
	f.Fuzz(func(t *testing.T, pat, name string) {
		if len(pat) > 12 || len(name) > 12 {
			return // keep the oracle cheap
		}
		cp := canonicalPattern("", pat)
		got := compilePattern(cp).match(name)
		if want := refMatch(cp, name); got != want {
			t.Fatalf("pattern %q name %q: got %v, want %v", pat, name, got, want)
		}
	})
}

// Default folders of a new user (store/sqlite): INBOX, Archive, Drafts,
// Junk, Sent, Trash and All Mail, all subscribed, and the \Noselect
// parent of the label folders, not subscribed (docs/labels.md).
var defaultList = []string{
	`* LIST (\HasNoChildren) "/" INBOX`,
	`* LIST (\HasNoChildren \All) "/" "All Mail"`,
	`* LIST (\HasNoChildren \Archive) "/" "Archive"`,
	`* LIST (\HasNoChildren \Drafts) "/" "Drafts"`,
	`* LIST (\HasNoChildren \Junk) "/" "Junk"`,
	`* LIST (\Noselect \HasNoChildren) "/" "Labels"`,
	`* LIST (\HasNoChildren \Sent) "/" "Sent"`,
	`* LIST (\HasNoChildren \Trash) "/" "Trash"`,
}

func TestListRootAndDefaults(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	// RFC 9051 6.3.9: the empty name asks for delimiter and root.
	c.expectCmd(`a LIST "" ""`, `* LIST (\Noselect) "/" ""`, `a OK LIST completed`)
	c.expectCmd(`b LIST "Archive/x" ""`, `* LIST (\Noselect) "/" ""`, `b OK LIST completed`)
	c.expectCmd(`c LIST "" *`, append(slices.Clone(defaultList), `c OK LIST completed`)...)
	c.expectCmd(`d LIST "" %`, append(slices.Clone(defaultList), `d OK LIST completed`)...)
	c.expectCmd(`e LIST "" inbox`, `* LIST (\HasNoChildren) "/" INBOX`, `e OK LIST completed`)
	c.expectCmd(`f LIST "" nothing*`, `f OK LIST completed`)
	// An extended LIST never treats "" as special (RFC 5258 3).
	c.expectCmd(`g LIST () "" ""`, `g OK LIST completed`)
	c.expectCmd(`h LIST "" "" RETURN ()`, `h OK LIST completed`)
	// LIST is not allowed before authentication.
	r := ts.raw(t)
	r.expectCmd(`x LIST "" *`, `x BAD LIST not allowed now.`)
}

func TestListHierarchyAndReference(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a CREATE work/2024/q1`, `a OK [MAILBOXID (F19)] CREATE completed`)
	c.expectCmd(`b CREATE INBOX/lists`, `b OK [MAILBOXID (F20)] CREATE completed`)
	c.expectCmd(`c LIST "" %`,
		`* LIST (\HasChildren) "/" INBOX`,
		`* LIST (\HasNoChildren \All) "/" "All Mail"`,
		`* LIST (\HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\HasNoChildren \Junk) "/" "Junk"`,
		`* LIST (\Noselect \HasNoChildren) "/" "Labels"`,
		`* LIST (\HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\HasNoChildren \Trash) "/" "Trash"`,
		`* LIST (\HasChildren) "/" "work"`,
		`c OK LIST completed`)
	c.expectCmd(`d LIST "" work/*`,
		`* LIST (\HasChildren) "/" "work/2024"`,
		`* LIST (\HasNoChildren) "/" "work/2024/q1"`,
		`d OK LIST completed`)
	c.expectCmd(`e LIST work/ %`, `* LIST (\HasChildren) "/" "work/2024"`, `e OK LIST completed`)
	c.expectCmd(`f LIST "work" "/%/%"`, `* LIST (\HasNoChildren) "/" "work/2024/q1"`, `f OK LIST completed`)
	c.expectCmd(`g LIST "" inbox/%`, `* LIST (\HasNoChildren) "/" "INBOX/lists"`, `g OK LIST completed`)
	// Several patterns; a name matching two is listed once (RFC 5258 3).
	c.expectCmd(`h LIST "" ("Sent" "work" "S*")`,
		`* LIST (\HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\HasChildren) "/" "work"`,
		`h OK LIST completed`)
	c.expectCmd(`i LIST "" ()`, `i BAD LIST expects at least one mailbox pattern`)
}

func TestListOptionErrors(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a LIST (RECURSIVEMATCH) "" *`, `a BAD RECURSIVEMATCH must be used with SUBSCRIBED`)
	c.expectCmd(`b LIST (SPECIAL-USE RECURSIVEMATCH) "" *`, `b BAD RECURSIVEMATCH must be used with SUBSCRIBED`)
	c.expectCmd(`c LIST (BOGUS) "" *`, `c BAD Unknown LIST selection option BOGUS`)
	c.expectCmd(`d LIST "" * RETURN (BOGUS)`, `d BAD Unknown LIST return option BOGUS`)
	c.expectCmd(`e LIST "" * RETURN (STATUS (FOO))`, `e BAD Unknown STATUS item FOO`)
	c.expectCmd(`f LIST "" * RETURN (STATUS ())`, `f BAD STATUS return option needs at least one item`)
	c.expectCmd(`g LIST "" * FOO (SUBSCRIBED)`, `g BAD Expected RETURN`)
	c.expectCmd(`h LIST (REMOTE) "" Sent RETURN (CHILDREN SPECIAL-USE)`,
		`* LIST (\HasNoChildren \Sent) "/" "Sent"`, `h OK LIST completed`)
}

func TestListSubscribed(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a CREATE proj/alpha`, `a OK [MAILBOXID (F18)] CREATE completed`)
	c.expectCmd(`b SUBSCRIBE proj/alpha`, `b OK SUBSCRIBE completed`)
	c.expectCmd(`c SUBSCRIBE ghost/child`, `c OK SUBSCRIBE completed`)
	c.expectCmd(`d UNSUBSCRIBE Junk`, `d OK UNSUBSCRIBE completed`)

	c.expectCmd(`e LIST (SUBSCRIBED) "" *`,
		`* LIST (\Subscribed \HasNoChildren) "/" INBOX`,
		`* LIST (\Subscribed \HasNoChildren \All) "/" "All Mail"`,
		`* LIST (\Subscribed \HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\Subscribed \HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\Subscribed \HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\Subscribed \HasNoChildren \Trash) "/" "Trash"`,
		`* LIST (\NonExistent \Subscribed) "/" "ghost/child"`,
		`* LIST (\Subscribed \HasNoChildren) "/" "proj/alpha"`,
		`e OK LIST completed`)
	c.expectCmd(`f LIST "" "*" RETURN (SUBSCRIBED)`,
		`* LIST (\Subscribed \HasNoChildren) "/" INBOX`,
		`* LIST (\Subscribed \HasNoChildren \All) "/" "All Mail"`,
		`* LIST (\Subscribed \HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\Subscribed \HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\HasNoChildren \Junk) "/" "Junk"`,
		`* LIST (\Noselect \HasNoChildren) "/" "Labels"`,
		`* LIST (\Subscribed \HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\Subscribed \HasNoChildren \Trash) "/" "Trash"`,
		`* LIST (\HasChildren) "/" "proj"`,
		`* LIST (\Subscribed \HasNoChildren) "/" "proj/alpha"`,
		`f OK LIST completed`)
	// Without RECURSIVEMATCH, unsubscribed parents are not listed.
	c.expectCmd(`g LIST (SUBSCRIBED) "" "%"`,
		`* LIST (\Subscribed \HasNoChildren) "/" INBOX`,
		`* LIST (\Subscribed \HasNoChildren \All) "/" "All Mail"`,
		`* LIST (\Subscribed \HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\Subscribed \HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\Subscribed \HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\Subscribed \HasNoChildren \Trash) "/" "Trash"`,
		`g OK LIST completed`)
	// RFC 5258 3.5: with RECURSIVEMATCH they are, with CHILDINFO.
	c.expectCmd(`h LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)`,
		`* LIST (\Subscribed \HasNoChildren) "/" INBOX`,
		`* LIST (\Subscribed \HasNoChildren \All) "/" "All Mail"`,
		`* LIST (\Subscribed \HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\Subscribed \HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\Subscribed \HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\Subscribed \HasNoChildren \Trash) "/" "Trash"`,
		`* LIST (\NonExistent) "/" "ghost" ("CHILDINFO" ("SUBSCRIBED"))`,
		`* LIST (\HasChildren) "/" "proj" ("CHILDINFO" ("SUBSCRIBED"))`,
		`h OK LIST completed`)
	// A subscribed parent whose subscribed child "%" hides gets CHILDINFO too.
	c.expectCmd(`i SUBSCRIBE proj`, `i OK SUBSCRIBE completed`)
	c.expectCmd(`j LIST (SUBSCRIBED RECURSIVEMATCH) "" "p%"`,
		`* LIST (\Subscribed \HasChildren) "/" "proj" ("CHILDINFO" ("SUBSCRIBED"))`,
		`j OK LIST completed`)
	// When the child is listed itself, no CHILDINFO (RFC 5258 3.5 SHOULD).
	c.expectCmd(`k LIST (SUBSCRIBED RECURSIVEMATCH) "" "proj*"`,
		`* LIST (\Subscribed \HasChildren) "/" "proj"`,
		`* LIST (\Subscribed \HasNoChildren) "/" "proj/alpha"`,
		`k OK LIST completed`)
}

func TestListSpecialUse(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	// Only one All Mail can exist (docs/labels.md): the default one
	// goes first.
	c.expectCmd(`a0 DELETE "All Mail"`, `a0 OK DELETE completed`)
	c.expectCmd(`a CREATE Everything (USE (\All))`, `a OK [MAILBOXID (F17)] CREATE completed`)
	c.expectCmd(`b LIST (SPECIAL-USE) "" *`,
		`* LIST (\HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\HasNoChildren \All) "/" "Everything"`,
		`* LIST (\HasNoChildren \Junk) "/" "Junk"`,
		`* LIST (\HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\HasNoChildren \Trash) "/" "Trash"`,
		`b OK LIST completed`)
	// Selection options combine: subscribed AND special-use.
	c.expectCmd(`c UNSUBSCRIBE Sent`, `c OK UNSUBSCRIBE completed`)
	c.expectCmd(`e LIST (SPECIAL-USE SUBSCRIBED) "" "*" RETURN (SPECIAL-USE)`,
		`* LIST (\Subscribed \HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\Subscribed \HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\Subscribed \HasNoChildren \Junk) "/" "Junk"`,
		`* LIST (\Subscribed \HasNoChildren \Trash) "/" "Trash"`,
		`e OK LIST completed`)
}

func TestListStatus(t *testing.T) {
	ts := newTestServer(t)
	m1, m2 := harnessMessage(1), harnessMessage(2)
	ts.deliver(t, "alice", "INBOX", m1, `\Seen`)
	ts.deliver(t, "alice", "INBOX", m2)
	inbox := ts.mailbox(t, "alice", "INBOX")
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a SUBSCRIBE gone`, `a OK SUBSCRIBE completed`)
	size := len(m1) + len(m2)
	c.expectCmd(`b LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN SIZE UIDNEXT UIDVALIDITY))`,
		`* LIST (\HasNoChildren) "/" INBOX`,
		`* STATUS INBOX (MESSAGES 2 UNSEEN 1 SIZE `+itoa(size)+` UIDNEXT 3 UIDVALIDITY `+itoa(int(inbox.UIDValidity))+`)`,
		`b OK LIST completed`)
	// No STATUS for names that are not mailboxes (RFC 5819 2).
	c.expectCmd(`c LIST (SUBSCRIBED) "" ("gone" "Trash") RETURN (STATUS (MESSAGES DELETED))`,
		`* LIST (\Subscribed \HasNoChildren \Trash) "/" "Trash"`,
		`* STATUS "Trash" (MESSAGES 0 DELETED 0)`,
		`* LIST (\NonExistent \Subscribed) "/" "gone"`,
		`c OK LIST completed`)
}

func TestListUTF7AndUTF8Names(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a CREATE "&ZeVnLIqe-"`, `a OK [MAILBOXID (F17)] CREATE completed`)
	c.expectCmd(`b CREATE "&ZeVnLIqe-/caf&AOk-"`, `b OK [MAILBOXID (F18)] CREATE completed`)
	c.expectCmd(`c LIST "" "&ZeVnLIqe-*"`,
		`* LIST (\HasChildren) "/" "&ZeVnLIqe-"`,
		`* LIST (\HasNoChildren) "/" "&ZeVnLIqe-/caf&AOk-"`,
		`c OK LIST completed`)
	if _, err := ts.account(t, "alice").Mailbox(t.Context(), "日本語/café"); err != nil {
		t.Fatalf("stored name: %v", err)
	}
	c.expectCmd(`d ENABLE UTF8=ACCEPT`, `* ENABLED UTF8=ACCEPT`, `d OK ENABLE completed`)
	c.expectCmd(`e LIST "" "日本語*"`,
		`* LIST (\HasChildren) "/" "日本語"`,
		`* LIST (\HasNoChildren) "/" "日本語/café"`,
		`e OK LIST completed`)
	c.expectCmd(`f STATUS "日本語" (MESSAGES)`, `* STATUS "日本語" (MESSAGES 0)`, `f OK STATUS completed`)
}

func TestLsub(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a SUBSCRIBE foo/bar`, `a OK SUBSCRIBE completed`)
	c.expectCmd(`b CREATE work/x`, `b OK [MAILBOXID (F18)] CREATE completed`)
	c.expectCmd(`c SUBSCRIBE work/x`, `c OK SUBSCRIBE completed`)
	// RFC 3501 6.3.9: "%" returns the unsubscribed parent with \Noselect.
	c.expectCmd(`d LSUB "" %`,
		`* LSUB (\HasNoChildren) "/" INBOX`,
		`* LSUB (\HasNoChildren) "/" "All Mail"`,
		`* LSUB (\HasNoChildren) "/" "Archive"`,
		`* LSUB (\HasNoChildren) "/" "Drafts"`,
		`* LSUB (\HasNoChildren) "/" "Junk"`,
		`* LSUB (\HasNoChildren) "/" "Sent"`,
		`* LSUB (\HasNoChildren) "/" "Trash"`,
		`* LSUB (\Noselect) "/" "foo"`,
		`* LSUB (\Noselect \HasChildren) "/" "work"`,
		`d OK LSUB completed`)
	c.expectCmd(`e LSUB "" */*`,
		`* LSUB (\Noselect) "/" "foo/bar"`,
		`* LSUB (\HasNoChildren) "/" "work/x"`,
		`e OK LSUB completed`)
	c.expectCmd(`f LSUB "work/" "*"`, `* LSUB (\HasNoChildren) "/" "work/x"`, `f OK LSUB completed`)
	c.expectCmd(`g LSUB "" ""`, `g OK LSUB completed`)
}

func TestListImapclient(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "Sent", harnessMessage(1))
	cl := ts.client(t, "alice")
	if err := cl.Create("Projects/Casier", nil).Wait(); err != nil {
		t.Fatalf("create: %v", err)
	}
	list, err := cl.List("", "%", &imap.ListOptions{
		ReturnSubscribed: true,
		ReturnChildren:   true,
		ReturnSpecialUse: true,
		ReturnStatus:     &imap.StatusOptions{NumMessages: true, NumUnseen: true},
	}).Collect()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Mailbox)
		if l.Delim != '/' {
			t.Errorf("%s: delimiter %q", l.Mailbox, l.Delim)
		}
		switch l.Mailbox {
		case "Sent":
			if !slices.Contains(l.Attrs, imap.MailboxAttrSent) || !slices.Contains(l.Attrs, imap.MailboxAttrSubscribed) {
				t.Errorf("Sent attrs: %v", l.Attrs)
			}
			if l.Status == nil || l.Status.NumMessages == nil || *l.Status.NumMessages != 1 || *l.Status.NumUnseen != 1 {
				t.Errorf("Sent status: %+v", l.Status)
			}
		case "Projects":
			if !slices.Contains(l.Attrs, imap.MailboxAttrHasChildren) || slices.Contains(l.Attrs, imap.MailboxAttrSubscribed) {
				t.Errorf("Projects attrs: %v", l.Attrs)
			}
		}
	}
	want := []string{"INBOX", "All Mail", "Archive", "Drafts", "Junk", "Labels", "Projects", "Sent", "Trash"}
	if !slices.Equal(names, want) {
		t.Fatalf("names: %q, want %q", names, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
