package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// tlsPair handshakes TLS 1.3 over a pipe with a fresh ECDSA-SHA256
// certificate and returns both sides' states and the certificate.
func tlsPair(t *testing.T) (srv, cli *tls.ConnectionState, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		SignatureAlgorithm: x509.ECDSAWithSHA256,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	s := tls.Server(c1, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS13})
	c := tls.Client(c2, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	errc := make(chan error, 1)
	go func() { errc <- s.Handshake() }()
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	ss, cs := s.ConnectionState(), c.ConnectionState()
	return &ss, &cs, der
}

// step runs one Next and returns its results as a string for comparison.
func step(ex Exchange, resp []byte) (string, bool, error) {
	ch, done, err := ex.Next(context.Background(), resp)
	return string(ch), done, err
}

func TestMechanisms(t *testing.T) {
	a, _, _ := newTestAuth(t, newFakeStore(t), DefaultThrottleConfig())
	if got := strings.Join(a.Mechanisms(ConnInfo{PlaintextOK: true}), " "); got != "PLAIN LOGIN SCRAM-SHA-256" {
		t.Errorf("plaintext ok = %q", got)
	}
	a.SetTokenVerifier(&JWTVerifier{Key: []byte("k")})
	if got := strings.Join(a.Mechanisms(ConnInfo{PlaintextOK: true}), " "); got != "PLAIN LOGIN SCRAM-SHA-256 OAUTHBEARER XOAUTH2" {
		t.Errorf("with tokens = %q", got)
	}
	if got := strings.Join(a.Mechanisms(ConnInfo{}), " "); got != "SCRAM-SHA-256" {
		t.Errorf("no plaintext = %q", got)
	}
	for _, m := range []string{"PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2", "CRAM-MD5", "SCRAM-SHA-256-PLUS"} {
		if _, err := a.Start(m, ConnInfo{}); !errors.Is(err, ErrMechanism) {
			t.Errorf("Start(%s) without plaintext = %v", m, err)
		}
	}
}

func TestPlain(t *testing.T) {
	a, _, _ := newTestAuth(t, newFakeStore(t, "alice", "pw"), DefaultThrottleConfig())
	ci := ConnInfo{Remote: ipA, PlaintextOK: true}
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{"\x00alice\x00pw", nil},
		{"ALICE\x00alice\x00pw", nil},
		{"\x00alice\x00bad", ErrFailed},
		{"bob\x00alice\x00pw", ErrAuthzFailed},
		{"alice\x00pw", ErrFailed},
		{"\x00\x00pw", ErrFailed},
		{"\x00alice\x00pw\x00", ErrFailed},
	} {
		ex, err := a.Start("plain", ci)
		if err != nil {
			t.Fatal(err)
		}
		// Without an initial response the server asks with an empty challenge.
		if ch, done, err := step(ex, nil); ch != "" || done || err != nil {
			t.Fatalf("first step = %q %v %v", ch, done, err)
		}
		_, done, err := step(ex, []byte(tc.msg))
		if !errors.Is(err, tc.want) || done != (tc.want == nil) {
			t.Errorf("PLAIN %q: done=%v err=%v, want %v", tc.msg, done, err, tc.want)
		}
		if tc.want == nil && ex.User().Name != "alice" {
			t.Errorf("user = %+v", ex.User())
		}
	}
}

func TestLoginMech(t *testing.T) {
	a, _, _ := newTestAuth(t, newFakeStore(t, "alice", "pw"), DefaultThrottleConfig())
	ci := ConnInfo{Remote: ipA, PlaintextOK: true}
	ex, _ := a.Start("LOGIN", ci)
	if ch, done, err := step(ex, nil); ch != "Username:" || done || err != nil {
		t.Fatalf("= %q %v %v", ch, done, err)
	}
	if ch, done, err := step(ex, []byte("alice")); ch != "Password:" || done || err != nil {
		t.Fatalf("= %q %v %v", ch, done, err)
	}
	if _, done, err := step(ex, []byte("pw")); !done || err != nil || ex.User().Name != "alice" {
		t.Fatalf("= %v %v %+v", done, err, ex.User())
	}
	// Initial response: the user name.
	ex, _ = a.Start("LOGIN", ci)
	if ch, _, err := step(ex, []byte("alice")); ch != "Password:" || err != nil {
		t.Fatalf("= %q %v", ch, err)
	}
	if _, _, err := step(ex, []byte("nope")); !errors.Is(err, ErrFailed) {
		t.Fatalf("wrong password: %v", err)
	}
}
