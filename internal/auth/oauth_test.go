package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

var testJWTKey = []byte("0123456789abcdef0123456789abcdef")

var jwtNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// makeJWT signs claims with HS256 (or the given alg in the header).
func makeJWT(key []byte, alg string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	c, _ := json.Marshal(claims)
	in := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

// makeJWTRaw signs a raw payload with HS256.
func makeJWTRaw(key []byte, payload string) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

func TestJWTVerifier(t *testing.T) {
	v := &JWTVerifier{Key: testJWTKey, Now: func() time.Time { return jwtNow }}
	exp := jwtNow.Add(time.Hour).Unix()
	ok := makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice", "exp": exp, "email": "a@example.org"})
	if u, err := v.Verify(context.Background(), ok); err != nil || u != "alice" {
		t.Fatalf("Verify = %q, %v", u, err)
	}
	ve := &JWTVerifier{Key: testJWTKey, UserClaim: "email", Audience: "imap", Now: v.Now}
	withAud := makeJWT(testJWTKey, "HS256", map[string]any{"sub": "x", "email": "a@example.org", "exp": exp, "aud": []string{"web", "imap"}})
	if u, err := ve.Verify(context.Background(), withAud); err != nil || u != "a@example.org" {
		t.Fatalf("Verify(email, aud) = %q, %v", u, err)
	}
	parts := strings.Split(ok, ".")
	for name, tok := range map[string]string{
		"expired":      makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice", "exp": jwtNow.Add(-time.Second).Unix()}),
		"no exp":       makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice"}),
		"not yet":      makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice", "exp": exp, "nbf": exp - 60}),
		"wrong key":    makeJWT([]byte("other key"), "HS256", map[string]any{"sub": "alice", "exp": exp}),
		"alg none":     parts[0][:0] + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"alg HS512":    makeJWT(testJWTKey, "HS512", map[string]any{"sub": "alice", "exp": exp}),
		"tampered":     parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"bob","exp":9999999999}`)) + "." + parts[2],
		"two parts":    parts[0] + "." + parts[1],
		"no sub":       makeJWT(testJWTKey, "HS256", map[string]any{"exp": exp}),
		"exp string":   makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice", "exp": "soon"}),
		"garbage":      "a.b.c",
		"claims array": makeJWTRaw(testJWTKey, `[1,2]`),
		"exp huge":     makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice", "exp": 1e300}),
	} {
		if u, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: Verify = %q, %v; want ErrTokenInvalid", name, u, err)
		}
	}
	if _, err := ve.Verify(context.Background(), ok); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("missing aud: %v", err)
	}
}

// introspection serves RFC 7662 answers from a table of tokens.
func introspection(t *testing.T, answers map[string]string) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if id, secret, ok := r.BasicAuth(); !ok || id != "casier" || secret != "s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		a, ok := answers[r.PostFormValue("token")]
		if !ok {
			a = `{"active":false}`
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, a)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestIntrospectionVerifier(t *testing.T) {
	exp := jwtNow.Add(time.Hour).Unix()
	ts := introspection(t, map[string]string{
		"good":    fmt.Sprintf(`{"active":true,"username":"alice","sub":"u1","exp":%d}`, exp),
		"subonly": `{"active":true,"sub":"bob"}`,
		"expired": fmt.Sprintf(`{"active":true,"username":"alice","exp":%d}`, jwtNow.Add(-time.Minute).Unix()),
		"nouser":  `{"active":true}`,
		"broken":  `{"active":`,
	})
	v := &IntrospectionVerifier{URL: ts.URL, ClientID: "casier", ClientSecret: "s3cret", Now: func() time.Time { return jwtNow }}
	ctx := context.Background()
	for tok, want := range map[string]string{"good": "alice", "subonly": "bob"} {
		if u, err := v.Verify(ctx, tok); err != nil || u != want {
			t.Errorf("Verify(%s) = %q, %v; want %q", tok, u, err, want)
		}
	}
	for _, tok := range []string{"unknown", "expired", "nouser"} {
		if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("Verify(%s) = %v, want ErrTokenInvalid", tok, err)
		}
	}
	if _, err := v.Verify(ctx, "broken"); !errors.Is(err, ErrTokenUnavailable) {
		t.Errorf("broken JSON: %v", err)
	}
	bad := *v
	bad.ClientSecret = "wrong"
	if _, err := bad.Verify(ctx, "good"); !errors.Is(err, ErrTokenUnavailable) {
		t.Errorf("endpoint refusing us: %v", err)
	}
	ts.Close()
	if _, err := v.Verify(ctx, "good"); !errors.Is(err, ErrTokenUnavailable) {
		t.Errorf("endpoint down: %v", err)
	}
}

func oauthAuth(t *testing.T) (*Authenticator, *recorder, fmt.Stringer) {
	a, rec, logs := newTestAuth(t, newFakeStore(t, "alice", "pw", "bob", "pw"), ThrottleConfig{FreeFailures: 2, BaseDelay: time.Second, MaxDelay: time.Minute, Window: time.Hour})
	a.SetTokenVerifier(&JWTVerifier{Key: testJWTKey, Now: func() time.Time { return jwtNow }})
	return a, rec, logs
}

func TestOAuthBearer(t *testing.T) {
	a, rec, logs := oauthAuth(t)
	exp := jwtNow.Add(time.Hour).Unix()
	alice := makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice", "exp": exp})
	expired := makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice", "exp": jwtNow.Add(-time.Hour).Unix()})
	carol := makeJWT(testJWTKey, "HS256", map[string]any{"sub": "carol", "exp": exp})
	ci := ConnInfo{Remote: ipA, PlaintextOK: true}
	const errJSON = `{"status":"invalid_token","schemes":"bearer"}`

	for _, tc := range []struct {
		name string
		msg  string
		want error // nil: success in one step
	}{
		{"valid with authzid", "n,a=alice,\x01host=mail.example.org\x01port=143\x01auth=Bearer " + alice + "\x01\x01", nil},
		{"valid without authzid", "n,,\x01auth=bearer " + alice + "\x01\x01", nil},
		{"expired", "n,a=alice,\x01auth=Bearer " + expired + "\x01\x01", ErrFailed},
		{"other user", "n,a=bob,\x01auth=Bearer " + alice + "\x01\x01", ErrAuthzFailed},
		{"no such user", "n,,\x01auth=Bearer " + carol + "\x01\x01", ErrFailed},
	} {
		ex, err := a.Start("OAUTHBEARER", ci)
		if err != nil {
			t.Fatal(err)
		}
		ch, done, err := step(ex, []byte(tc.msg))
		if tc.want == nil {
			if !done || err != nil || ex.User().Name != "alice" {
				t.Errorf("%s: done=%v err=%v user=%+v", tc.name, done, err, ex.User())
			}
			continue
		}
		// RFC 7628 3.2.2: the error is a JSON challenge; the client's
		// %x01 acknowledgment then ends the exchange in failure.
		if ch != errJSON || done || err != nil {
			t.Errorf("%s: challenge %q done=%v err=%v; want %s", tc.name, ch, done, err, errJSON)
			continue
		}
		if _, done, err := step(ex, []byte{1}); done || !errors.Is(err, tc.want) {
			t.Errorf("%s: after ack done=%v err=%v, want %v", tc.name, done, err, tc.want)
		}
	}
	rec.take()
	// Malformed responses fail at once, without a JSON challenge.
	for _, msg := range []string{
		"\x01", "n,,", "p=tls-exporter,,\x01auth=Bearer x\x01\x01", "n,,\x01auth=Bearer x\x01",
		"n,,\x01host=h\x01\x01", "n,,\x01auth=Basic eA==\x01\x01", "n,,\x01auth=Bearer a b\x01\x01",
		"n,,\x01=x\x01auth=Bearer x\x01\x01", "n,b=x,\x01auth=Bearer x\x01\x01",
	} {
		ex, _ := a.Start("OAUTHBEARER", ci)
		if _, _, err := step(ex, []byte(msg)); !errors.Is(err, ErrFailed) {
			t.Errorf("malformed %q: %v", msg, err)
		}
	}
	out := logs.String()
	for _, want := range []string{
		`level=INFO msg=login remote=192.0.2.1 user=alice mech=OAUTHBEARER`,
		`user=alice mech=OAUTHBEARER reason="auth: invalid token: expired at 2026-01-01T11:00:00Z"`,
		`user=bob mech=OAUTHBEARER reason="token is for user alice"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestXOAuth2(t *testing.T) {
	a, _, _ := oauthAuth(t)
	alice := makeJWT(testJWTKey, "HS256", map[string]any{"sub": "alice", "exp": jwtNow.Add(time.Hour).Unix()})
	ci := ConnInfo{Remote: ipA, PlaintextOK: true}
	ex, _ := a.Start("XOAUTH2", ci)
	if _, done, err := step(ex, []byte("user=alice\x01auth=Bearer "+alice+"\x01\x01")); !done || err != nil || ex.User().Name != "alice" {
		t.Fatalf("valid: done=%v err=%v", done, err)
	}
	ex, _ = a.Start("XOAUTH2", ci)
	ch, done, err := step(ex, []byte("user=bob\x01auth=Bearer "+alice+"\x01\x01"))
	if ch != `{"status":"401","schemes":"bearer"}` || done || err != nil {
		t.Fatalf("wrong user: %q %v %v", ch, done, err)
	}
	// XOAUTH2 clients acknowledge with an empty response.
	if _, _, err := step(ex, []byte{}); !errors.Is(err, ErrAuthzFailed) {
		t.Fatalf("after ack: %v", err)
	}
	for _, msg := range []string{"user=alice\x01auth=Bearer x", "auth=Bearer x\x01\x01", "user=\x01auth=Bearer x\x01\x01"} {
		ex, _ := a.Start("XOAUTH2", ci)
		if _, _, err := step(ex, []byte(msg)); !errors.Is(err, ErrFailed) {
			t.Errorf("malformed %q: %v", msg, err)
		}
	}
}

// Bad tokens are throttled per address, and per account when one is named.
func TestOAuthThrottled(t *testing.T) {
	a, rec, _ := oauthAuth(t)
	ci := ConnInfo{Remote: ipA, PlaintextOK: true}
	for range 3 {
		ex, _ := a.Start("OAUTHBEARER", ci)
		step(ex, []byte("n,,\x01auth=Bearer bad.token.x\x01\x01"))
	}
	if w := rec.take(); len(w) != 1 || w[0] != time.Second {
		t.Fatalf("waits %v, want [1s]", w)
	}
	// Another address naming no account is not slowed.
	ex, _ := a.Start("OAUTHBEARER", ConnInfo{Remote: ipB, PlaintextOK: true})
	step(ex, []byte("n,,\x01auth=Bearer bad.token.x\x01\x01"))
	if w := rec.take(); len(w) != 0 {
		t.Fatalf("B waited %v", w)
	}
}

func FuzzOAuthBearer(f *testing.F) {
	f.Add([]byte("n,a=alice,\x01auth=Bearer abc\x01\x01"))
	f.Add([]byte("user=alice\x01auth=Bearer abc\x01\x01"))
	f.Add([]byte("\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseOAuthBearer(b)
		parseXOAuth2(b)
	})
}

func FuzzSCRAMFirst(f *testing.F) {
	f.Add("n,,n=alice,r=abc", "c=biws,r=abc,p=AAAA")
	f.Add("p=tls-exporter,a=x,n=a=2C,r=x,ext", "")
	st := &scramFake{fakeStore: &fakeStore{users: nil}, keys: nil}
	// No delays: failures pile up and real sleeps would stall the fuzzer.
	a := New(st, ThrottleConfig{}, nil)
	f.Fuzz(func(t *testing.T, first, final string) {
		ex, _ := a.Start(MechSCRAM, ConnInfo{})
		if _, _, err := ex.Next(context.Background(), []byte(first)); err == nil {
			ex.Next(context.Background(), []byte(final))
		}
	})
}

func TestNewTokenVerifier(t *testing.T) {
	dir := t.TempDir()
	keyFile := dir + "/jwt.key"
	os.WriteFile(keyFile, append(testJWTKey, '\n'), 0o600)
	short := dir + "/short.key"
	os.WriteFile(short, []byte("too short\n"), 0o600)
	secret := dir + "/secret"
	os.WriteFile(secret, []byte("s3cret\r\n"), 0o600)

	if v, err := NewTokenVerifier(OAuthSettings{}); v != nil || err != nil {
		t.Fatalf("none = %v, %v", v, err)
	}
	v, err := NewTokenVerifier(OAuthSettings{JWTKeyFile: keyFile, UserClaim: "email"})
	if j, ok := v.(*JWTVerifier); err != nil || !ok || string(j.Key) != string(testJWTKey) || j.UserClaim != "email" {
		t.Fatalf("jwt = %#v, %v", v, err)
	}
	if _, err := NewTokenVerifier(OAuthSettings{JWTKeyFile: short}); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("short key: %v", err)
	}
	v, err = NewTokenVerifier(OAuthSettings{IntrospectionURL: "http://127.0.0.1:1/x", ClientID: "casier", ClientSecretFile: secret})
	if iv, ok := v.(*IntrospectionVerifier); err != nil || !ok || iv.ClientSecret != "s3cret" || iv.ClientID != "casier" {
		t.Fatalf("introspection = %#v, %v", v, err)
	}
	if _, err := NewTokenVerifier(OAuthSettings{IntrospectionURL: "http://127.0.0.1:1/x", JWTKeyFile: keyFile}); err == nil {
		t.Fatal("both accepted")
	}
}
