package auth

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/netip"

	"github.com/casier/casier/internal/store"
)

// SASL mechanism names (RFC 4422), as listed in AUTH= capabilities.
const (
	MechPlain       = "PLAIN"              // RFC 4616
	MechLogin       = "LOGIN"              // draft-murchison-sasl-login
	MechSCRAM       = "SCRAM-SHA-256"      // RFC 7677
	MechSCRAMPlus   = "SCRAM-SHA-256-PLUS" // RFC 7677 with channel binding
	MechOAuthBearer = "OAUTHBEARER"        // RFC 7628
	MechXOAuth2     = "XOAUTH2"            // Google's pre-RFC 7628 variant
)

// More errors of an exchange; a protocol maps them to its response codes.
var (
	// ErrAuthzFailed: the credentials may be right, but the authorization
	// identity names another user (proxy login is not supported).
	ErrAuthzFailed = errors.New("auth: authorization identity not allowed")
	// ErrChannelBinding: SCRAM channel binding was refused or did not
	// match (RFC 5802 6): a possible man in the middle.
	ErrChannelBinding = errors.New("auth: channel binding failed")
	// ErrMechanism: the mechanism is unknown or not offered on this
	// connection (e.g. -PLUS without TLS, OAUTHBEARER without a verifier).
	ErrMechanism = errors.New("auth: mechanism not available")
)

// ConnInfo is what an exchange needs to know about the connection.
type ConnInfo struct {
	Remote netip.Addr
	// TLS is the state of the connection's TLS session; nil without TLS.
	TLS *tls.ConnectionState
	// ServerCert is the DER leaf certificate the server presented, for
	// tls-server-end-point channel binding (RFC 5929 4.1); nil: unknown.
	ServerCert []byte
	// PlaintextOK tells whether secrets may travel in the clear here
	// (PLAIN, LOGIN, bearer tokens): over TLS or by configuration.
	PlaintextOK bool
}

// Exchange is one server-side SASL exchange.
type Exchange interface {
	// Next takes the client's response and returns the server's next
	// challenge, or done. The first call passes the initial response, nil
	// when the client sent none (RFC 4959); later responses are never nil.
	// A non-nil error ends the exchange: ErrFailed, ErrAuthzFailed,
	// ErrChannelBinding, or another error (store, context).
	Next(ctx context.Context, response []byte) (challenge []byte, done bool, err error)
	// User is the authenticated user once Next reported done.
	User() store.User
}

// Mechanisms lists the mechanisms offered on a connection, strongest
// last-resort first: SCRAM never reveals the password, so it is offered
// even where plaintext ones are not; -PLUS needs TLS; bearer tokens are
// secrets like passwords, and need a token verifier.
func (a *Authenticator) Mechanisms(ci ConnInfo) []string {
	var m []string
	if ci.PlaintextOK {
		m = append(m, MechPlain, MechLogin)
	}
	m = append(m, MechSCRAM)
	if len(channelBindingTypes(ci)) > 0 {
		m = append(m, MechSCRAMPlus)
	}
	if ci.PlaintextOK && a.tokenVerifier() != nil {
		m = append(m, MechOAuthBearer, MechXOAuth2)
	}
	return m
}

// Start begins an exchange of mechanism mech (case-insensitive, RFC 4422
// 3.1) on a connection; ErrMechanism if it is not offered there.
func (a *Authenticator) Start(mech string, ci ConnInfo) (Exchange, error) {
	var found string
	for _, m := range a.Mechanisms(ci) {
		if equalFoldASCII(m, mech) {
			found = m
		}
	}
	switch found {
	case MechPlain:
		return &plainExchange{a: a, ci: ci}, nil
	case MechLogin:
		return &loginExchange{a: a, ci: ci}, nil
	case MechSCRAM, MechSCRAMPlus:
		return &scramExchange{a: a, ci: ci, plus: found == MechSCRAMPlus}, nil
	case MechOAuthBearer, MechXOAuth2:
		return &oauthExchange{a: a, ci: ci, xoauth2: found == MechXOAuth2}, nil
	}
	return nil, ErrMechanism
}

func equalFoldASCII(a, b string) bool {
	return len(a) == len(b) && bytes.EqualFold([]byte(a), []byte(b))
}

// checkAuthz enforces that an authorization identity, when given, names
// the authenticated user itself.
func checkAuthz(authzid, user string) error {
	if authzid != "" && NormalizeUsername(authzid) != NormalizeUsername(user) {
		return ErrAuthzFailed
	}
	return nil
}

// plainExchange: RFC 4616. message = [authzid] NUL authcid NUL passwd.
type plainExchange struct {
	a    *Authenticator
	ci   ConnInfo
	user store.User
}

func (e *plainExchange) User() store.User { return e.user }

func (e *plainExchange) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	if resp == nil {
		// RFC 4422 5: no initial response: an empty challenge asks for it.
		return []byte{}, false, nil
	}
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		e.a.log.Warn("login failed", "remote", e.ci.Remote.String(), "mech", MechPlain, "reason", "malformed message")
		return nil, false, ErrFailed
	}
	authzid, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if err := checkAuthz(authzid, user); err != nil {
		return nil, false, err
	}
	u, err := e.a.Login(ctx, e.ci.Remote, user, pass)
	if err != nil {
		return nil, false, err
	}
	e.user = u
	return nil, true, nil
}

// loginExchange: the obsolete LOGIN mechanism (draft-murchison-sasl-login),
// still used by some clients: "Username:" then "Password:" challenges; an
// initial response is the user name.
type loginExchange struct {
	a        *Authenticator
	ci       ConnInfo
	step     int
	username string
	user     store.User
}

func (e *loginExchange) User() store.User { return e.user }

func (e *loginExchange) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch e.step {
	case 0:
		e.step = 1
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		e.username = string(resp)
		e.step = 2
		return []byte("Password:"), false, nil
	case 2:
		e.step = 3
		u, err := e.a.Login(ctx, e.ci.Remote, e.username, string(resp))
		if err != nil {
			return nil, false, err
		}
		e.user = u
		return nil, true, nil
	}
	return nil, false, ErrFailed
}
