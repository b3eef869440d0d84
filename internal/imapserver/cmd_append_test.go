package imapserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/casier/casier/internal/store"
)

// litPlus formats a LITERAL+ (RFC 7888) literal with its content.
func litPlus(msg string) string {
	return "{" + strconv.Itoa(len(msg)) + "+}\r\n" + msg
}

// appendRaw sends a complete APPEND command (literals inline) and returns
// the response lines.
func appendRaw(c *rawConn, tag, args string) []string {
	c.t.Helper()
	c.write(tag + " APPEND " + args + "\r\n")
	return c.readUntilTagged(tag)
}

// record reads one stored message of alice's mailbox.
func record(t *testing.T, ts *testServer, mailbox string, uid uint32) store.Record {
	t.Helper()
	mb := ts.mailbox(t, "alice", mailbox)
	recs, err := ts.account(t, "alice").Records(context.Background(), mb.ID, []uint32{uid})
	if err != nil || len(recs) != 1 {
		t.Fatalf("records of %s uid %d: %v (%d)", mailbox, uid, err, len(recs))
	}
	return recs[0]
}

func mailboxCount(t *testing.T, ts *testServer, mailbox string) (messages, uidnext uint32) {
	t.Helper()
	mb := ts.mailbox(t, "alice", mailbox)
	st, err := ts.account(t, "alice").Status(context.Background(), mb.ID)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return st.Messages, st.UIDNext
}

func TestAppendSynchronizingLiteral(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "Drafts").UIDValidity), 10)
	msg := harnessMessage(1)
	c.send(`a APPEND drafts (\Seen \Recent $Work) "14-Jul-2024 10:00:00 +0200" {` + strconv.Itoa(len(msg)) + `}`)
	// "drafts" is not "Drafts": names other than INBOX are case-sensitive.
	c.expect(`+ Ready for literal data`)
	c.write(msg + "\r\n")
	c.expect(`a NO [TRYCREATE] Mailbox does not exist`)

	c.send(`b APPEND Drafts (\Seen \Recent $Work) "14-Jul-2024 10:00:00 +0200" {` + strconv.Itoa(len(msg)) + `}`)
	c.expect(`+ Ready for literal data`)
	c.write(msg + "\r\n")
	c.expect(`b OK [APPENDUID ` + uv + ` 1] APPEND completed`)

	r := record(t, ts, "Drafts", 1)
	// \Recent is the server's to set and is ignored (as Dovecot does).
	if !slices.Equal(r.Flags, []string{"$Work", `\Seen`}) && !slices.Equal(r.Flags, []string{`\Seen`, "$Work"}) {
		t.Errorf("flags: %q", r.Flags)
	}
	want := time.Date(2024, 7, 14, 8, 0, 0, 0, time.UTC)
	if !r.InternalDate.Equal(want) {
		t.Errorf("internal date %v, want %v", r.InternalDate, want)
	}
	if r.Size != int64(len(msg)) {
		t.Errorf("size %d, want %d", r.Size, len(msg))
	}
	// APPENDUID matches what STATUS reports (RFC 4315 3).
	c.expectCmd(`c STATUS Drafts (UIDVALIDITY UIDNEXT MESSAGES)`,
		`* STATUS "Drafts" (UIDVALIDITY `+uv+` UIDNEXT 2 MESSAGES 1)`, `c OK STATUS completed`)
}

func TestAppendLiteralPlusAndErrors(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	msg := harnessMessage(1)
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "INBOX").UIDValidity), 10)

	if got := appendRaw(c, "a", `inbox `+litPlus(msg)); !slices.Equal(got, []string{`a OK [APPENDUID ` + uv + ` 1] APPEND completed`}) {
		t.Fatalf("append: %q", got)
	}
	tests := []struct{ args, want string }{
		{`Nowhere ` + litPlus(msg), `x NO [TRYCREATE] Mailbox does not exist`},
		{`INBOX {0+}` + "\r\n", `x NO Cannot store an empty message`},
		{`INBOX (\*) ` + litPlus(msg), `x BAD expected flag after \`},
		{`INBOX "31-Feb-2024 10:00:00 +0000" ` + litPlus(msg), `x BAD invalid date-time`},
		{`INBOX ` + litPlus("Subject: x\r\n\r\nnul\x00byte\r\n"), `x BAD NUL in literal; use literal8 (~{n})`},
		{`INBOX "text"`, `x BAD invalid date-time`},
		{`INBOX (\Seen) "01-Jan-2024 00:00:00 +0000" NIL`, `x BAD expected literal`},
		{`INBOX`, `x BAD expected space`},
		{`"a//b" ` + litPlus(msg), `x NO [CANNOT] Mailbox name has an empty hierarchy level`},
		{`INBOX ` + litPlus(msg) + ` junk`, `x BAD expected literal`},
	}
	for _, tt := range tests {
		got := appendRaw(c, "x", tt.args)
		if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
			t.Errorf("APPEND %q: got %q, want %q", tt.args, got, tt.want)
		}
	}
	if n, next := mailboxCount(t, ts, "INBOX"); n != 1 || next != 2 {
		t.Fatalf("after rejected appends: %d messages, uidnext %d", n, next)
	}
}

func TestMultiAppend(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "Archive").UIDValidity), 10)
	m1, m2, m3 := harnessMessage(1), harnessMessage(2), harnessMessage(3)
	// RFC 3502: several messages, each with its own flags and date.
	got := appendRaw(c, "a", `Archive (\Flagged) `+litPlus(m1)+` "01-Jan-2020 00:00:00 +0000" `+litPlus(m2)+` `+litPlus(m3))
	if !slices.Equal(got, []string{`a OK [APPENDUID ` + uv + ` 1:3] APPEND completed`}) {
		t.Fatalf("multiappend: %q", got)
	}
	if r := record(t, ts, "Archive", 1); !slices.Equal(r.Flags, []string{`\Flagged`}) {
		t.Errorf("message 1 flags %q", r.Flags)
	}
	if r := record(t, ts, "Archive", 2); len(r.Flags) != 0 || !r.InternalDate.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("message 2: flags %q date %v", r.Flags, r.InternalDate)
	}
	if r := record(t, ts, "Archive", 3); r.Size != int64(len(m3)) {
		t.Errorf("message 3 size %d", r.Size)
	}
	// Synchronizing literals: one continuation per message.
	c.send(`b APPEND Archive {` + strconv.Itoa(len(m1)) + `}`)
	c.expect(`+ Ready for literal data`)
	c.write(m1 + ` {` + strconv.Itoa(len(m2)) + "}\r\n")
	c.expect(`+ Ready for literal data`)
	c.write(m2 + "\r\n")
	c.expect(`b OK [APPENDUID ` + uv + ` 4:5] APPEND completed`)
}

func TestMultiAppendAllOrNothing(t *testing.T) {
	ts := newTestServer(t, func(cfg *Config) {
		cfg.MaxMessageSize = 300
		cfg.MaxLiteralSize = 4096 // the codec lets bigger literals through; APPEND checks
	})
	c := ts.rawLogin(t, "alice")
	small := harnessMessage(1)
	big := crlf("Subject: big\n\n" + strings.Repeat("x", 400) + "\n")

	// RFC 7889 4: the second message is too big, so none is stored.
	got := appendRaw(c, "a", `INBOX `+litPlus(small)+` `+litPlus(big))
	if !slices.Equal(got, []string{`a NO [TOOBIG] Message is larger than APPENDLIMIT=300`}) {
		t.Fatalf("too big: %q", got)
	}
	if n, next := mailboxCount(t, ts, "INBOX"); n != 0 || next != 1 {
		t.Fatalf("after TOOBIG: %d messages, uidnext %d", n, next)
	}

	// A literal over every limit is refused by the connection layer before
	// the command runs: nothing is stored either.
	huge := strings.Repeat("y", 5000)
	c.send(`b APPEND INBOX {` + strconv.Itoa(len(small)) + `}`)
	c.expect(`+ Ready for literal data`)
	c.write(small + ` {` + strconv.Itoa(len(huge)) + "}\r\n")
	if l := c.readLine(); !strings.HasPrefix(l, "b NO [TOOBIG]") {
		t.Fatalf("huge literal: %q", l)
	}
	if n, _ := mailboxCount(t, ts, "INBOX"); n != 0 {
		t.Fatalf("after refused literal: %d messages", n)
	}

	// The second message fails only while being stored (8-bit header,
	// RFC 6855 3): the first, already stored, is removed again.
	bad := crlf("Subject: caf\xc3\xa9\n\nbody\n")
	got = appendRaw(c, "c", `INBOX `+litPlus(small)+` `+litPlus(bad))
	if !slices.Equal(got, []string{`c NO Message has 8-bit header fields; ENABLE UTF8=ACCEPT first`}) {
		t.Fatalf("8-bit header: %q", got)
	}
	if n, next := mailboxCount(t, ts, "INBOX"); n != 0 || next != 2 {
		t.Fatalf("after rollback: %d messages, uidnext %d", n, next)
	}
	// The session still works and UIDs are not reused.
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "INBOX").UIDValidity), 10)
	got = appendRaw(c, "d", `INBOX `+litPlus(small))
	if !slices.Equal(got, []string{`d OK [APPENDUID ` + uv + ` 2] APPEND completed`}) {
		t.Fatalf("append after rollback: %q", got)
	}
}

func TestAppendBinaryLiteral8(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "INBOX").UIDValidity), 10)
	msg := "Subject: binary\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\xff\x00end\r\n"
	// RFC 3516 4.4: literal8 may carry NUL.
	got := appendRaw(c, "a", `INBOX ~`+litPlus(msg))
	if !slices.Equal(got, []string{`a OK [APPENDUID ` + uv + ` 1] APPEND completed`}) {
		t.Fatalf("literal8: %q", got)
	}
	r := record(t, ts, "INBOX", 1)
	if r.Size != int64(len(msg)) {
		t.Fatalf("size %d, want %d", r.Size, len(msg))
	}
	body, err := ts.account(t, "alice").OpenBody(context.Background(), r.MessageID)
	if err != nil {
		t.Fatalf("open body: %v", err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.NewSectionReader(body, 0, body.Size()))
	if err != nil || string(b) != msg {
		t.Fatalf("stored body %q (%v), want %q", b, err, msg)
	}
}

func TestAppendUTF8(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	msg := "Subject: caf\xc3\xa9\r\nFrom: j\xc3\xb6rg@example.org\r\n\r\n8-bit body \xe2\x82\xac\r\n"
	ascii := "Subject: plain\r\n\r\n8-bit body only \xe2\x82\xac\r\n"
	// RFC 6855 4: the UTF8 data item needs ENABLE UTF8=ACCEPT first.
	if got := appendRaw(c, "a", `INBOX UTF8 (~`+litPlus(msg)+`)`); !slices.Equal(got, []string{`a NO APPEND UTF8 requires ENABLE UTF8=ACCEPT`}) {
		t.Fatalf("UTF8 before ENABLE: %q", got)
	}
	// RFC 6855 3: an 8-bit header without UTF8=ACCEPT is refused ...
	if got := appendRaw(c, "b", `INBOX `+litPlus(msg)); !slices.Equal(got, []string{`b NO Message has 8-bit header fields; ENABLE UTF8=ACCEPT first`}) {
		t.Fatalf("8-bit header before ENABLE: %q", got)
	}
	// ... but an 8-bit body is fine.
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "INBOX").UIDValidity), 10)
	if got := appendRaw(c, "c", `INBOX `+litPlus(ascii)); !slices.Equal(got, []string{`c OK [APPENDUID ` + uv + ` 1] APPEND completed`}) {
		t.Fatalf("8-bit body: %q", got)
	}
	c.expectCmd(`d ENABLE UTF8=ACCEPT`, `* ENABLED UTF8=ACCEPT`, `d OK ENABLE completed`)
	if got := appendRaw(c, "e", `INBOX UTF8 (~`+litPlus(msg)+`)`); !slices.Equal(got, []string{`e OK [APPENDUID ` + uv + ` 2] APPEND completed`}) {
		t.Fatalf("UTF8 after ENABLE: %q", got)
	}
	if got := appendRaw(c, "f", `INBOX (\Seen) `+litPlus(msg)); !slices.Equal(got, []string{`f OK [APPENDUID ` + uv + ` 3] APPEND completed`}) {
		t.Fatalf("8-bit header after ENABLE: %q", got)
	}
	if got := appendRaw(c, "g", `INBOX UTF8 (`+litPlus(msg)+`)`); !slices.Equal(got, []string{`g BAD UTF8 takes a literal8 (~{n})`}) {
		t.Fatalf("UTF8 with a plain literal: %q", got)
	}
	if got := appendRaw(c, "h", `INBOX UTF8 ()`); !slices.Equal(got, []string{`h BAD UTF8 takes exactly one literal8`}) {
		t.Fatalf("UTF8 without literal: %q", got)
	}
	if r := record(t, ts, "INBOX", 2); r.Size != int64(len(msg)) {
		t.Fatalf("size %d", r.Size)
	}
}

func TestAppendHeaderCheck(t *testing.T) {
	tests := []struct {
		msg string
		bad bool
	}{
		{"Subject: a\r\n\r\n\xff", false},
		{"Subject: a\n\n\xff", false},
		{"\r\n\xff", false},
		{"Subject: \xff\r\n\r\n", true},
		{"Subject: a\r\n folded \xc3\xa9\r\n\r\nbody", true},
		{"Subject: a\r\nX: b\r\n", false},
		{"\xe2", true},
	}
	for _, tt := range tests {
		// One byte per Read, to cover state kept across reads.
		h := &headerCheck{r: &oneByteReader{s: tt.msg}}
		var out bytes.Buffer
		_, err := io.Copy(&out, h)
		if (err != nil) != tt.bad || h.bad != tt.bad {
			t.Errorf("%q: err %v bad %v, want bad %v", tt.msg, err, h.bad, tt.bad)
		}
		if !tt.bad && out.String() != tt.msg {
			t.Errorf("%q: passed %q", tt.msg, out.String())
		}
	}
}

type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

func TestAppendLargeSpilledLiteral(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	// Over the codec's 1 MiB spill threshold: streamed from a file.
	msg := crlf("Subject: large\n\n") + strings.Repeat("0123456789abcdef\r\n", 150000)
	got := appendRaw(c, "a", `Archive `+litPlus(msg))
	if len(got) != 1 || !strings.HasPrefix(got[0], "a OK [APPENDUID ") {
		t.Fatalf("large append: %q", got)
	}
	if r := record(t, ts, "Archive", 1); r.Size != int64(len(msg)) {
		t.Fatalf("size %d, want %d", r.Size, len(msg))
	}
}

func TestAppendToSelectedMailbox(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	c := ts.rawLogin(t, "alice")
	c.cmd(`a SELECT INBOX`)
	uv := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "INBOX").UIDValidity), 10)
	// RFC 9051 6.3.12: the client learns of the new message before the
	// tagged OK.
	got := appendRaw(c, "b", `INBOX `+litPlus(harnessMessage(2)))
	if len(got) < 2 || got[0] != `* 2 EXISTS` || got[len(got)-1] != `b OK [APPENDUID `+uv+` 2] APPEND completed` {
		t.Fatalf("append to selected: %q", got)
	}
	// Appending elsewhere sends nothing about the selected mailbox.
	uvs := strconv.FormatUint(uint64(ts.mailbox(t, "alice", "Sent").UIDValidity), 10)
	got = appendRaw(c, "c", `Sent `+litPlus(harnessMessage(3)))
	if !slices.Equal(got, []string{`c OK [APPENDUID ` + uvs + ` 1] APPEND completed`}) {
		t.Fatalf("append elsewhere: %q", got)
	}
}

func TestAppendImapclient(t *testing.T) {
	ts := newTestServer(t)
	cl := ts.client(t, "alice")
	msg := harnessMessage(7)
	date := time.Date(2023, 5, 6, 7, 8, 9, 0, time.FixedZone("", -5*3600))
	cmd := cl.Append("Sent", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: date})
	if _, err := io.WriteString(cmd, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	st, err := cl.Status("Sent", &imap.StatusOptions{UIDValidity: true, UIDNext: true, NumMessages: true}).Wait()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if data.UIDValidity != st.UIDValidity || data.UID != 1 || st.UIDNext != 2 || *st.NumMessages != 1 {
		t.Fatalf("APPENDUID %d/%d, STATUS %+v", data.UIDValidity, data.UID, st)
	}
	r := record(t, ts, "Sent", 1)
	if !r.InternalDate.Equal(date) || !slices.Equal(r.Flags, []string{`\Seen`}) {
		t.Fatalf("record: date %v flags %q", r.InternalDate, r.Flags)
	}
	// TRYCREATE surfaces as an *imap.Error with that code.
	cmd = cl.Append("Missing", int64(len(msg)), nil)
	io.WriteString(cmd, msg)
	cmd.Close()
	_, err = cmd.Wait()
	var ierr *imap.Error
	if !errors.As(err, &ierr) || ierr.Code != imap.ResponseCodeTryCreate {
		t.Fatalf("append to missing mailbox: %v", err)
	}
}
