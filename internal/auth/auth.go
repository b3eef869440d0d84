// Package auth checks passwords and throttles failed logins.
//
// User names are case-insensitive: NormalizeUsername maps a name to its
// canonical form (Unicode NFC, lower case), which is how names are stored
// at creation and looked up at login. Passwords are hashed with argon2id
// (RFC 9106); bcrypt hashes of imported users are accepted too.
//
// Every failed login returns ErrFailed, whether the user exists or not, and
// an unknown user costs the same hashing time as a wrong password, so
// neither the answer nor its timing tells a client which names exist.
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/casier/casier/internal/store"
)

// ErrFailed is the one error of a rejected login: unknown user, wrong
// password, unusable stored hash or invalid name alike.
var ErrFailed = errors.New("auth: authentication failed")

// MaxUsernameLen and MaxPasswordLen bound what Login looks at.
const (
	MaxUsernameLen = 255  // bytes, after normalisation
	MaxPasswordLen = 1024 // bytes; longer passwords always fail
)

// NormalizeUsername returns the canonical form of a user name: NFC, lower
// case. Callers creating users store this form; Login applies it too.
func NormalizeUsername(name string) string {
	return strings.ToLower(norm.NFC.String(name))
}

// ValidateUsername reports whether a (normalised) name is acceptable: 1 to
// MaxUsernameLen bytes of valid UTF-8, made of letters, digits and
// ". - _ @ +", starting with a letter or digit. The character set keeps
// names safe to show in logs and to quote in IMAP, and allows
// address-like names such as "alice@example.org".
func ValidateUsername(name string) error {
	if name == "" {
		return errors.New("empty user name")
	}
	if len(name) > MaxUsernameLen {
		return fmt.Errorf("user name longer than %d bytes", MaxUsernameLen)
	}
	if !utf8.ValidString(name) {
		return errors.New("user name is not valid UTF-8")
	}
	for i, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case i > 0 && strings.ContainsRune(".-_@+", r):
		default:
			return fmt.Errorf("user name %q: character %q not allowed", name, r)
		}
	}
	return nil
}

// Authenticator checks logins against a store and throttles failures.
type Authenticator struct {
	st  store.Store
	log *slog.Logger
	th  *throttle
	// wait pauses for a throttle delay; tests replace it to record delays.
	wait func(ctx context.Context, d time.Duration) error

	dummyOnce sync.Once
	dummyHash string

	// secret keys the fake SCRAM salts of unknown users.
	secret []byte
	// tokens checks OAUTHBEARER and XOAUTH2 tokens; empty: not offered.
	// Atomic because it may be set while sessions read it.
	tokens atomic.Pointer[TokenVerifier]
}

// New returns an Authenticator. Zero Window and MaxEntries in cfg take
// their defaults; a zero BaseDelay disables delays. A nil log discards.
func New(st store.Store, cfg ThrottleConfig, log *slog.Logger) *Authenticator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Authenticator{st: st, log: log, th: newThrottle(cfg), wait: sleepCtx, secret: randomBytes(32)}
}

// randomBytes returns n random bytes; crypto/rand.Read never fails
// (it crashes the program instead, Go 1.24).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// SetTokenVerifier enables OAUTHBEARER and XOAUTH2 with v (nil disables
// them). Call it before serving.
func (a *Authenticator) SetTokenVerifier(v TokenVerifier) {
	if v == nil {
		a.tokens.Store(nil)
		return
	}
	a.tokens.Store(&v)
}

// tokenVerifier returns the configured token check, or nil.
func (a *Authenticator) tokenVerifier() TokenVerifier {
	if p := a.tokens.Load(); p != nil {
		return *p
	}
	return nil
}

// gate waits out the throttle delay earlier failures from remote or for
// account owe ("" : the address only), like Login does before a check.
func (a *Authenticator) gate(ctx context.Context, remote netip.Addr, account string) error {
	if d := a.th.reserve(remote, account); d > 0 {
		return a.wait(ctx, d)
	}
	return nil
}

// failed counts and logs a failed SASL exchange.
func (a *Authenticator) failed(remote netip.Addr, account, mech, reason string) {
	ipFails, acctFails := a.th.fail(remote, account)
	a.log.Warn("login failed", "remote", remote.String(), "user", account, "mech", mech, "reason", reason,
		"addr_failures", ipFails, "user_failures", acctFails)
}

// succeeded clears the account's failures and logs the login.
func (a *Authenticator) succeeded(remote netip.Addr, account, mech string) {
	a.th.succeed(account)
	a.log.Info("login", "remote", remote.String(), "user", account, "mech", mech)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Login checks username and password for a client at remote.
//
// If earlier failures from remote's address (IPv6: its /64) or for the
// account owe a delay, Login first waits it out (returning ctx.Err() if ctx
// ends first). Then it checks the password; a failure is counted against
// both the address and the account, logged with the client address, and
// answered with ErrFailed. A success clears the account's count but not the
// address's. Other errors come from the store (e.g. it is closed).
func (a *Authenticator) Login(ctx context.Context, remote netip.Addr, username, password string) (store.User, error) {
	name := NormalizeUsername(username)
	if d := a.th.reserve(remote, name); d > 0 {
		if err := a.wait(ctx, d); err != nil {
			return store.User{}, err
		}
	}

	var (
		u      store.User
		ok     bool
		reason string
	)
	switch {
	case ValidateUsername(name) != nil:
		a.burn(password)
		reason = "invalid user name"
	case len(password) > MaxPasswordLen:
		a.burn(password[:MaxPasswordLen])
		reason = "password too long"
	default:
		var err error
		u, err = a.st.User(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a.burn(password)
			reason = "no such user"
		case err != nil:
			return store.User{}, fmt.Errorf("auth: looking up user %q: %w", name, err)
		default:
			ok, err = CheckPassword(u.PassHash, password)
			reason = "wrong password"
			if err != nil {
				a.log.Error("stored password hash unusable", "user", name, "err", err)
				reason = "unusable password hash"
			}
		}
	}

	if !ok {
		ipFails, acctFails := a.th.fail(remote, name)
		a.log.Warn("login failed", "remote", remote.String(), "user", name, "reason", reason,
			"addr_failures", ipFails, "user_failures", acctFails)
		return store.User{}, ErrFailed
	}
	a.th.succeed(name)
	a.log.Info("login", "remote", remote.String(), "user", name)
	return u, nil
}

// burn spends about the time of a real password check, so a missing user
// is not told apart from a wrong password by the response time.
func (a *Authenticator) burn(password string) {
	a.dummyOnce.Do(func() {
		h, err := HashPassword("casier dummy password")
		if err != nil {
			a.log.Error("cannot compute dummy hash", "err", err)
		}
		a.dummyHash = h
	})
	if a.dummyHash != "" {
		_, _ = CheckPassword(a.dummyHash, password)
	}
}
