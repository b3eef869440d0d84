package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/casier/casier/internal/store"
)

// TokenVerifier checks an OAuth 2.0 bearer token (RFC 6750) and returns
// the user name it grants access to (not yet normalised).
// A token that is invalid, expired or not for this server is
// ErrTokenInvalid (wrapped with the reason); ErrTokenUnavailable means the
// check itself could not run (introspection endpoint down).
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (user string, err error)
}

var (
	ErrTokenInvalid     = errors.New("auth: invalid token")
	ErrTokenUnavailable = errors.New("auth: token verification unavailable")
)

// maxTokenLen bounds the token looked at; JWTs of real providers stay
// well under it.
const maxTokenLen = 16 * 1024

// oauthExchange is the server side of OAUTHBEARER (RFC 7628 3) and of
// XOAUTH2, which carries the same bearer token in an older framing.
type oauthExchange struct {
	a       *Authenticator
	ci      ConnInfo
	xoauth2 bool

	step    int
	pending error // failure to report once the client acknowledges the error challenge
	user    store.User
}

func (e *oauthExchange) User() store.User { return e.user }

func (e *oauthExchange) mech() string {
	if e.xoauth2 {
		return MechXOAuth2
	}
	return MechOAuthBearer
}

func (e *oauthExchange) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch e.step {
	case 0:
		if resp == nil {
			return []byte{}, false, nil
		}
		e.step = 1
		return e.check(ctx, resp)
	case 1:
		// RFC 7628 3.2.3: after an error challenge the client sends a
		// single kvsep (%x01); the server then fails the exchange.
		// XOAUTH2 clients send an empty response instead.
		e.step = 2
		return nil, false, e.pending
	}
	return nil, false, ErrFailed
}

// check parses the client response, verifies the token and either ends
// the exchange or sends the error challenge.
func (e *oauthExchange) check(ctx context.Context, resp []byte) ([]byte, bool, error) {
	var claimed, token string
	var err error
	if e.xoauth2 {
		claimed, token, err = parseXOAuth2(resp)
	} else {
		claimed, token, err = parseOAuthBearer(resp)
	}
	if err != nil {
		e.a.failed(e.ci.Remote, "", e.mech(), err.Error())
		return nil, false, ErrFailed
	}
	account := ""
	if claimed != "" {
		account = NormalizeUsername(claimed)
	}
	if err := e.a.gate(ctx, e.ci.Remote, account); err != nil {
		return nil, false, err
	}
	user, verr := e.a.tokenVerifier().Verify(ctx, token)
	if errors.Is(verr, ErrTokenUnavailable) {
		e.a.log.Error("token verification unavailable", "remote", e.ci.Remote.String(), "mech", e.mech(), "err", verr)
		return nil, false, verr
	}
	name := NormalizeUsername(user)
	switch {
	case verr != nil:
		return e.reject(account, verr.Error(), ErrFailed)
	case account != "" && account != name:
		// The token is for another user than the one named.
		e.a.failed(e.ci.Remote, account, e.mech(), "token is for user "+name)
		return e.errorChallenge(ErrAuthzFailed)
	}
	if ValidateUsername(name) != nil {
		return e.reject(name, "token names an invalid user", ErrFailed)
	}
	u, err := e.a.st.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return e.reject(name, "token names no existing user", ErrFailed)
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: looking up user %q: %w", name, err)
	}
	e.a.succeeded(e.ci.Remote, name, e.mech())
	e.user = u
	return nil, true, nil
}

func (e *oauthExchange) reject(account, reason string, err error) ([]byte, bool, error) {
	e.a.failed(e.ci.Remote, account, e.mech(), reason)
	return e.errorChallenge(err)
}

// errorChallenge sends the error as a JSON challenge: RFC 7628 3.2.2
// (status from the RFC 6750 registry) or Google's XOAUTH2 equivalent; the
// failure itself follows the client's acknowledgment.
func (e *oauthExchange) errorChallenge(err error) ([]byte, bool, error) {
	e.pending = err
	if e.xoauth2 {
		return []byte(`{"status":"401","schemes":"bearer"}`), false, nil
	}
	return []byte(`{"status":"invalid_token","schemes":"bearer"}`), false, nil
}

// parseOAuthBearer parses an RFC 7628 3.1 client response:
//
//	gs2-header kvsep *kvpair kvsep, kvpair = key "=" value kvsep
//
// It returns the authzid (may be empty) and the bearer token.
func parseOAuthBearer(b []byte) (authzid, token string, err error) {
	s := string(b)
	// gs2-header = gs2-cbind-flag "," [authzid] ","; OAUTHBEARER has no
	// channel binding, so "p=" is refused.
	flag, rest, ok1 := strings.Cut(s, ",")
	authz, rest, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 || (flag != "n" && flag != "y") {
		return "", "", errors.New("malformed gs2 header")
	}
	if authz != "" {
		v, ok := strings.CutPrefix(authz, "a=")
		if !ok {
			return "", "", errors.New("malformed authzid")
		}
		if authzid, err = decodeSASLName(v); err != nil {
			return "", "", errors.New("malformed authzid")
		}
	}
	kv, ok := strings.CutPrefix(rest, "\x01")
	if !ok || !strings.HasSuffix(kv, "\x01\x01") && kv != "\x01" {
		return "", "", errors.New("malformed key-value list")
	}
	kv = strings.TrimSuffix(kv, "\x01")
	for pair := range strings.SplitSeq(strings.TrimSuffix(kv, "\x01"), "\x01") {
		if pair == "" {
			return "", "", errors.New("malformed key-value list")
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || !alpha(k) {
			return "", "", errors.New("malformed key-value pair")
		}
		if k == "auth" {
			if token != "" {
				return "", "", errors.New("repeated auth")
			}
			if token, err = bearer(v); err != nil {
				return "", "", err
			}
		}
		// host, port and unknown keys (RFC 7628 3.1) are ignored.
	}
	if token == "" {
		return "", "", errors.New("no auth value")
	}
	return authzid, token, nil
}

// parseXOAuth2 parses "user=" user %x01 "auth=Bearer " token %x01 %x01.
func parseXOAuth2(b []byte) (user, token string, err error) {
	s, ok := strings.CutSuffix(string(b), "\x01\x01")
	if !ok {
		return "", "", errors.New("malformed XOAUTH2 response")
	}
	u, a, ok := strings.Cut(s, "\x01")
	if !ok {
		return "", "", errors.New("malformed XOAUTH2 response")
	}
	user, ok1 := strings.CutPrefix(u, "user=")
	a, ok2 := strings.CutPrefix(a, "auth=")
	if !ok1 || !ok2 || user == "" {
		return "", "", errors.New("malformed XOAUTH2 response")
	}
	if token, err = bearer(a); err != nil {
		return "", "", err
	}
	return user, token, nil
}

// bearer extracts the token of "Bearer <b64token>" (RFC 6750 2.1; the
// scheme is case-insensitive).
func bearer(v string) (string, error) {
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", errors.New("not a bearer token")
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || len(tok) > maxTokenLen || !b64token(tok) {
		return "", errors.New("malformed bearer token")
	}
	return tok, nil
}

// b64token: RFC 6750 2.1, 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
func b64token(s string) bool {
	t := strings.TrimRight(s, "=")
	if t == "" {
		return false
	}
	return !bytes.ContainsFunc([]byte(t), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/", r))
	})
}

func alpha(s string) bool {
	return s != "" && !bytes.ContainsFunc([]byte(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
}
