package imapserver

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCapabilityBeforeAndAfterLogin(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	c.expectCmd("a CAPABILITY", "* CAPABILITY "+testPreCaps, "a OK CAPABILITY completed")
	c.expectCmd("b LOGIN alice password", "b OK [CAPABILITY "+testPostCaps+"] Logged in")
	c.expectCmd("c CAPABILITY", "* CAPABILITY "+testPostCaps, "c OK CAPABILITY completed")
	// RFC 9051 6.3.1: ENABLE does not change the list.
	c.expectCmd("d ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "d OK ENABLE completed")
	c.expectCmd("e CAPABILITY", "* CAPABILITY "+testPostCaps, "e OK CAPABILITY completed")
}

func TestAppendLimitCapability(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxMessageSize = 1234 })
	c := ts.rawLogin(t, "alice")
	lines := c.cmd("a CAPABILITY")
	if !strings.Contains(lines[0], " APPENDLIMIT=1234 ") {
		t.Fatalf("CAPABILITY: %q", lines[0])
	}
}

func TestLogin(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	c.expectCmd("a LOGIN alice wrong", "a NO [AUTHENTICATIONFAILED] Authentication failed")
	c.expectCmd("b LOGIN nobody password", "b NO [AUTHENTICATIONFAILED] Authentication failed")
	c.expectBad("c LOGIN alice")
	c.expectCmd(`d LOGIN "alice" {8+}`+"\r\npassword", "d OK [CAPABILITY "+testPostCaps+"] Logged in")
	c.expectCmd("e SELECT INBOX", "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
		"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
		"* 0 EXISTS", "* 0 RECENT",
		"* OK [UIDVALIDITY "+u32str(ts.mailbox(t, "alice", "INBOX").UIDValidity)+"] UIDs valid",
		"* OK [UIDNEXT 1] Predicted next UID", highestModSeqLine(t, ts, "alice", "INBOX"),
		"* OK [MAILBOXID (F1)] Ok", "* OK [URLMECH INTERNAL] Ok", "e OK [READ-WRITE] SELECT completed")
}

func TestLoginDisabledWithoutTLS(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.loopbackInsecure = true })
	c := ts.dial(t)
	c.expect("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE LOGINDISABLED AUTH=SCRAM-SHA-256] Casier ready.")
	c.expectCmd("a LOGIN alice password", "a NO [PRIVACYREQUIRED] Plaintext authentication is not allowed without TLS")
	c.expectCmd("b AUTHENTICATE PLAIN "+plainIR("", "alice", "password"),
		"b NO [PRIVACYREQUIRED] Plaintext authentication is not allowed without TLS")
	c.expectCmd("c STARTTLS", "c BAD TLS is not available")

	// AllowInsecureAuth lifts the restriction.
	ts2 := newTestServer(t, func(c *Config) { c.loopbackInsecure, c.AllowInsecureAuth = true, true })
	ts2.rawLogin(t, "alice")
}

func plainIR(authz, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
}

func TestAuthenticatePlain(t *testing.T) {
	ts := newTestServer(t)
	ok := func(tag string) string { return tag + " OK [CAPABILITY " + testPostCaps + "] Logged in" }

	// RFC 4959 initial response.
	c := ts.raw(t)
	c.expectCmd("a AUTHENTICATE PLAIN "+plainIR("", "alice", "password"), ok("a"))
	c.expectCmd("b AUTHENTICATE PLAIN "+plainIR("", "alice", "password"), "b BAD AUTHENTICATE not allowed now.")

	// Authorization identity equal to the user is accepted; another is not.
	c = ts.raw(t)
	c.expectCmd("a AUTHENTICATE PLAIN "+plainIR("bob", "alice", "password"),
		"a NO [AUTHORIZATIONFAILED] Authorization identity not allowed")
	c.expectCmd("b AUTHENTICATE plain "+plainIR("alice", "alice", "password"), ok("b"))

	// Without initial response: an empty challenge, then the response.
	c = ts.raw(t)
	c.send("a AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send(plainIR("", "bob", "password"))
	c.expect(ok("a"))

	// Wrong password, malformed message, empty responses.
	c = ts.raw(t)
	c.expectCmd("a AUTHENTICATE PLAIN "+plainIR("", "alice", "nope"), "a NO [AUTHENTICATIONFAILED] Authentication failed")
	c.expectCmd("b AUTHENTICATE PLAIN "+base64.StdEncoding.EncodeToString([]byte("alice")),
		"b NO [AUTHENTICATIONFAILED] Authentication failed")
	c.expectCmd("c AUTHENTICATE PLAIN =", "c NO [AUTHENTICATIONFAILED] Authentication failed")
	c.send("d AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send("")
	c.expect("d NO [AUTHENTICATIONFAILED] Authentication failed")

	// RFC 9051 6.2.2: "*" cancels, invalid base64 is BAD.
	c.send("e AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send("*")
	c.expect("e BAD Authentication cancelled")
	c.send("f AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send("not base64!")
	c.expect("f BAD Invalid base64 data")
	c.expectCmd("g AUTHENTICATE PLAIN =AAA", "g BAD Invalid base64 data")
	c.expectCmd("h AUTHENTICATE CRAM-MD5", "h NO Unsupported authentication mechanism")
	c.expectCmd("i LOGIN alice password", ok("i"))
}

func TestEnable(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	c.expectCmd("a ENABLE IMAP4rev2", "a BAD ENABLE not allowed now.")
	c.cmd("b LOGIN alice password")
	c.expectBad("c ENABLE")
	// Unknown and not-offered extensions are ignored (RFC 5161 3.1).
	c.expectCmd("d ENABLE X-UNKNOWN", "* ENABLED", "d OK ENABLE completed")
	c.expectCmd("e ENABLE utf8=accept", "* ENABLED UTF8=ACCEPT", "e OK ENABLE completed")
	// Only what this command newly enabled is listed.
	c.expectCmd("f ENABLE UTF8=ACCEPT imap4rev2", "* ENABLED IMAP4rev2", "f OK ENABLE completed")
	c.expectCmd("g ENABLE IMAP4rev2 UTF8=ACCEPT", "* ENABLED", "g OK ENABLE completed")

	// After UTF8=ACCEPT, names go out in UTF-8, not modified UTF-7.
	if _, err := ts.account(t, "alice").CreateMailbox(context.Background(), "Entwürfe", ""); err != nil {
		t.Fatal(err)
	}
	c2 := ts.rawLogin(t, "alice")
	c2.cmd("a ENABLE UTF8=ACCEPT")
	lines := c2.cmd(`b EXAMINE "Entwürfe"`)
	if !hasLine(lines, `* OK [UIDNEXT 1] Predicted next UID`) || lines[len(lines)-1] != "b OK [READ-ONLY] EXAMINE completed" {
		t.Fatalf("EXAMINE with a UTF-8 name: %q", lines)
	}
	c3 := ts.rawLogin(t, "alice")
	c3.cmd("a ENABLE IMAP4rev2")
	lines = c3.cmd(`b EXAMINE "Entwürfe"`)
	if !hasLine(lines, `* LIST (\HasNoChildren) "/" "Entwürfe"`) {
		t.Fatalf("LIST in rev2 EXAMINE: %q", lines)
	}
	c4 := ts.rawLogin(t, "alice")
	c4.expectCmd("a EXAMINE Entw&APw-rfe", "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
		"* OK [PERMANENTFLAGS ()] No permanent flags permitted", "* 0 EXISTS", "* 0 RECENT",
		"* OK [UIDVALIDITY "+u32str(ts.mailbox(t, "alice", "Entwürfe").UIDValidity)+"] UIDs valid",
		"* OK [UIDNEXT 1] Predicted next UID", highestModSeqLine(t, ts, "alice", "Entwürfe"),
		"* OK [MAILBOXID (F"+strconv.FormatInt(int64(ts.mailbox(t, "alice", "Entwürfe").ID), 10)+")] Ok", "* OK [URLMECH INTERNAL] Ok", "a OK [READ-ONLY] EXAMINE completed")
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func TestID(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	const reply = `* ID ("name" "Casier" "version" "0.1")`
	c.expectCmd("a ID NIL", reply, "a OK ID completed")
	c.expectCmd(`b ID ("name" "test" "version" NIL)`, reply, "b OK ID completed")
	c.expectCmd(`c ID ()`, reply, "c OK ID completed")
	c.expectCmd(`d ID ("name")`, "d BAD ID field without a value")
	c.expectCmd(`e ID ("`+strings.Repeat("n", 31)+`" "x")`, "e BAD ID field name too long")
	c.expectCmd(`f ID ("n" "`+strings.Repeat("v", 1025)+`")`, "f BAD ID field value too long")
	var many strings.Builder
	for i := 0; i < 31; i++ {
		if i > 0 {
			many.WriteByte(' ')
		}
		many.WriteString(`"k" "v"`)
	}
	c.expectCmd(`g ID (`+many.String()+`)`, "g BAD Too many ID parameters")
	c.expectCmd(`h ID "x"`, "h BAD Expected a parameter list or NIL")
	c.expectBad("i ID")
	c.expectCmd("j NOOP", "j OK NOOP completed")
}

// testTLSConfig returns a server config with a fresh self-signed
// certificate for 127.0.0.1, and a client config trusting it.
func testTLSConfig(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "casier test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	return server, client
}

// startTLS upgrades a raw connection after the server's OK to STARTTLS.
func (c *rawConn) startTLS(cfg *tls.Config) {
	c.t.Helper()
	if n := c.br.Buffered(); n != 0 {
		c.t.Fatalf("%d plaintext bytes after the STARTTLS response", n)
	}
	tc := tls.Client(c.c, cfg)
	tc.SetDeadline(time.Now().Add(testTimeout))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	tc.SetDeadline(time.Time{})
	c.c = tc
	c.br = bufio.NewReader(tc)
}

func TestStartTLS(t *testing.T) {
	srvTLS, cliTLS := testTLSConfig(t)
	ts := newTestServer(t, func(c *Config) {
		c.TLS = srvTLS
		c.loopbackInsecure = true
	})
	c := ts.dial(t)
	c.expect("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE STARTTLS LOGINDISABLED AUTH=SCRAM-SHA-256] Casier ready.")
	c.expectCmd("a LOGIN alice password", "a NO [PRIVACYREQUIRED] Plaintext authentication is not allowed without TLS")
	c.expectBad("b STARTTLS extra")
	// Plaintext pipelined after STARTTLS must not run inside TLS (RFC
	// 9051 6.2.1): "c LOGIN" is discarded.
	c.write("b STARTTLS\r\nc LOGIN alice password\r\n")
	c.expect("b OK Begin TLS negotiation now")
	c.startTLS(cliTLS)
	c.expectCmd("d CAPABILITY", "* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-256-PLUS", "d OK CAPABILITY completed")
	c.expectCmd("e STARTTLS", "e BAD TLS is already active")
	c.expectCmd("f LOGIN alice password", "f OK [CAPABILITY "+testPostCaps+"] Logged in")
	c.expectCmd("g NAMESPACE", `* NAMESPACE (("" "/")) NIL NIL`, "g OK NAMESPACE completed")
}

func TestImplicitTLS(t *testing.T) {
	srvTLS, cliTLS := testTLSConfig(t)
	ts := newTestServer(t, func(c *Config) {
		c.TLS = srvTLS
		c.loopbackInsecure = true
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ts.Srv.Serve(ln, true) }()
	t.Cleanup(func() {
		ts.Srv.Shutdown(context.Background())
		if err := <-served; err != nil {
			t.Errorf("Serve(implicit TLS): %v", err)
		}
	})
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", ln.Addr().String(), cliTLS)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	t.Cleanup(func() { tc.Close() })
	c := &rawConn{t: t, c: tc, br: bufio.NewReader(tc)}
	// No STARTTLS on an implicit TLS port, and plaintext login allowed.
	c.expect("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-256-PLUS] Casier ready.")
	c.expectCmd("a STARTTLS", "a BAD TLS is already active")
	c.expectCmd("b LOGIN alice password", "b OK [CAPABILITY "+testPostCaps+"] Logged in")
}
