package imapserver

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// sizedMessage is a valid message of exactly n octets; i makes it unique.
func sizedMessage(i, n int) string {
	h := fmt.Sprintf("Subject: quota %d\r\n\r\n", i)
	return h + strings.Repeat("q", n-len(h)-2) + "\r\n"
}

func setQuota(t *testing.T, ts *testServer, storage, messages int64) {
	t.Helper()
	if err := ts.Store.SetQuota(context.Background(), "alice", storage, messages); err != nil {
		t.Fatal(err)
	}
}

// TestQuotaCommands: RFC 9208 GETQUOTA, GETQUOTAROOT, SETQUOTA and STATUS
// DELETED-STORAGE, usage in exact numbers.
func TestQuotaCommands(t *testing.T) {
	ts := newTestServer(t)
	for i, n := range []int{1000, 1500, 2048} {
		ts.deliver(t, "alice", "INBOX", sizedMessage(i, n))
	}
	c := ts.rawLogin(t, "alice")
	caps := c.cmd("a CAPABILITY")[0]
	for _, want := range []string{" QUOTA ", " QUOTA=RES-STORAGE ", " QUOTA=RES-MESSAGE "} {
		if !strings.Contains(caps+" ", want) {
			t.Errorf("CAPABILITY lacks %q: %s", want, caps)
		}
	}
	if strings.Contains(caps, "QUOTASET") {
		t.Errorf("QUOTASET advertised: %s", caps)
	}

	// No limit: no quota root.
	c.expectCmd("b GETQUOTAROOT INBOX", "* QUOTAROOT INBOX", "b OK GETQUOTAROOT completed")
	c.expectCmd(`c GETQUOTA ""`, "c NO No such quota root")

	// 4548 octets are 5 units of 1024 (rounded up); 10240 octets are 10.
	setQuota(t, ts, 10240, 4)
	c.expectCmd("d GETQUOTAROOT inbox",
		`* QUOTAROOT INBOX ""`,
		`* QUOTA "" (STORAGE 5 10 MESSAGE 3 4)`,
		"d OK GETQUOTAROOT completed")
	c.expectCmd("e GETQUOTAROOT Archive",
		`* QUOTAROOT "Archive" ""`,
		`* QUOTA "" (STORAGE 5 10 MESSAGE 3 4)`,
		"e OK GETQUOTAROOT completed")
	c.expectCmd(`f GETQUOTA ""`, `* QUOTA "" (STORAGE 5 10 MESSAGE 3 4)`, "f OK GETQUOTA completed")
	c.expectCmd(`g GETQUOTA "User quota"`, "g NO No such quota root")
	c.expectCmd("h GETQUOTAROOT Nope", "h NO [NONEXISTENT] Mailbox does not exist")

	// Only the resources with a limit are listed.
	setQuota(t, ts, 0, 4)
	c.expectCmd(`i GETQUOTA ""`, `* QUOTA "" (MESSAGE 3 4)`, "i OK GETQUOTA completed")
	setQuota(t, ts, 3<<20, 0)
	c.expectCmd(`j GETQUOTA ""`, `* QUOTA "" (STORAGE 5 3072)`, "j OK GETQUOTA completed")

	// SETQUOTA is the administrator's; bad syntax is still BAD.
	c.expectCmd(`k SETQUOTA "" (STORAGE 100 MESSAGE 5)`, "k NO [NOPERM] Quota limits are set by the administrator")
	c.expectCmd(`l SETQUOTA "" ()`, "l NO [NOPERM] Quota limits are set by the administrator")
	if got := c.cmd(`m SETQUOTA ""`); len(got) != 1 || !strings.HasPrefix(got[0], "m BAD ") {
		t.Errorf("SETQUOTA without list: %q", got)
	}
	if got := c.cmd(`n SETQUOTA "" (STORAGE x)`); len(got) != 1 || !strings.HasPrefix(got[0], "n BAD ") {
		t.Errorf("SETQUOTA with a bad limit: %q", got)
	}
	if got := c.cmd(`o GETQUOTA`); len(got) != 1 || !strings.HasPrefix(got[0], "o BAD ") {
		t.Errorf("GETQUOTA without root: %q", got)
	}

	// STATUS DELETED-STORAGE: 1500+2048 octets marked \Deleted are 4 units.
	c.expectCmd("p STATUS INBOX (DELETED DELETED-STORAGE)", "* STATUS INBOX (DELETED 0 DELETED-STORAGE 0)", "p OK STATUS completed")
	c.cmd("q SELECT INBOX")
	c.expectCmd(`r STORE 2:3 +FLAGS.SILENT (\Deleted)`, "r OK STORE completed")
	c.expectCmd("s STATUS INBOX (DELETED-STORAGE MESSAGES)", "* STATUS INBOX (DELETED-STORAGE 4 MESSAGES 3)", "s OK STATUS completed")
	c.expectCmd("t EXPUNGE", "* 2 EXPUNGE", "* 2 EXPUNGE", "t OK EXPUNGE completed")
	c.expectCmd(`u GETQUOTA ""`, `* QUOTA "" (STORAGE 1 3072)`, "u OK GETQUOTA completed")
}

// TestQuotaEnforced: APPEND and COPY that would pass a limit get
// NO [OVERQUOTA] and store nothing (RFC 9208 4.3.1); MOVE inside the
// account changes no usage and is allowed.
func TestQuotaEnforced(t *testing.T) {
	ts := newTestServer(t)
	for i, n := range []int{1000, 1500, 2048} {
		ts.deliver(t, "alice", "INBOX", sizedMessage(i, n))
	}
	setQuota(t, ts, 10240, 4)
	c := ts.rawLogin(t, "alice")

	// 4548 + 6000 > 10240: refused, nothing stored.
	big := sizedMessage(10, 6000)
	if got := appendRaw(c, "a", "Drafts "+litPlus(big)); len(got) != 1 || got[0] != "a NO [OVERQUOTA] Quota exceeded" {
		t.Fatalf("APPEND over STORAGE: %q", got)
	}
	c.expectCmd("b STATUS Drafts (MESSAGES UIDNEXT)", `* STATUS "Drafts" (MESSAGES 0 UIDNEXT 1)`, "b OK STATUS completed")
	// 4548 + 5692 = 10240 fits exactly.
	uv := uidValidity(t, ts, "Drafts")
	if got := appendRaw(c, "c", "Drafts "+litPlus(sizedMessage(11, 5692))); len(got) != 1 || got[0] != "c OK [APPENDUID "+uv+" 1] APPEND completed" {
		t.Fatalf("APPEND to the limit: %q", got)
	}
	c.expectCmd(`d GETQUOTA ""`, `* QUOTA "" (STORAGE 10 10 MESSAGE 4 4)`, "d OK GETQUOTA completed")

	// MESSAGE limit: a fifth message is refused, however small.
	setQuota(t, ts, 0, 4)
	if got := appendRaw(c, "e", "INBOX "+litPlus(sizedMessage(12, 100))); len(got) != 1 || got[0] != "e NO [OVERQUOTA] Quota exceeded" {
		t.Fatalf("APPEND over MESSAGE: %q", got)
	}
	c.cmd("f SELECT INBOX")
	c.expectCmd("g COPY 1 Archive", "g NO [OVERQUOTA] Quota exceeded")
	c.expectCmd("h UID COPY 1:3 Archive", "h NO [OVERQUOTA] Quota exceeded")
	c.expectCmd("i STATUS Archive (MESSAGES)", `* STATUS "Archive" (MESSAGES 0)`, "i OK STATUS completed")
	c.expectCmd("j COPY 1 INBOX", "j NO [OVERQUOTA] Quota exceeded")
	va := uidValidity(t, ts, "Archive")
	c.expectCmd("k MOVE 1 Archive",
		"* OK [COPYUID "+va+" 1 1] Moved",
		"* 1 EXPUNGE",
		"k OK MOVE completed")
	c.expectCmd(`l GETQUOTA ""`, `* QUOTA "" (MESSAGE 4 4)`, "l OK GETQUOTA completed")
	c.expectCmd("m STATUS INBOX (MESSAGES)", "* STATUS INBOX (MESSAGES 2)", "m OK STATUS completed")

	// After EXPUNGE there is room again.
	c.expectCmd(`n STORE 1 +FLAGS.SILENT (\Deleted)`, "n OK STORE completed")
	c.expectCmd("o EXPUNGE", "* 1 EXPUNGE", "o OK EXPUNGE completed")
	c.expectCmd("p COPY 1 Archive", "p OK [COPYUID "+va+" 3 2] COPY completed")
}
