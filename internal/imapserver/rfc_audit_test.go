package imapserver

import "testing"

// Transcripts for the RFC 9051 / RFC 3501 audit: SEARCHRES (RFC 5182, part
// of IMAP4rev2) and SEARCH CHARSET conversion (RFC 3501 6.4.4).

// TestSearchResRev2: RETURN (SAVE) and "$" in FETCH, SEARCH, STORE and
// COPY for an IMAP4rev2 client (RFC 9051 6.4.4.1).
func TestSearchResRev2(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 4; i++ {
		flags := []string{}
		if i%2 == 0 {
			flags = append(flags, `\Flagged`)
		}
		ts.deliver(t, "alice", "INBOX", harnessMessage(i), flags...)
	}
	c := ts.rawLogin(t, "alice")
	c.expectCmd("e ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "e OK ENABLE completed")
	c.cmd("s SELECT INBOX")
	// "$" before any SAVE is empty: no error, nothing fetched.
	c.expectCmd("a FETCH $ UID", "a OK FETCH completed")
	// SAVE alone: no ESEARCH response (RFC 5182 2.1).
	c.expectCmd("b SEARCH RETURN (SAVE) FLAGGED", "b OK SEARCH completed")
	c.expectCmd("c FETCH $ (UID FLAGS)",
		`* 2 FETCH (UID 2 FLAGS (\Flagged))`,
		`* 4 FETCH (UID 4 FLAGS (\Flagged))`,
		"c OK FETCH completed")
	c.expectCmd("d SEARCH $ SUBJECT \"test 4\"", `* ESEARCH (TAG "d") ALL 4`, "d OK SEARCH completed")
	c.expectCmd("f UID SEARCH NOT $", `* ESEARCH (TAG "f") UID ALL 1,3`, "f OK UID SEARCH completed")
	// SAVE with other options answers them and saves the whole result.
	c.expectCmd("g UID SEARCH RETURN (SAVE COUNT) UNFLAGGED", `* ESEARCH (TAG "g") UID COUNT 2`, "g OK UID SEARCH completed")
	c.expectCmd("h UID STORE $ +FLAGS.SILENT (\\Seen)", "h OK UID STORE completed")
	c.expectCmd("i FETCH 1:4 FLAGS",
		`* 1 FETCH (FLAGS (\Seen))`,
		`* 2 FETCH (FLAGS (\Flagged))`,
		`* 3 FETCH (FLAGS (\Seen))`,
		`* 4 FETCH (FLAGS (\Flagged))`,
		"i OK FETCH completed")
	// With MIN and MAX only, just those messages are saved.
	c.expectCmd("j SEARCH RETURN (MIN SAVE) ALL", `* ESEARCH (TAG "j") MIN 1`, "j OK SEARCH completed")
	c.expectCmd("k FETCH $ UID", "* 1 FETCH (UID 1)", "k OK FETCH completed")
	c.expectCmd("l SEARCH RETURN (SAVE MIN MAX) ALL", `* ESEARCH (TAG "l") MIN 1 MAX 4`, "l OK SEARCH completed")
	c.expectCmd("m COPY $ Trash", "m OK [COPYUID "+u32str(ts.mailbox(t, "alice", "Trash").UIDValidity)+" 1,4 1:2] COPY completed")
	// An expunged message leaves "$".
	c.expectCmd("n STORE 1 +FLAGS.SILENT (\\Deleted)", "n OK STORE completed")
	c.expectCmd("o EXPUNGE", "* 1 EXPUNGE", "o OK EXPUNGE completed")
	c.expectCmd("p FETCH $ UID", "* 3 FETCH (UID 4)", "p OK FETCH completed")
	// A failed SEARCH with SAVE empties "$" (RFC 5182 2.1).
	c.expectBad("q SEARCH RETURN (SAVE) FOO")
	c.expectCmd("r FETCH $ UID", "r OK FETCH completed")
	// SELECT resets it.
	c.expectCmd("t SEARCH RETURN (SAVE) ALL", "t OK SEARCH completed")
	c.cmd("u SELECT INBOX")
	c.expectCmd("v FETCH $ UID", "v OK FETCH completed")
}

// TestSearchResRev1: SEARCHRES is offered to IMAP4rev1 clients, whose
// plain SEARCH still answers "* SEARCH".
func TestSearchResRev1(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2), `\Seen`)
	c := ts.rawLogin(t, "alice")
	c.cmd("s SELECT INBOX")
	c.expectCmd("a SEARCH RETURN (SAVE) SEEN", "a OK SEARCH completed")
	c.expectCmd("b SEARCH $", "* SEARCH 2", "b OK SEARCH completed")
	c.expectCmd("c UID FETCH $ FLAGS", `* 2 FETCH (UID 2 FLAGS (\Seen \Recent))`, "c OK UID FETCH completed")
}

// TestSearchCharsetConversion: RFC 3501 6.4.4 search strings in another
// charset are converted to UTF-8; an unknown charset gets BADCHARSET.
func TestSearchCharsetConversion(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", crlf("From: =?iso-8859-1?q?Andr=E9?= <a@example.org>\nSubject: caf\xc3\xa9 au lait\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nUn caf\xc3\xa9 chaud.\n"))
	ts.deliver(t, "alice", "INBOX", crlf("Subject: =?koi8-r?b?8NLJ18XU?=\n\nnothing\n"))
	c := ts.rawLogin(t, "alice")
	c.cmd("s SELECT INBOX")
	// "café" in ISO-8859-1 (one byte for é), as a literal.
	c.expectCmd("a SEARCH CHARSET ISO-8859-1 SUBJECT {4+}\r\ncaf\xe9", "* SEARCH 2", "a OK SEARCH completed")
	c.expectCmd("b SEARCH CHARSET windows-1252 OR BODY {4+}\r\nCAF\xc9 FROM {5+}\r\nandr\xe9", "* SEARCH 2", "b OK SEARCH completed")
	c.expectCmd("c SEARCH CHARSET ISO-8859-1 NOT HEADER Subject {4+}\r\ncaf\xe9", "* SEARCH 1 3", "c OK SEARCH completed")
	// "Привет" in KOI8-R.
	c.expectCmd("d SEARCH CHARSET KOI8-R SUBJECT {6+}\r\n\xf0\xd2\xc9\xd7\xc5\xd4", "* SEARCH 3", "d OK SEARCH completed")
	c.expectCmd("e SEARCH CHARSET X-UNKNOWN SUBJECT x", "e NO ["+badCharsetCode+"] Unsupported charset")
	// The charset does not change how atoms such as KEYWORD are read.
	c.expectCmd("f UID SEARCH RETURN (COUNT) CHARSET ISO-8859-1 UNKEYWORD $Junk", `* ESEARCH (TAG "f") UID COUNT 3`, "f OK UID SEARCH completed")
}

// TestSearchCharsetUTF8Accept: after ENABLE UTF8=ACCEPT an IMAP4rev1
// client's strings are UTF-8; another charset label is a conflict (RFC
// 6855 3, erratum 4029). IMAP4rev2 keeps SEARCH CHARSET (RFC 9051 6.4.4).
func TestSearchCharsetUTF8Accept(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", crlf("Subject: caf\xc3\xa9\n\nx\n"))
	c := ts.rawLogin(t, "alice")
	c.expectCmd("e ENABLE UTF8=ACCEPT", "* ENABLED UTF8=ACCEPT", "e OK ENABLE completed")
	c.cmd("s SELECT INBOX")
	c.expectCmd("a SEARCH CHARSET ISO-8859-1 SUBJECT x", "a BAD SEARCH CHARSET conflicts with UTF8=ACCEPT")
	c.expectCmd("b SEARCH CHARSET UTF-8 SUBJECT \"caf\xc3\xa9\"", "* SEARCH 1", "b OK SEARCH completed")
	c.expectCmd("c SEARCH SUBJECT \"caf\xc3\xa9\"", "* SEARCH 1", "c OK SEARCH completed")

	r2 := ts.rawLogin(t, "alice")
	r2.expectCmd("e ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "e OK ENABLE completed")
	r2.cmd("s SELECT INBOX")
	r2.expectCmd("a SEARCH CHARSET ISO-8859-1 SUBJECT {4+}\r\ncaf\xe9", `* ESEARCH (TAG "a") ALL 1`, "a OK SEARCH completed")
}
