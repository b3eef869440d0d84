package imapserver

import (
	"context"
	"slices"
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

	// The server's name is the configured hostname, "localhost" or the
	// address the client connected to (127.0.0.1 here); any other host
	// is another server.
	genURL(t, alice, "imap://alice@127.0.0.1/INBOX/;UID=1;URLAUTH=anonymous")
	catExpect(t, alice.cmd(`b GENURLAUTH "imap://alice@127.0.0.2/INBOX/;UID=1;URLAUTH=anonymous" INTERNAL`),
		"b NO [BADURL imap://alice@127.0.0.2/INBOX/;UID=1;URLAUTH=anonymous] URL names another server")
	catExpect(t, alice.cmd(`b GENURLAUTH "imap://alice@mail.example.net/INBOX/;UID=1;URLAUTH=anonymous" INTERNAL`),
		"b NO [BADURL imap://alice@mail.example.net/INBOX/;UID=1;URLAUTH=anonymous] URL names another server")

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

// binMessage has a quoted-printable text part (1), a base64 part whose
// content holds NUL (2: 00 01 02 03 00 FF) and a part in an encoding
// nobody knows (3).
var binMessage = crlf(`From: a@example.org
Subject: binary
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=B

--B
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

caf=C3=A9 au=
 lait
--B
Content-Type: image/png; name=x.png
Content-Transfer-Encoding: base64

AAECAwD/
--B
Content-Type: application/octet-stream
Content-Transfer-Encoding: x-blurdybloop

zzzz
--B--
`)

// TestURLFetchBinary: the extended URLFETCH of RFC 5524 (URLAUTH=BINARY):
// per URL in parentheses, the metadata items asked for, in that order,
// each as "(ITEM value)" after the URL (RFC 5524 3.2, 4).
func TestURLFetchBinary(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", binMessage)
	alice := ts.rawLogin(t, "alice")
	bob := ts.rawLogin(t, "bob")
	base := "imap://alice@localhost/INBOX/;UID=1"
	text := genURL(t, alice, base+"/;SECTION=1;URLAUTH=user+bob")
	png := genURL(t, alice, base+"/;SECTION=2;URLAUTH=user+bob")
	odd := genURL(t, alice, base+"/;SECTION=3;URLAUTH=user+bob")
	whole := genURL(t, alice, base+";URLAUTH=user+bob")
	header := genURL(t, alice, base+"/;SECTION=HEADER;URLAUTH=user+bob")
	partial := genURL(t, alice, base+"/;SECTION=2/;PARTIAL=1.3;URLAUTH=user+bob")
	pngStruct := `("image" "png" ("name" "x.png") NIL NIL "BASE64" 8 NIL NIL NIL NIL)`

	// BINARY decodes base64 into a literal8, since the content holds
	// NUL; BODYPARTSTRUCTURE then describes what BINARY returned (RFC
	// 5524 4: encoding BINARY, the decoded size).
	catExpect(t, bob.cmd(`a URLFETCH ("`+png+`" BODYPARTSTRUCTURE BINARY)`),
		`* URLFETCH "`+png+`" (BODYPARTSTRUCTURE ("image" "png" ("name" "x.png") NIL NIL "BINARY" 6 NIL NIL NIL NIL))`+
			" (BINARY ~{6}\r\n\x00\x01\x02\x03\x00\xff)",
		"a OK URLFETCH completed")
	// BODY is the part as stored, as the RFC 4467 form gives it; the
	// structure is then the stored one, and comes first whatever the
	// order asked.
	catExpect(t, bob.cmd(`b URLFETCH ("`+png+`" BODY BODYPARTSTRUCTURE)`),
		`* URLFETCH "`+png+`" (BODYPARTSTRUCTURE `+pngStruct+`) (BODY {8}`+"\r\nAAECAwD/)",
		"b OK URLFETCH completed")
	// Quoted-printable, no NUL: a plain literal. BINARY alone.
	catExpect(t, bob.cmd(`c URLFETCH ("`+text+`" BINARY)`),
		`* URLFETCH "`+text+`" (BINARY {13}`+"\r\ncaf\xc3\xa9 au lait)",
		"c OK URLFETCH completed")
	// An encoding the server cannot undo: BINARY is NIL, the structure
	// still comes (RFC 5524 3.2).
	catExpect(t, bob.cmd(`d URLFETCH ("`+odd+`" BODYPARTSTRUCTURE BINARY)`),
		`* URLFETCH "`+odd+`" (BODYPARTSTRUCTURE ("application" "octet-stream" NIL NIL NIL "X-BLURDYBLOOP" 4 NIL NIL NIL NIL)) (BINARY NIL)`,
		"d OK URLFETCH completed")
	// PARTIAL applies to the decoded content for BINARY, to the stored
	// bytes for BODY.
	catExpect(t, bob.cmd(`e URLFETCH ("`+partial+`" BINARY) ("`+partial+`" BODY)`),
		`* URLFETCH "`+partial+`" (BINARY {3}`+"\r\n\x01\x02\x03) \""+partial+`" (BODY {3}`+"\r\nAEC)",
		"e OK URLFETCH completed")
	// The whole message: BINARY is the message as stored (it has no
	// transfer encoding of its own), its structure the BODYSTRUCTURE.
	lines := bob.cmd(`f URLFETCH ("` + whole + `" BODYPARTSTRUCTURE BINARY)`)
	wantWhole := `* URLFETCH "` + whole + `" (BODYPARTSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE" 20 1 NIL NIL NIL NIL)` +
		pngStruct + `("application" "octet-stream" NIL NIL NIL "X-BLURDYBLOOP" 4 NIL NIL NIL NIL) "mixed" ("boundary" "B") NIL NIL NIL))` +
		" (BINARY {" + strconv.Itoa(len(binMessage)) + "}\r\n" + binMessage + ")"
	catExpect(t, lines, wantWhole, "f OK URLFETCH completed")
	// A header section is no MIME part: BINARY gives it as stored, but
	// it has no structure, so asking for one fails the URL.
	hdr := "From: a@example.org\r\nSubject: binary\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
	catExpect(t, bob.cmd(`g URLFETCH ("`+header+`" BINARY) ("`+header+`" BODYPARTSTRUCTURE BODY)`),
		`* URLFETCH "`+header+`" (BINARY {`+strconv.Itoa(len(hdr))+"}\r\n"+hdr+`) "`+header+`" NIL`,
		"g OK URLFETCH completed")

	// Parentheses without parameters, and a bare URL: the RFC 4467 form.
	// A URL that fails is NIL in either form, and the command succeeds.
	forAlice := strings.Replace(png, "user+bob", "user+alice", 1)
	catExpect(t, bob.cmd(`h URLFETCH ("`+png+`") "`+png+`" ("`+forAlice+`" BINARY)`),
		`* URLFETCH "`+png+`" {8}`+"\r\nAAECAwD/ \""+png+`" {8}`+"\r\nAAECAwD/ \""+forAlice+`" NIL`,
		"h OK URLFETCH completed")

	// RFC 5524 3.1: no parameter twice, not BINARY with BODY; unknown
	// parameters and an empty list are refused too.
	catExpect(t, bob.cmd(`i URLFETCH ("`+png+`" BINARY BODY)`), "i BAD URLFETCH takes BINARY or BODY, not both")
	catExpect(t, bob.cmd(`i URLFETCH ("`+png+`" BINARY binary)`), "i BAD URLFETCH parameter BINARY given twice")
	catExpect(t, bob.cmd(`i URLFETCH ("`+png+`" CONVERTED)`), "i BAD Unknown URLFETCH parameter CONVERTED")
	catExpect(t, bob.cmd(`i URLFETCH ()`), "i BAD Expected a URL in parentheses")
}

// TestURLMechOnSelect: SELECT and EXAMINE name the URLAUTH mechanisms of
// the mailbox in an untagged OK [URLMECH] (RFC 4467 7), after the other
// response codes.
func TestURLMechOnSelect(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	for _, cmd := range []string{"a SELECT INBOX", "b EXAMINE INBOX"} {
		lines := c.cmd(cmd)
		i := slices.Index(lines, "* OK [URLMECH INTERNAL] Ok")
		if i < 0 || !strings.HasPrefix(lines[i-1], "* OK [MAILBOXID (") {
			t.Fatalf("%s: %q", cmd, lines)
		}
	}
}
