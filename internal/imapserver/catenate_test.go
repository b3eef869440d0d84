package imapserver

import (
	"context"
	"io"
	"slices"
	"strconv"
	"testing"
)

// catMessage is a two-part message: BODY[1] is "first part", BODY[2] is
// "second part body".
var catMessage = crlf(`From: a@example.org
To: b@example.org
Subject: parts
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=XX

--XX
Content-Type: text/plain

first part
--XX
Content-Type: text/plain

second part body
--XX--
`)

// storedBody returns the bytes of alice's message uid in mailbox.
func storedBody(t *testing.T, ts *testServer, mailbox string, uid uint32) string {
	t.Helper()
	rec := record(t, ts, mailbox, uid)
	b, err := ts.account(t, "alice").OpenBody(context.Background(), rec.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data, err := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func uvOf(t *testing.T, ts *testServer, user, mailbox string) string {
	return strconv.FormatUint(uint64(ts.mailbox(t, user, mailbox).UIDValidity), 10)
}

func catExpect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestCatenateTextAndURL(t *testing.T) {
	ts := newTestServer(t)
	uid := ts.deliver(t, "alice", "INBOX", catMessage)
	uvIn, uvDr := uvOf(t, ts, "alice", "INBOX"), uvOf(t, ts, "alice", "Drafts")
	c := ts.rawLogin(t, "alice")

	head := "From: me@example.org\r\nSubject: fwd\r\n\r\n"
	tail := "\r\n-- \r\nme\r\n"
	catExpect(t, appendRaw(c, "a", `Drafts CATENATE (TEXT `+litPlus(head)+
		` URL "/INBOX;UIDVALIDITY=`+uvIn+`/;UID=`+strconv.Itoa(int(uid))+`/;SECTION=2" TEXT `+litPlus(tail)+`)`),
		"a OK [APPENDUID "+uvDr+" 1] APPEND completed")
	if got, want := storedBody(t, ts, "Drafts", 1), head+"second part body"+tail; got != want {
		t.Fatalf("stored %q, want %q", got, want)
	}

	// SECTION with PARTIAL, flags and date, and a whole-message URL.
	catExpect(t, appendRaw(c, "b", `Drafts (\Seen) "14-Jul-2024 10:00:00 +0200" CATENATE (TEXT `+litPlus(head)+
		` URL "/INBOX/;UID=1/;SECTION=2/;PARTIAL=7.4")`),
		"b OK [APPENDUID "+uvDr+" 2] APPEND completed")
	if got, want := storedBody(t, ts, "Drafts", 2), head+"part"; got != want {
		t.Fatalf("stored %q, want %q", got, want)
	}
	if rec := record(t, ts, "Drafts", 2); !slices.Equal(rec.Flags, []string{`\Seen`}) {
		t.Fatalf("flags %q", rec.Flags)
	}
	catExpect(t, appendRaw(c, "c", `Drafts CATENATE (URL "imap://alice@localhost/INBOX/;UID=1")`),
		"c OK [APPENDUID "+uvDr+" 3] APPEND completed")
	if got := storedBody(t, ts, "Drafts", 3); got != catMessage {
		t.Fatalf("stored %q, want the whole message", got)
	}

	// A relative URL without mailbox needs a selected mailbox.
	catExpect(t, appendRaw(c, "d", `Drafts CATENATE (URL ";UID=1/;SECTION=1")`),
		"d NO [BADURL ;UID=1/;SECTION=1] Relative URL needs a selected mailbox")
	c.cmd("e SELECT INBOX")
	catExpect(t, appendRaw(c, "f", `Drafts CATENATE (URL ";UID=1/;SECTION=1.MIME" URL ";UID=1/;SECTION=1")`),
		"f OK [APPENDUID "+uvDr+" 4] APPEND completed")
	if got, want := storedBody(t, ts, "Drafts", 4), "Content-Type: text/plain\r\n\r\nfirst part"; got != want {
		t.Fatalf("stored %q, want %q", got, want)
	}
}

func TestCatenateBadURL(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", catMessage)
	ts.deliver(t, "bob", "INBOX", catMessage)
	c := ts.rawLogin(t, "alice")
	text := " TEXT " + litPlus("Subject: x\r\n\r\n")
	for _, tt := range []struct{ url, want string }{
		{"/INBOX/;UID=99", "a NO [BADURL /INBOX/;UID=99] No such message"},
		{"/INBOX;UIDVALIDITY=1/;UID=1", "a NO [BADURL /INBOX;UIDVALIDITY=1/;UID=1] UIDVALIDITY mismatch"},
		{"/Nowhere/;UID=1", "a NO [BADURL /Nowhere/;UID=1] No such mailbox"},
		{"/INBOX/;UID=1/;SECTION=7", "a NO [BADURL /INBOX/;UID=1/;SECTION=7] No such message part"},
		{"/INBOX/;UID=1/;SECTION=BOGUS", "a NO [BADURL /INBOX/;UID=1/;SECTION=BOGUS] Invalid section in URL"},
		{"imap://", "a NO [BADURL imap://] Invalid IMAP URL"},
		{"/INBOX", "a NO [BADURL /INBOX] URL names no message"},
		{"x]y", "a NO [BADURL x%5Dy] Invalid IMAP URL"},
		// RFC 4469 5: another user's mailbox is out of reach without URLAUTH.
		{"imap://bob@localhost/INBOX/;UID=1", "a NO [BADURL imap://bob@localhost/INBOX/;UID=1] URL names another user's mailbox"},
	} {
		catExpect(t, appendRaw(c, "a", `Drafts CATENATE (`+text[1:]+` URL "`+tt.url+`")`), tt.want)
	}
	if n, next := mailboxCount(t, ts, "Drafts"); n != 0 || next != 1 {
		t.Fatalf("Drafts after failures: %d messages, uidnext %d", n, next)
	}
	catExpect(t, appendRaw(c, "b", `Drafts CATENATE ()`), "b BAD CATENATE needs at least one part")
	catExpect(t, appendRaw(c, "b", `Drafts CATENATE (FILE "x")`), "b BAD Expected TEXT or URL in CATENATE")
}

func TestCatenateMultiAppend(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", catMessage)
	uvDr := uvOf(t, ts, "alice", "Drafts")
	c := ts.rawLogin(t, "alice")
	m1 := harnessMessage(1)
	catExpect(t, appendRaw(c, "a", `Drafts `+litPlus(m1)+` CATENATE (URL "/INBOX/;UID=1") (\Flagged) CATENATE (TEXT `+litPlus("Subject: y\r\n\r\n")+` URL "/INBOX/;UID=1/;SECTION=1")`),
		"a OK [APPENDUID "+uvDr+" 1:3] APPEND completed")
	if got := storedBody(t, ts, "Drafts", 1); got != m1 {
		t.Fatalf("message 1: %q", got)
	}
	if got := storedBody(t, ts, "Drafts", 2); got != catMessage {
		t.Fatalf("message 2: %q", got)
	}
	if got := storedBody(t, ts, "Drafts", 3); got != "Subject: y\r\n\r\nfirst part" {
		t.Fatalf("message 3: %q", got)
	}
	// All or nothing (RFC 3502 3): a bad URL in the last message stores none.
	catExpect(t, appendRaw(c, "b", `Drafts `+litPlus(m1)+` CATENATE (URL "/INBOX/;UID=5")`),
		"b NO [BADURL /INBOX/;UID=5] No such message")
	if n, next := mailboxCount(t, ts, "Drafts"); n != 3 || next != 4 {
		t.Fatalf("Drafts: %d messages, uidnext %d", n, next)
	}
}

func TestCatenateTooBig(t *testing.T) {
	ts := newTestServer(t, func(cfg *Config) { cfg.MaxMessageSize = 300 })
	ts.deliver(t, "alice", "INBOX", catMessage) // 200-odd bytes
	c := ts.rawLogin(t, "alice")
	if len(catMessage) > 300 || 2*len(catMessage) <= 300 {
		t.Fatalf("fixture size %d", len(catMessage))
	}
	catExpect(t, appendRaw(c, "a", `Drafts CATENATE (URL "/INBOX/;UID=1" URL "/INBOX/;UID=1")`),
		"a NO [TOOBIG] Catenated message is larger than APPENDLIMIT=300")
	catExpect(t, appendRaw(c, "b", `Drafts CATENATE (URL "/INBOX/;UID=1/;SECTION=2" URL "/INBOX/;UID=1/;SECTION=2")`),
		"b OK [APPENDUID "+uvOf(t, ts, "alice", "Drafts")+" 1] APPEND completed")
}

func TestCatenateOtherServer(t *testing.T) {
	ts := newTestServer(t, func(cfg *Config) { cfg.Hostname = "mail.example.org" })
	ts.deliver(t, "alice", "INBOX", catMessage)
	c := ts.rawLogin(t, "alice")
	catExpect(t, appendRaw(c, "a", `Drafts CATENATE (URL "imap://alice@other.example.org/INBOX/;UID=1")`),
		"a NO [BADURL imap://alice@other.example.org/INBOX/;UID=1] URL names another server")
	catExpect(t, appendRaw(c, "b", `Drafts CATENATE (URL "imap://alice@MAIL.example.org/INBOX/;UID=1")`),
		"b OK [APPENDUID "+uvOf(t, ts, "alice", "Drafts")+" 1] APPEND completed")
}
