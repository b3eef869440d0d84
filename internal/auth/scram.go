package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/text/secure/precis"

	"github.com/casier/casier/internal/store"
)

// SCRAMIterations is the PBKDF2 iteration count of new SCRAM keys: RFC
// 7677 4 asks for at least 4096.
var SCRAMIterations = 4096

// scramSaltLen is the length of new SCRAM salts.
const scramSaltLen = 16

// Channel binding types (RFC 5056) SCRAM-SHA-256-PLUS accepts.
const (
	cbExporter       = "tls-exporter"         // RFC 9266, TLS 1.3 only
	cbServerEndPoint = "tls-server-end-point" // RFC 5929 4
)

// SCRAMKeysFor derives the keys the server stores for password (RFC 5802
// 3), with a fresh random salt.
func SCRAMKeysFor(password string) (store.SCRAMKeys, error) {
	salt := make([]byte, scramSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return store.SCRAMKeys{}, fmt.Errorf("auth: reading random salt: %w", err)
	}
	stored, server, err := scramDerive(password, salt, SCRAMIterations)
	if err != nil {
		return store.SCRAMKeys{}, err
	}
	return store.SCRAMKeys{Salt: salt, Iterations: SCRAMIterations, StoredKey: stored, ServerKey: server}, nil
}

// scramDerive computes StoredKey and ServerKey (RFC 5802 3):
// SaltedPassword = Hi(Normalize(password), salt, i), Hi being PBKDF2 with
// HMAC-SHA-256.
func scramDerive(password string, salt []byte, iter int) (storedKey, serverKey []byte, err error) {
	salted, err := pbkdf2.Key(sha256.New, scramNormalize(password), salt, iter, sha256.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: pbkdf2: %w", err)
	}
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	sk := sha256.Sum256(clientKey)
	return sk[:], hmacSHA256(salted, []byte("Server Key")), nil
}

// scramNormalize prepares a password. RFC 5802 2.2 asks for SASLprep (RFC
// 4013), which RFC 8265 replaced by the PRECIS OpaqueString profile: the
// same result for the passwords clients send in practice. A password the
// profile rejects is used as is, so it still matches a client that skips
// preparation.
func scramNormalize(p string) string {
	if s, err := precis.OpaqueString.String(p); err == nil {
		return s
	}
	return p
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// channelBindingTypes lists the channel bindings a connection supports.
func channelBindingTypes(ci ConnInfo) []string {
	if ci.TLS == nil {
		return nil
	}
	var t []string
	// RFC 9266 3: tls-exporter is defined for TLS 1.3 (earlier versions
	// need the extended master secret, which is not exposed).
	if ci.TLS.Version >= tls.VersionTLS13 {
		t = append(t, cbExporter)
	}
	if ci.ServerCert != nil {
		t = append(t, cbServerEndPoint)
	}
	return t
}

// channelBindingData returns the cbind-data of type typ (RFC 5802 7).
func channelBindingData(ci ConnInfo, typ string) ([]byte, error) {
	ok := false
	for _, t := range channelBindingTypes(ci) {
		ok = ok || t == typ
	}
	if !ok {
		return nil, fmt.Errorf("unsupported channel binding type %q", typ)
	}
	switch typ {
	case cbExporter:
		// RFC 9266 2: label "EXPORTER-Channel-Binding", empty context,
		// 32 bytes.
		return ci.TLS.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	default: // cbServerEndPoint
		cert, err := x509.ParseCertificate(ci.ServerCert)
		if err != nil {
			return nil, err
		}
		return certHash(cert), nil
	}
}

// certHash is the tls-server-end-point hash (RFC 5929 4.1): the hash of
// the certificate's signature algorithm, but SHA-256 for MD5 and SHA-1.
// Ed25519 names no separate hash; SHA-256 is what clients use.
func certHash(cert *x509.Certificate) []byte {
	var h hash.Hash
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = sha512.New()
	default:
		h = crypto.SHA256.New()
	}
	h.Write(cert.Raw)
	return h.Sum(nil)
}

// scramServerNonce returns the server's part of the nonce: 24 random
// bytes in base64url (printable, no comma). Tests replace it.
var scramServerNonce = func() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(24))
}

// errSCRAMMalformed is logged, never shown: the client gets ErrFailed.
var errSCRAMMalformed = errors.New("malformed SCRAM message")

// scramExchange is the server side of SCRAM-SHA-256[-PLUS] (RFC 5802 5,
// RFC 7677).
type scramExchange struct {
	a    *Authenticator
	ci   ConnInfo
	plus bool

	step       int
	name       string // normalised user name
	gs2Header  string
	cbData     []byte
	nonce      string // client nonce + server nonce
	firstBare  string
	serverMsg1 string
	keys       store.SCRAMKeys
	user       store.User
	failReason string // set when the user cannot log in whatever the proof
	serverSig  []byte
}

func (e *scramExchange) User() store.User { return e.user }

func (e *scramExchange) mech() string {
	if e.plus {
		return MechSCRAMPlus
	}
	return MechSCRAM
}

func (e *scramExchange) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch e.step {
	case 0:
		if resp == nil {
			return []byte{}, false, nil
		}
		e.step = 1
		return e.first(ctx, string(resp))
	case 1:
		e.step = 2
		return e.final(string(resp))
	case 2:
		// RFC 5802 5: the client acknowledges server-final with an empty
		// response.
		e.step = 3
		if len(resp) != 0 {
			return nil, false, ErrFailed
		}
		return nil, true, nil
	}
	return nil, false, ErrFailed
}

// fail logs a rejected exchange and counts it against the throttle when
// a user name is known.
func (e *scramExchange) fail(reason string, err error) ([]byte, bool, error) {
	e.a.failed(e.ci.Remote, e.name, e.mech(), reason)
	return nil, false, err
}

// first handles client-first-message (RFC 5802 7):
// gs2-cbind-flag "," [authzid] "," [reserved-mext ","] username "," nonce ["," extensions]
func (e *scramExchange) first(ctx context.Context, msg string) ([]byte, bool, error) {
	flag, rest, ok1 := strings.Cut(msg, ",")
	authz, bare, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return e.fail("malformed client-first-message", ErrFailed)
	}
	e.gs2Header = flag + "," + authz + ","
	e.firstBare = bare

	// RFC 5802 6: the client's channel binding flag against the
	// mechanism and what this server offers.
	switch {
	case flag == "n":
		if e.plus {
			return e.fail("SCRAM-PLUS without channel binding", ErrChannelBinding)
		}
	case flag == "y":
		// The client could bind but believes the server cannot: if this
		// server offers -PLUS here, someone stripped it (downgrade).
		if e.plus || len(channelBindingTypes(e.ci)) > 0 {
			return e.fail("channel binding downgrade (flag y)", ErrChannelBinding)
		}
	case strings.HasPrefix(flag, "p="):
		if !e.plus {
			return e.fail("channel binding requested with "+MechSCRAM, ErrChannelBinding)
		}
		data, err := channelBindingData(e.ci, flag[2:])
		if err != nil {
			return e.fail(err.Error(), ErrChannelBinding)
		}
		e.cbData = data
	default:
		return e.fail("malformed gs2-cbind-flag", ErrFailed)
	}
	var authzid string
	if authz != "" {
		v, ok := strings.CutPrefix(authz, "a=")
		if !ok {
			return e.fail("malformed authzid", ErrFailed)
		}
		var err error
		if authzid, err = decodeSASLName(v); err != nil {
			return e.fail("malformed authzid", ErrFailed)
		}
	}

	attrs := strings.Split(bare, ",")
	// RFC 5802 5.1 m: a mandatory extension this server does not know
	// MUST fail the exchange.
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return e.fail("malformed client-first-message", ErrFailed)
	}
	user, err := decodeSASLName(attrs[0][2:])
	if err != nil || user == "" {
		return e.fail("malformed user name", ErrFailed)
	}
	e.name = NormalizeUsername(user)
	cnonce := attrs[1][2:]
	if cnonce == "" || !printable(cnonce) {
		e.name = ""
		return e.fail("malformed client nonce", ErrFailed)
	}
	if err := checkAuthz(authzid, user); err != nil {
		return nil, false, err
	}

	if err := e.a.gate(ctx, e.ci.Remote, e.name); err != nil {
		return nil, false, err
	}
	if err := e.lookup(ctx); err != nil {
		return nil, false, err
	}

	e.nonce = cnonce + scramServerNonce()
	e.serverMsg1 = "r=" + e.nonce + ",s=" + base64.StdEncoding.EncodeToString(e.keys.Salt) +
		",i=" + strconv.Itoa(e.keys.Iterations)
	return []byte(e.serverMsg1), false, nil
}

// lookup loads the user's keys. A user that cannot log in with SCRAM gets
// a fake salt (stable per name) so the answer does not tell who exists;
// the exchange then fails at the proof.
func (e *scramExchange) lookup(ctx context.Context) error {
	var err error
	switch {
	case ValidateUsername(e.name) != nil:
		e.failReason = "invalid user name"
	default:
		ss, ok := e.a.st.(store.SCRAMStore)
		if !ok {
			e.failReason = "store keeps no SCRAM keys"
			break
		}
		e.user, e.keys, err = ss.UserSCRAM(ctx, e.name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			e.failReason = "no such user"
		case err != nil:
			return fmt.Errorf("auth: looking up user %q: %w", e.name, err)
		case e.keys.Iterations == 0:
			e.failReason = "no SCRAM keys stored (user created before SCRAM support): set the password again with 'casier user passwd'"
			e.a.log.Warn("SCRAM login impossible", "user", e.name, "reason", e.failReason)
		}
	}
	if e.failReason != "" {
		e.user = store.User{}
		e.keys = store.SCRAMKeys{Salt: hmacSHA256(e.a.secret, []byte("salt\x00"+e.name))[:scramSaltLen], Iterations: SCRAMIterations}
	}
	return nil
}

// final handles client-final-message (RFC 5802 7):
// channel-binding "," nonce ["," extensions] "," proof
func (e *scramExchange) final(msg string) ([]byte, bool, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return e.fail("malformed client-final-message", ErrFailed)
	}
	withoutProof := msg[:i]
	proof, err := base64.StdEncoding.DecodeString(msg[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return e.fail("malformed client proof", ErrFailed)
	}
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return e.fail("malformed client-final-message", ErrFailed)
	}
	cb, err := base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil {
		return e.fail("malformed channel binding", ErrFailed)
	}
	// RFC 5802 7: c= is the gs2-header, then the cbind-data for "p".
	want := append([]byte(e.gs2Header), e.cbData...)
	if !hmac.Equal(cb, want) {
		return e.fail("channel binding mismatch", ErrChannelBinding)
	}
	if attrs[1][2:] != e.nonce {
		return e.fail("nonce mismatch", ErrFailed)
	}

	authMsg := []byte(e.firstBare + "," + e.serverMsg1 + "," + withoutProof)
	if e.failReason != "" {
		return e.fail(e.failReason, ErrFailed)
	}
	// ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the proof
	// holds when H(ClientKey) is StoredKey.
	sig := hmacSHA256(e.keys.StoredKey, authMsg)
	clientKey := make([]byte, len(sig))
	subtle.XORBytes(clientKey, proof, sig)
	got := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(got[:], e.keys.StoredKey) != 1 {
		return e.fail("wrong password", ErrFailed)
	}
	e.a.succeeded(e.ci.Remote, e.name, e.mech())
	e.serverSig = hmacSHA256(e.keys.ServerKey, authMsg)
	return []byte("v=" + base64.StdEncoding.EncodeToString(e.serverSig)), false, nil
}

// decodeSASLName undoes RFC 5802 5.1 escaping: "=2C" is ',', "=3D" is
// '='; any other '=' is an error.
func decodeSASLName(s string) (string, error) {
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", errSCRAMMalformed
		}
		i += 2
	}
	return b.String(), nil
}

// printable: RFC 5802 7 printable = %x21-2B / %x2D-7E (no comma).
func printable(s string) bool {
	return !bytes.ContainsFunc([]byte(s), func(r rune) bool { return r < 0x21 || r > 0x7e || r == ',' })
}
