package imapserver

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func uidValidity(t *testing.T, ts *testServer, name string) string {
	t.Helper()
	return strconv.FormatUint(uint64(ts.mailbox(t, "alice", name).UIDValidity), 10)
}

func TestCopy(t *testing.T) {
	ts, c := storeServer(t, 4, false)
	// RFC 9051 6.4.7: a missing destination gets [TRYCREATE].
	c.expectCmd("a COPY 1:2 Projects", "a NO [TRYCREATE] Mailbox does not exist")
	c.expectCmd("b CREATE Projects", "b OK [MAILBOXID (F17)] CREATE completed")
	v := uidValidity(t, ts, "Projects")
	// RFC 4315 3: COPYUID uidvalidity source-uids destination-uids.
	c.expectCmd("c COPY 1:2 Projects", "c OK [COPYUID "+v+" 1:2 1:2] COPY completed")
	c.expectCmd("d UID COPY 2,4 Projects", "d OK [COPYUID "+v+" 2,4 3:4] UID COPY completed")
	// No message named: OK without COPYUID.
	c.expectCmd("e UID COPY 99 Projects", "e OK UID COPY completed")
	c.expectCmd("f COPY 5 Projects", "f BAD Invalid message sequence number")
	// The copies keep their flags; the source is unchanged.
	c.expectCmd(`g STORE 3 +FLAGS.SILENT (\Flagged)`, "g OK STORE completed")
	c.expectCmd("h COPY 3 Projects", "h OK [COPYUID "+v+" 3 5] COPY completed")
	c.expectCmd("i STATUS Projects (MESSAGES)", `* STATUS "Projects" (MESSAGES 5)`, "i OK STATUS completed")
	// Copy into the selected mailbox: the new message is announced before
	// the tagged response.
	vi := uidValidity(t, ts, "INBOX")
	c.expectCmd("j COPY 1 INBOX", "* 5 EXISTS", "* 5 RECENT", "j OK [COPYUID "+vi+" 1 5] COPY completed")
	// COPY works from a read-only mailbox.
	c.cmd("k EXAMINE INBOX")
	c.expectCmd("l COPY 1 Projects", "l OK [COPYUID "+v+" 1 6] COPY completed")
	recs, err := ts.account(t, "alice").Records(context.Background(), ts.mailbox(t, "alice", "Projects").ID, []uint32{5})
	if err != nil || len(recs) != 1 || strings.Join(recs[0].Flags, " ") != `\Flagged` {
		t.Fatalf("copied flags: %v %v", err, recs)
	}
}

func TestMove(t *testing.T) {
	ts, c := storeServer(t, 5, false)
	c.expectCmd("a MOVE 1 Projects", "a NO [TRYCREATE] Mailbox does not exist")
	c.cmd("b CREATE Projects")
	v := uidValidity(t, ts, "Projects")
	// RFC 6851 4.3: COPYUID in an untagged OK, then the EXPUNGEs, then the
	// tagged OK.
	c.expectCmd("c MOVE 2,4 Projects",
		"* OK [COPYUID "+v+" 2,4 1:2] Moved",
		"* 2 EXPUNGE",
		"* 3 EXPUNGE",
		"c OK MOVE completed")
	c.expectCmd("d UID MOVE 5 Projects",
		"* OK [COPYUID "+v+" 5 3] Moved",
		"* 3 EXPUNGE",
		"d OK UID MOVE completed")
	c.expectCmd("e UID MOVE 2 Projects", "e OK UID MOVE completed")
	c.expectCmd("f FETCH 1:* UID", "* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)", "f OK FETCH completed")
	// MOVE into the selected mailbox: new UID, old one expunged.
	vi := uidValidity(t, ts, "INBOX")
	c.expectCmd("g MOVE 1 INBOX",
		"* OK [COPYUID "+vi+" 1 6] Moved",
		"* 1 EXPUNGE",
		"* 2 EXISTS",
		"* 2 RECENT", // UID 3 (recent since SELECT) and the new UID 6
		"g OK MOVE completed")
	c.cmd("h EXAMINE INBOX")
	c.expectCmd("i MOVE 1 Projects", "i NO Mailbox is read-only")
}

func TestCopyMoveWithClient(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 3; i++ {
		ts.deliverAt(t, "alice", "INBOX", harnessMessage(i))
	}
	cl := ts.client(t, "alice")
	if err := cl.Create("Done", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	cd, err := cl.Copy(imap.UIDSetNum(1, 3), "Done").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if cd.SourceUIDs.String() != "1,3" || cd.DestUIDs.String() != "1:2" || cd.UIDValidity == 0 {
		t.Fatalf("copy data: %+v", cd)
	}
	md, err := cl.Move(imap.UIDSetNum(2), "Done").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if md.SourceUIDs.String() != "2" || md.DestUIDs.String() != "3" {
		t.Fatalf("move data: %+v", md)
	}
	if n := cl.Mailbox().NumMessages; n != 2 {
		t.Fatalf("after MOVE, %d messages", n)
	}
}
