package imapserver

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// signURL computes the INTERNAL token of rump with alice's current INBOX
// key (creating it), as GENURLAUTH would: for URLs the server would not
// sign itself (already expired).
func signURL(t *testing.T, ts *testServer, rump string) string {
	t.Helper()
	ks := ts.Store.(store.URLAuthKeys)
	u, err := ts.Store.User(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ks.URLAuthKey(context.Background(), u.ID, ts.mailbox(t, "alice", "INBOX").ID, true)
	if err != nil {
		t.Fatal(err)
	}
	return rump + ":INTERNAL:" + urlauthToken(key, rump)
}

// genURL runs GENURLAUTH for one rump and returns the full URL.
func genURL(t *testing.T, c *rawConn, rump string) string {
	t.Helper()
	lines := c.cmd(`g GENURLAUTH "` + rump + `" INTERNAL`)
	if len(lines) != 2 || lines[1] != "g OK GENURLAUTH completed" || !strings.HasPrefix(lines[0], `* GENURLAUTH "`+rump+`:INTERNAL:`) {
		t.Fatalf("GENURLAUTH %s: %q", rump, lines)
	}
	full := strings.TrimSuffix(strings.TrimPrefix(lines[0], `* GENURLAUTH "`), `"`)
	if tok := full[len(rump)+len(":INTERNAL:"):]; len(tok) != 64 {
		t.Fatalf("token %q", tok)
	}
	return full
}

func fetchLine(url, data string) string {
	if data == "" {
		return `* URLFETCH "` + url + `" NIL`
	}
	return `* URLFETCH "` + url + `" {` + strconv.Itoa(len(data)) + "}\r\n" + data
}

func TestURLAuthGenerateAndFetch(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", catMessage)
	uv := uvOf(t, ts, "alice", "INBOX")
	alice := ts.rawLogin(t, "alice")
	bob := ts.rawLogin(t, "bob")

	base := "imap://alice@localhost/INBOX;UIDVALIDITY=" + uv + "/;UID=1/;SECTION=2"
	forBob := genURL(t, alice, base+";URLAUTH=user+bob")
	forAny := genURL(t, alice, base+";URLAUTH=authuser")
	// The key is per mailbox: both tokens come from the same key, and the
	// same rump always gives the same URL.
	if again := genURL(t, alice, base+";URLAUTH=user+bob"); again != forBob {
		t.Fatalf("GENURLAUTH not stable: %q vs %q", again, forBob)
	}
	if want := signURL(t, ts, base+";URLAUTH=user+bob"); forBob != want {
		t.Fatalf("token %q, want HMAC-SHA256 %q", forBob, want)
	}

	// Same session: authuser works, user+bob does not (alice is not bob).
	catExpect(t, alice.cmd(`a URLFETCH "`+forAny+`" "`+forBob+`"`),
		fetchLine(forAny, "second part body")+` "`+forBob+`" NIL`,
		"a OK URLFETCH completed")
	// Bob's session: both.
	catExpect(t, bob.cmd(`b URLFETCH "`+forBob+`"`), fetchLine(forBob, "second part body"), "b OK URLFETCH completed")
	catExpect(t, bob.cmd(`c URLFETCH "`+forAny+`"`), fetchLine(forAny, "second part body"), "c OK URLFETCH completed")

	// PARTIAL and anonymous; a plain URL without URLAUTH is NIL.
	anon := genURL(t, alice, "imap://alice@localhost/INBOX/;UID=1/;SECTION=1/;PARTIAL=6.4;URLAUTH=anonymous")
	catExpect(t, bob.cmd(`d URLFETCH "`+anon+`" "imap://alice@localhost/INBOX/;UID=1"`),
		fetchLine(anon, "part")+` "imap://alice@localhost/INBOX/;UID=1" NIL`, "d OK URLFETCH completed")

	// Bob may use the authorized URL in CATENATE (RFC 4467 3), not the bare one.
	catExpect(t, appendRaw(bob, "e", `Drafts CATENATE (TEXT `+litPlus("Subject: fw\r\n\r\n")+` URL "`+forBob+`")`),
		"e OK [APPENDUID "+uvOf(t, ts, "bob", "Drafts")+" 1] APPEND completed")
	catExpect(t, appendRaw(bob, "f", `Drafts CATENATE (URL "`+base+`")`),
		"f NO [BADURL "+base+"] URL names another user's mailbox")
}

func TestURLAuthRefused(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", catMessage)
	ts.deliver(t, "bob", "INBOX", catMessage)
	alice := ts.rawLogin(t, "alice")
	bob := ts.rawLogin(t, "bob")
	base := "imap://alice@localhost/INBOX/;UID=1/;SECTION=2"
	good := genURL(t, alice, base+";URLAUTH=anonymous")

	// Tampered token, and a valid token moved to another rump.
	last := good[len(good)-1]
	flip := byte('0')
	if last == '0' {
		flip = '1'
	}
	tampered := good[:len(good)-1] + string(flip)
	moved := strings.Replace(good, "SECTION=2", "SECTION=1", 1)
	// Expired: correctly signed, but EXPIRE has passed.
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	expired := signURL(t, ts, base+";EXPIRE="+past+";URLAUTH=anonymous")
	future := signURL(t, ts, base+";EXPIRE="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+";URLAUTH=anonymous")
	otherMech := strings.Replace(good, ":INTERNAL:", ":XHMAC:", 1)
	for _, u := range []string{tampered, moved, expired, otherMech} {
		catExpect(t, bob.cmd(`a URLFETCH "`+u+`"`), `* URLFETCH "`+u+`" NIL`, "a OK URLFETCH completed")
	}
	catExpect(t, bob.cmd(`a URLFETCH "`+future+`"`), fetchLine(future, "second part body"), "a OK URLFETCH completed")

	// GENURLAUTH refuses other users' mail, expired rumps, full URLs,
	// unknown mechanisms and missing messages.
	catExpect(t, alice.cmd(`b GENURLAUTH "imap://bob@localhost/INBOX/;UID=1;URLAUTH=anonymous" INTERNAL`),
		"b NO [BADURL imap://bob@localhost/INBOX/;UID=1;URLAUTH=anonymous] URL names another user")
	catExpect(t, alice.cmd(`b GENURLAUTH "`+base+";EXPIRE="+past+`;URLAUTH=anonymous" INTERNAL`),
		"b NO [BADURL "+base+";EXPIRE="+past+";URLAUTH=anonymous] URL has already expired")
	catExpect(t, alice.cmd(`b GENURLAUTH "`+good+`" INTERNAL`),
		"b NO [BADURL "+good+"] Expected an absolute URL ending in ;URLAUTH=<access>")
	catExpect(t, alice.cmd(`b GENURLAUTH "`+base+`;URLAUTH=anonymous" XHMAC`), "b NO Unsupported URLAUTH mechanism XHMAC")
	catExpect(t, alice.cmd(`b GENURLAUTH "imap://alice@localhost/INBOX/;UID=9;URLAUTH=anonymous" INTERNAL`),
		"b NO [BADURL imap://alice@localhost/INBOX/;UID=9;URLAUTH=anonymous] No such message")
	catExpect(t, alice.cmd(`b GENURLAUTH`), "b BAD expected space")

	// RESETKEY of the mailbox invalidates the URL; a new one works.
	catExpect(t, alice.cmd(`c RESETKEY INBOX INTERNAL`), "c OK [URLMECH INTERNAL] RESETKEY completed")
	catExpect(t, bob.cmd(`d URLFETCH "`+good+`"`), `* URLFETCH "`+good+`" NIL`, "d OK URLFETCH completed")
	fresh := genURL(t, alice, base+";URLAUTH=anonymous")
	if fresh == good {
		t.Fatal("RESETKEY kept the key")
	}
	catExpect(t, bob.cmd(`d URLFETCH "`+fresh+`"`), fetchLine(fresh, "second part body"), "d OK URLFETCH completed")
	// RESETKEY without a mailbox: all keys.
	catExpect(t, alice.cmd(`e RESETKEY`), "e OK All URLAUTH keys removed")
	catExpect(t, bob.cmd(`f URLFETCH "`+fresh+`"`), `* URLFETCH "`+fresh+`" NIL`, "f OK URLFETCH completed")
	catExpect(t, alice.cmd(`g RESETKEY Nowhere`), "g NO [NONEXISTENT] Mailbox does not exist")
	catExpect(t, alice.cmd(`g RESETKEY INBOX XHMAC`), "g NO Unsupported URLAUTH mechanism XHMAC")
}
