package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are the argon2id cost parameters used for new hashes. Checking a
// hash always uses the parameters written in the hash itself, so raising
// these does not invalidate stored hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams costs about 50 ms and 64 MiB per hash on a 2-core server
// (RFC 9106 4 recommends 64 MiB when 2 GiB is not affordable).
var DefaultParams = Params{Memory: 64 * 1024, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}

// HashParams are the parameters HashPassword uses. Tests lower them to keep
// runs fast; a server leaves them at DefaultParams.
var HashParams = DefaultParams

// Bounds accepted when parsing a stored hash, so a corrupt or hostile hash
// cannot make one login allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// hashSlots bounds how many argon2 derivations run at once: each holds
// Params.Memory of RAM, so a burst of logins must queue rather than exhaust
// memory.
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// ErrBadHash is returned for a stored hash that cannot be parsed.
var ErrBadHash = errors.New("auth: malformed password hash")

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of password in PHC string format:
// $argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash> (unpadded standard base64).
func HashPassword(password string) (string, error) {
	p := HashParams
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading random salt: %w", err)
	}
	key := derive(password, salt, p)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches hash, comparing in
// constant time. It accepts argon2id PHC hashes and, for users imported
// from other systems, bcrypt hashes ($2a$, $2b$, $2y$). A malformed hash is
// an error, not a mismatch.
func CheckPassword(hash, password string) (bool, error) {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		p, salt, want, err := parseArgon2id(hash)
		if err != nil {
			return false, err
		}
		got := derive(password, salt, p)
		return subtle.ConstantTimeCompare(got, want) == 1, nil
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		// bcrypt reads at most 72 bytes of the password and its compare
		// ignores the rest; a longer password is refused rather than matched
		// on its first 72 bytes (after the same work, for equal timing).
		tooLong := len(password) > 72
		if tooLong {
			password = password[:72]
		}
		hashSlots <- struct{}{}
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		<-hashSlots
		if tooLong && err == nil {
			return false, nil
		}
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		default:
			return false, fmt.Errorf("%w: %v", ErrBadHash, err)
		}
	default:
		return false, ErrBadHash
	}
}

func derive(password string, salt []byte, p Params) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

func (p Params) check() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("auth: argon2 time %d out of range 1..%d", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("auth: argon2 threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		// RFC 9106 3.1: memory is at least 8*p KiB.
		return fmt.Errorf("auth: argon2 memory %d KiB out of range %d..%d", p.Memory, 8*uint32(p.Threads), maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("auth: argon2 salt length %d out of range", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("auth: argon2 key length %d out of range", p.KeyLen)
	}
	return nil
}

// parseArgon2id splits "$argon2id$v=19$m=..,t=..,p=..$salt$hash".
func parseArgon2id(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported argon2 version %q", ErrBadHash, parts[2])
	}
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, ErrBadHash
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, fmt.Errorf("%w: parameter %q", ErrBadHash, kv)
		}
		switch k {
		case "m":
			p.Memory, seen[0] = uint32(n), true
		case "t":
			p.Time, seen[1] = uint32(n), true
		case "p":
			if n > 255 {
				return p, nil, nil, fmt.Errorf("%w: parameter %q", ErrBadHash, kv)
			}
			p.Threads, seen[2] = uint8(n), true
		default:
			return p, nil, nil, fmt.Errorf("%w: unknown parameter %q", ErrBadHash, k)
		}
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return p, nil, nil, fmt.Errorf("%w: missing parameter", ErrBadHash)
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt: %v", ErrBadHash, err)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: hash: %v", ErrBadHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", ErrBadHash, err)
	}
	return p, salt, key, nil
}
