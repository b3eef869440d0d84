package imapserver

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store"
)

var b64 = base64.StdEncoding.EncodeToString

// expectLoggedIn reads the tagged OK of a login and checks the session is
// authenticated.
func (c *rawConn) expectLoggedIn(tag string) {
	c.t.Helper()
	got := c.readLine()
	if !strings.HasPrefix(got, tag+" OK [CAPABILITY IMAP4rev1 ") || !strings.HasSuffix(got, "] Logged in") {
		c.t.Fatalf("got %q, want %s OK [CAPABILITY ...] Logged in", got, tag)
	}
	c.expectCmd("n1 NAMESPACE", `* NAMESPACE (("" "/")) NIL NIL`, "n1 OK NAMESPACE completed")
}

// setSCRAM stores SCRAM keys for password "password" (what `casier user
// add` does); the harness creates users with the hash only.
func setSCRAM(t *testing.T, ts *testServer, user string) {
	t.Helper()
	k, err := auth.SCRAMKeysFor("password")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Store.(store.SCRAMStore).SetSCRAMKeys(context.Background(), user, k); err != nil {
		t.Fatal(err)
	}
}

// scram is a SCRAM-SHA-256 client written from RFC 5802 for these tests.
type scram struct {
	user, pass, gs2 string
	cbData          []byte
	firstBare       string
	serverSig       []byte
}

func (s *scram) first() string {
	if s.gs2 == "" {
		s.gs2 = "n,,"
	}
	s.firstBare = "n=" + s.user + ",r=clientnonce123"
	return b64([]byte(s.gs2 + s.firstBare))
}

func (s *scram) final(t *testing.T, challenge string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(challenge, "+ "))
	if err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	serverFirst := string(raw)
	a := strings.Split(serverFirst, ",")
	if len(a) != 3 || !strings.HasPrefix(a[0], "r=clientnonce123") || !strings.HasPrefix(a[1], "s=") || a[2] != "i=4096" {
		t.Fatalf("server-first %q", serverFirst)
	}
	salt, _ := base64.StdEncoding.DecodeString(a[1][2:])
	iter, _ := strconv.Atoi(a[2][2:])
	salted, _ := pbkdf2.Key(sha256.New, s.pass, salt, iter, 32)
	mac := func(k []byte, m string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(m)); return h.Sum(nil) }
	withoutProof := "c=" + b64(append([]byte(s.gs2), s.cbData...)) + "," + a[0]
	authMsg := s.firstBare + "," + serverFirst + "," + withoutProof
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	sig := mac(stored[:], authMsg)
	for i := range clientKey {
		clientKey[i] ^= sig[i]
	}
	s.serverSig = mac(mac(salted, "Server Key"), authMsg)
	return b64([]byte(withoutProof + ",p=" + b64(clientKey)))
}

func TestAuthenticateSCRAM(t *testing.T) {
	ts := newTestServer(t)
	setSCRAM(t, ts, "alice")

	// Success: server-first, server-final "v=" as a continuation, empty
	// acknowledgment, OK (RFC 5802 5, RFC 9051 6.2.2).
	c := ts.raw(t)
	s := &scram{user: "alice", pass: "password"}
	c.send("a AUTHENTICATE SCRAM-SHA-256 " + s.first())
	c.send(s.final(t, c.readLine()))
	c.expect("+ " + b64([]byte("v="+b64(s.serverSig))))
	c.send("")
	c.expectLoggedIn("a")

	// Without initial response.
	c = ts.raw(t)
	s = &scram{user: "alice", pass: "password"}
	c.send("a AUTHENTICATE scram-sha-256")
	c.expect("+ ")
	c.send(s.first())
	c.send(s.final(t, c.readLine()))
	c.expect("+ " + b64([]byte("v="+b64(s.serverSig))))
	c.send("")
	c.expectLoggedIn("a")

	// Wrong password.
	c = ts.raw(t)
	s = &scram{user: "alice", pass: "wrong"}
	c.send("a AUTHENTICATE SCRAM-SHA-256 " + s.first())
	c.send(s.final(t, c.readLine()))
	c.expect("a NO [AUTHENTICATIONFAILED] Authentication failed")

	// Bad nonce in client-final.
	s = &scram{user: "alice", pass: "password"}
	c.send("b AUTHENTICATE SCRAM-SHA-256 " + s.first())
	line := c.readLine()
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, "+ "))
	nonce := strings.Split(string(raw), ",")[0]
	c.send(b64([]byte("c=biws," + nonce + "X,p=" + b64(make([]byte, 32)))))
	c.expect("b NO [AUTHENTICATIONFAILED] Authentication failed")

	// bob has no SCRAM keys (created before SCRAM): refused, and logged.
	s = &scram{user: "bob", pass: "password"}
	c.send("c AUTHENTICATE SCRAM-SHA-256 " + s.first())
	c.send(s.final(t, c.readLine()))
	c.expect("c NO [AUTHENTICATIONFAILED] Authentication failed")
	if !strings.Contains(ts.logs.String(), `msg="SCRAM login impossible" user=bob`) {
		t.Errorf("no log line for bob's missing keys:\n%s", ts.logs.String())
	}

	// Cancel mid-exchange, and -PLUS without TLS.
	s = &scram{user: "alice", pass: "password"}
	c.send("d AUTHENTICATE SCRAM-SHA-256 " + s.first())
	c.readLine()
	c.send("*")
	c.expect("d BAD Authentication cancelled")
	c.expectCmd("e AUTHENTICATE SCRAM-SHA-256-PLUS "+(&scram{user: "alice", gs2: "p=tls-exporter,,"}).first(),
		"e NO Unsupported authentication mechanism")
}

func TestAuthenticateSCRAMPlus(t *testing.T) {
	srvTLS, cliTLS := testTLSConfig(t)
	cliTLS.MinVersion = tls.VersionTLS13
	ts := newTestServer(t, func(c *Config) { c.TLS = srvTLS })
	setSCRAM(t, ts, "alice")
	dialTLS := func() (*rawConn, tls.ConnectionState) {
		c := ts.raw(t)
		c.expectCmd("s STARTTLS", "s OK Begin TLS negotiation now")
		c.startTLS(cliTLS)
		return c, c.c.(*tls.Conn).ConnectionState()
	}
	c, cs := dialTLS()
	c.expectCmd("a CAPABILITY",
		"* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-256-PLUS",
		"a OK CAPABILITY completed")
	exp, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	s := &scram{user: "alice", pass: "password", gs2: "p=tls-exporter,,", cbData: exp}
	c.send("b AUTHENTICATE SCRAM-SHA-256-PLUS " + s.first())
	c.send(s.final(t, c.readLine()))
	c.expect("+ " + b64([]byte("v="+b64(s.serverSig))))
	c.send("")
	c.expectLoggedIn("b")

	// tls-server-end-point: SHA-256 of the (ECDSA-SHA256) certificate.
	c, _ = dialTLS()
	h := sha256.Sum256(srvTLS.Certificates[0].Certificate[0])
	s = &scram{user: "alice", pass: "password", gs2: "p=tls-server-end-point,,", cbData: h[:]}
	c.send("b AUTHENTICATE SCRAM-SHA-256-PLUS " + s.first())
	c.send(s.final(t, c.readLine()))
	c.expect("+ " + b64([]byte("v="+b64(s.serverSig))))
	c.send("")
	c.expectLoggedIn("b")

	// Binding data of another connection: a man in the middle.
	c, _ = dialTLS()
	s = &scram{user: "alice", pass: "password", gs2: "p=tls-exporter,,", cbData: exp}
	c.send("b AUTHENTICATE SCRAM-SHA-256-PLUS " + s.first())
	c.send(s.final(t, c.readLine()))
	c.expect("b NO [AUTHENTICATIONFAILED] Channel binding failed")
	// A client that could bind but was told the server cannot (flag y).
	c.expectCmd("c AUTHENTICATE SCRAM-SHA-256 "+(&scram{user: "alice", gs2: "y,,"}).first(),
		"c NO [AUTHENTICATIONFAILED] Channel binding failed")
}

func testJWT(key []byte, claims map[string]any) string {
	enc := base64.RawURLEncoding
	c, _ := json.Marshal(claims)
	in := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(c)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

func TestAuthenticateOAuth(t *testing.T) {
	ts := newTestServer(t)
	key := []byte("test key for HS256 tokens")
	ts.Srv.auth.SetTokenVerifier(&auth.JWTVerifier{Key: key})
	exp := time.Now().Add(time.Hour).Unix()
	alice := testJWT(key, map[string]any{"sub": "alice", "exp": exp})
	expired := testJWT(key, map[string]any{"sub": "alice", "exp": time.Now().Add(-time.Hour).Unix()})
	errJSON := b64([]byte(`{"status":"invalid_token","schemes":"bearer"}`))

	c := ts.raw(t)
	c.expectCmd("a CAPABILITY",
		"* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256 AUTH=OAUTHBEARER AUTH=XOAUTH2",
		"a OK CAPABILITY completed")
	// go-sasl's client builds the RFC 7628 initial response.
	_, ir, _ := sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "alice", Token: alice, Host: "localhost", Port: 143}).Start()
	c.send("b AUTHENTICATE OAUTHBEARER " + b64(ir))
	c.expectLoggedIn("b")

	// Expired token: the RFC 7628 3.2.2 error JSON as a challenge, the
	// client's %x01, then NO.
	c = ts.raw(t)
	_, ir, _ = sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "alice", Token: expired}).Start()
	c.send("a AUTHENTICATE OAUTHBEARER " + b64(ir))
	c.expect("+ " + errJSON)
	c.send(b64([]byte{1}))
	c.expect("a NO [AUTHENTICATIONFAILED] Authentication failed")

	// alice's token used for bob.
	_, ir, _ = sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "bob", Token: alice}).Start()
	c.send("b AUTHENTICATE OAUTHBEARER " + b64(ir))
	c.expect("+ " + errJSON)
	c.send(b64([]byte{1}))
	c.expect("b NO [AUTHORIZATIONFAILED] Authorization identity not allowed")

	// XOAUTH2: success, then a failure acknowledged with an empty line.
	c.send("c AUTHENTICATE XOAUTH2 " + b64([]byte("user=bob\x01auth=Bearer "+alice+"\x01\x01")))
	c.expect("+ " + b64([]byte(`{"status":"401","schemes":"bearer"}`)))
	c.send("")
	c.expect("c NO [AUTHORIZATIONFAILED] Authorization identity not allowed")
	c.send("d AUTHENTICATE XOAUTH2 " + b64([]byte("user=alice\x01auth=Bearer "+alice+"\x01\x01")))
	c.expectLoggedIn("d")

	// Bearer tokens are secrets: not offered where plaintext is refused.
	ts2 := newTestServer(t, func(c *Config) { c.loopbackInsecure = true })
	ts2.Srv.auth.SetTokenVerifier(&auth.JWTVerifier{Key: key})
	c = ts2.raw(t)
	c.expectCmd("a AUTHENTICATE OAUTHBEARER "+b64(ir), "a NO Unsupported authentication mechanism")
}

func TestAuthenticateLogin(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	c.send("a AUTHENTICATE LOGIN")
	c.expect("+ " + b64([]byte("Username:")))
	c.send(b64([]byte("alice")))
	c.expect("+ " + b64([]byte("Password:")))
	c.send(b64([]byte("password")))
	c.expectLoggedIn("a")

	c = ts.raw(t)
	c.send("a AUTHENTICATE LOGIN " + b64([]byte("alice")))
	c.expect("+ " + b64([]byte("Password:")))
	c.send(b64([]byte("nope")))
	c.expect("a NO [AUTHENTICATIONFAILED] Authentication failed")

	ts2 := newTestServer(t, func(c *Config) { c.loopbackInsecure = true })
	c = ts2.raw(t)
	c.expectCmd("a AUTHENTICATE LOGIN", "a NO [PRIVACYREQUIRED] Plaintext authentication is not allowed without TLS")
}
