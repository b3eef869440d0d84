package auth

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// scramFake adds SCRAM keys to fakeStore.
type scramFake struct {
	*fakeStore
	keys map[string]store.SCRAMKeys
}

func (f *scramFake) UserSCRAM(ctx context.Context, name string) (store.User, store.SCRAMKeys, error) {
	u, err := f.User(ctx, name)
	if err != nil {
		return u, store.SCRAMKeys{}, err
	}
	return u, f.keys[name], nil
}

func (f *scramFake) SetSCRAMKeys(_ context.Context, name string, k store.SCRAMKeys) error {
	f.keys[name] = k
	return nil
}

func newSCRAMFake(t *testing.T, namePass ...string) *scramFake {
	f := &scramFake{fakeStore: newFakeStore(t, namePass...), keys: map[string]store.SCRAMKeys{}}
	for i := 0; i < len(namePass); i += 2 {
		k, err := SCRAMKeysFor(namePass[i+1])
		if err != nil {
			t.Fatal(err)
		}
		f.keys[namePass[i]] = k
	}
	return f
}

// scramClient is a client side of SCRAM-SHA-256 written from RFC 5802 for
// the tests.
type scramClient struct {
	user, pass string
	gs2        string // gs2-header
	cbData     []byte
	cnonce     string
	firstBare  string
	serverSig  []byte
}

func (c *scramClient) first() string {
	if c.gs2 == "" {
		c.gs2 = "n,,"
	}
	if c.cnonce == "" {
		c.cnonce = "fyko+d2lbbFgONRv9qkxdawL"
	}
	name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(c.user)
	c.firstBare = "n=" + name + ",r=" + c.cnonce
	return c.gs2 + c.firstBare
}

// final answers server-first; mutate may change the message without proof.
func (c *scramClient) final(t *testing.T, serverFirst string, mutate func(string) string) string {
	t.Helper()
	var nonce, salt string
	var iter int
	for _, a := range strings.Split(serverFirst, ",") {
		switch {
		case strings.HasPrefix(a, "r="):
			nonce = a[2:]
		case strings.HasPrefix(a, "s="):
			salt = a[2:]
		case strings.HasPrefix(a, "i="):
			for _, d := range a[2:] {
				iter = iter*10 + int(d-'0')
			}
		}
	}
	if !strings.HasPrefix(nonce, c.cnonce) || len(nonce) == len(c.cnonce) {
		t.Fatalf("server nonce %q does not extend %q", nonce, c.cnonce)
	}
	s, err := base64.StdEncoding.DecodeString(salt)
	if err != nil {
		t.Fatal(err)
	}
	salted, err := pbkdf2.Key(sha256.New, c.pass, s, iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	withoutProof := "c=" + base64.StdEncoding.EncodeToString(append([]byte(c.gs2), c.cbData...)) + ",r=" + nonce
	if mutate != nil {
		withoutProof = mutate(withoutProof)
	}
	authMsg := c.firstBare + "," + serverFirst + "," + withoutProof
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	storedKey := sha256.Sum256(clientKey)
	sig := hmacSHA256(storedKey[:], []byte(authMsg))
	proof := make([]byte, 32)
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	c.serverSig = hmacSHA256(hmacSHA256(salted, []byte("Server Key")), []byte(authMsg))
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
}

// runSCRAM runs an exchange to the end and returns the error of the step
// that failed (nil on success).
func runSCRAM(t *testing.T, a *Authenticator, mech string, ci ConnInfo, c *scramClient, mutate func(string) string) (store.User, error) {
	t.Helper()
	ctx := context.Background()
	ex, err := a.Start(mech, ci)
	if err != nil {
		return store.User{}, err
	}
	sf, done, err := ex.Next(ctx, []byte(c.first()))
	if err != nil || done {
		return store.User{}, err
	}
	sfin, done, err := ex.Next(ctx, []byte(c.final(t, string(sf), mutate)))
	if err != nil || done {
		return store.User{}, err
	}
	if want := "v=" + base64.StdEncoding.EncodeToString(c.serverSig); string(sfin) != want {
		t.Fatalf("server-final = %q, want %q", sfin, want)
	}
	_, done, err = ex.Next(ctx, []byte{})
	if err != nil || !done {
		t.Fatalf("after server-final: done=%v err=%v", done, err)
	}
	return ex.User(), nil
}

// The exchange of RFC 7677 3, byte for byte.
func TestSCRAMRFC7677Vector(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	stored, server, err := scramDerive("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	st := newSCRAMFake(t, "user", "pencil")
	st.keys["user"] = store.SCRAMKeys{Salt: salt, Iterations: 4096, StoredKey: stored, ServerKey: server}
	old := scramServerNonce
	scramServerNonce = func() string { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" }
	defer func() { scramServerNonce = old }()

	a, _, _ := newTestAuth(t, st, DefaultThrottleConfig())
	ex, err := a.Start("scram-sha-256", ConnInfo{Remote: ipA})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sf, _, err := ex.Next(ctx, []byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
	if want := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"; err != nil || string(sf) != want {
		t.Fatalf("server-first = %q, %v; want %q", sf, err, want)
	}
	fin, _, err := ex.Next(ctx, []byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	if want := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; err != nil || string(fin) != want {
		t.Fatalf("server-final = %q, %v; want %q", fin, err, want)
	}
	if _, done, err := ex.Next(ctx, []byte{}); !done || err != nil {
		t.Fatalf("ack: done=%v err=%v", done, err)
	}
	if ex.User().Name != "user" {
		t.Fatalf("user = %+v", ex.User())
	}
}

func TestSCRAM(t *testing.T) {
	st := newSCRAMFake(t, "alice", "secret", "bob", "other")
	st.users["old"] = store.User{ID: 9, Name: "old", PassHash: st.users["alice"].PassHash} // no SCRAM keys
	a, _, logs := newTestAuth(t, st, DefaultThrottleConfig())
	ci := ConnInfo{Remote: ipA}

	u, err := runSCRAM(t, a, MechSCRAM, ci, &scramClient{user: "Alice", pass: "secret"}, nil)
	if err != nil || u.Name != "alice" {
		t.Fatalf("right password: %+v, %v", u, err)
	}
	for _, tc := range []struct {
		name   string
		c      *scramClient
		mutate func(string) string
		want   error
	}{
		{"wrong password", &scramClient{user: "alice", pass: "Secret"}, nil, ErrFailed},
		{"unknown user", &scramClient{user: "nobody", pass: "secret"}, nil, ErrFailed},
		{"no keys", &scramClient{user: "old", pass: "secret"}, nil, ErrFailed},
		{"bad nonce", &scramClient{user: "alice", pass: "secret"}, func(s string) string { return s + "x" }, ErrFailed},
		{"cb mismatch", &scramClient{user: "alice", pass: "secret"}, func(s string) string {
			return strings.Replace(s, "c=biws", "c="+base64.StdEncoding.EncodeToString([]byte("y,,")), 1)
		}, ErrChannelBinding},
		{"authzid other user", &scramClient{user: "alice", pass: "secret", gs2: "n,a=bob,"}, nil, ErrAuthzFailed},
		{"p= with non-PLUS", &scramClient{user: "alice", pass: "secret", gs2: "p=tls-exporter,,"}, nil, ErrChannelBinding},
	} {
		if _, err := runSCRAM(t, a, MechSCRAM, ci, tc.c, tc.mutate); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	out := logs.String()
	for _, want := range []string{
		`level=INFO msg=login remote=192.0.2.1 user=alice mech=SCRAM-SHA-256`,
		`user=alice mech=SCRAM-SHA-256 reason="wrong password"`,
		`user=alice mech=SCRAM-SHA-256 reason="nonce mismatch"`,
		`user=alice mech=SCRAM-SHA-256 reason="channel binding mismatch"`,
		`msg="SCRAM login impossible" user=old reason="no SCRAM keys stored (user created before SCRAM support): set the password again with 'casier user passwd'"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// An authzid naming the user itself is fine; so is an escaped name.
	if _, err := runSCRAM(t, a, MechSCRAM, ci, &scramClient{user: "alice", pass: "secret", gs2: "n,a=alice,"}, nil); err != nil {
		t.Errorf("authzid=self: %v", err)
	}
	if got, err := decodeSASLName("a=2Cb=3Dc"); err != nil || got != "a,b=c" {
		t.Errorf("decodeSASLName = %q, %v", got, err)
	}
	if _, err := decodeSASLName("a=2"); err == nil {
		t.Error("decodeSASLName accepted a bad escape")
	}
}

// An unknown user gets a salt that looks real and stays the same, so the
// answer does not tell which names exist.
func TestSCRAMUnknownUserSalt(t *testing.T) {
	a, _, _ := newTestAuth(t, newSCRAMFake(t, "alice", "secret"), DefaultThrottleConfig())
	salt := func() string {
		ex, _ := a.Start(MechSCRAM, ConnInfo{Remote: ipA})
		sf, _, err := ex.Next(context.Background(), []byte("n,,n=ghost,r=abc"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(sf), ",")[1]
	}
	s1, s2 := salt(), salt()
	if s1 != s2 || len(s1) != len("s=")+24 {
		t.Fatalf("fake salts %q, %q", s1, s2)
	}
}

func TestSCRAMMalformed(t *testing.T) {
	a, _, _ := newTestAuth(t, newSCRAMFake(t, "alice", "secret"), DefaultThrottleConfig())
	ctx := context.Background()
	for _, first := range []string{
		"", "n", "n,", "x,,n=alice,r=abc", "n,,r=abc,n=alice", "n,,m=ext,n=alice,r=abc",
		"n,,n=alice", "n,,n=,r=abc", "n,,n=al=ice,r=abc", "n,,n=alice,r=", "n,,n=alice,r=a b",
		"n,b=x,n=alice,r=abc",
	} {
		ex, _ := a.Start(MechSCRAM, ConnInfo{Remote: ipA})
		if _, _, err := ex.Next(ctx, []byte(first)); !errors.Is(err, ErrFailed) {
			t.Errorf("client-first %q: err = %v, want ErrFailed", first, err)
		}
	}
	for _, final := range []string{"", "c=biws", "c=biws,r=x,p=!!", "p=AAAA", "c=biws,p=" + base64.StdEncoding.EncodeToString(make([]byte, 32))} {
		ex, _ := a.Start(MechSCRAM, ConnInfo{Remote: ipA})
		if _, _, err := ex.Next(ctx, []byte("n,,n=alice,r=abc")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ex.Next(ctx, []byte(final)); !errors.Is(err, ErrFailed) {
			t.Errorf("client-final %q: err = %v, want ErrFailed", final, err)
		}
	}
}

// Channel binding checks of SCRAM-SHA-256-PLUS (RFC 5802 6) over a real
// TLS 1.3 connection pair.
func TestSCRAMPlus(t *testing.T) {
	st := newSCRAMFake(t, "alice", "secret")
	a, _, _ := newTestAuth(t, st, DefaultThrottleConfig())
	srvState, cliState, certDER := tlsPair(t)

	ciTLS := ConnInfo{Remote: ipA, TLS: srvState, ServerCert: certDER}
	if got := strings.Join(a.Mechanisms(ciTLS), " "); got != "SCRAM-SHA-256 SCRAM-SHA-256-PLUS" {
		t.Fatalf("mechanisms over TLS = %q", got)
	}
	if got := strings.Join(a.Mechanisms(ConnInfo{Remote: ipA}), " "); got != "SCRAM-SHA-256" {
		t.Fatalf("mechanisms without TLS = %q", got)
	}
	// Without TLS, -PLUS is not available at all.
	if _, err := a.Start(MechSCRAMPlus, ConnInfo{Remote: ipA}); !errors.Is(err, ErrMechanism) {
		t.Fatalf("-PLUS without TLS: %v", err)
	}

	exp, err := cliState.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(certDER) // ECDSA-SHA256 certificate: SHA-256
	for _, tc := range []struct {
		name string
		mech string
		c    *scramClient
		want error
	}{
		{"tls-exporter", MechSCRAMPlus, &scramClient{user: "alice", pass: "secret", gs2: "p=tls-exporter,,", cbData: exp}, nil},
		{"tls-server-end-point", MechSCRAMPlus, &scramClient{user: "alice", pass: "secret", gs2: "p=tls-server-end-point,,", cbData: h[:]}, nil},
		{"exporter mismatch", MechSCRAMPlus, &scramClient{user: "alice", pass: "secret", gs2: "p=tls-exporter,,", cbData: h[:]}, ErrChannelBinding},
		{"tls-unique unsupported", MechSCRAMPlus, &scramClient{user: "alice", pass: "secret", gs2: "p=tls-unique,,"}, ErrChannelBinding},
		{"PLUS without binding", MechSCRAMPlus, &scramClient{user: "alice", pass: "secret"}, ErrChannelBinding},
		{"downgrade y flag", MechSCRAM, &scramClient{user: "alice", pass: "secret", gs2: "y,,"}, ErrChannelBinding},
		{"plain SCRAM over TLS", MechSCRAM, &scramClient{user: "alice", pass: "secret"}, nil},
	} {
		_, err := runSCRAM(t, a, tc.mech, ciTLS, tc.c, nil)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// "y" is fine where the server offers no -PLUS.
	if _, err := runSCRAM(t, a, MechSCRAM, ConnInfo{Remote: ipA}, &scramClient{user: "alice", pass: "secret", gs2: "y,,"}, nil); err != nil {
		t.Errorf("y without TLS: %v", err)
	}
}

// Failed SCRAM logins feed the same throttle as LOGIN.
func TestSCRAMThrottled(t *testing.T) {
	st := newSCRAMFake(t, "alice", "secret")
	a, rec, _ := newTestAuth(t, st, ThrottleConfig{FreeFailures: 1, BaseDelay: time.Second, MaxDelay: time.Minute, Window: time.Hour})
	runSCRAM(t, a, MechSCRAM, ConnInfo{Remote: ipA}, &scramClient{user: "alice", pass: "bad"}, nil)
	runSCRAM(t, a, MechSCRAM, ConnInfo{Remote: ipA}, &scramClient{user: "alice", pass: "bad"}, nil)
	if w := rec.take(); len(w) != 1 || w[0] != time.Second {
		t.Fatalf("waits %v, want [1s]", w)
	}
	// LOGIN for the same account now waits too.
	a.Login(context.Background(), ipB, "alice", "secret")
	if w := rec.take(); len(w) != 1 || w[0] != 2*time.Second {
		t.Fatalf("LOGIN waits %v, want [2s]", w)
	}
}

func TestCertHash(t *testing.T) {
	_, _, der := tlsPair(t)
	cert, _ := x509.ParseCertificate(der)
	want := sha256.Sum256(der)
	if got := certHash(cert); !hmac.Equal(got, want[:]) {
		t.Fatalf("certHash = %x, want %x", got, want)
	}
}
