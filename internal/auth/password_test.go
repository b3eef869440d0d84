package auth

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestMain lowers the argon2 cost so the suite runs fast; the format and
// the algorithm are the same at any cost.
func TestMain(m *testing.M) {
	HashParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	os.Exit(m.Run())
}

func TestHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h) {
		t.Fatalf("hash %q does not match %v", h, re)
	}
	if ok, err := CheckPassword(h, "correct horse"); !ok || err != nil {
		t.Fatalf("CheckPassword(right) = %v, %v; want true, nil", ok, err)
	}
	for _, wrong := range []string{"", "correct hors", "correct horse ", "Correct horse"} {
		if ok, err := CheckPassword(h, wrong); ok || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
	h2, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestHashDefaultParamsFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB hash")
	}
	saved := HashParams
	HashParams = DefaultParams
	defer func() { HashParams = saved }()
	h, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Fatalf("hash %q: unexpected parameters", h)
	}
	if ok, err := CheckPassword(h, "pw"); !ok || err != nil {
		t.Fatalf("CheckPassword = %v, %v", ok, err)
	}
}

// Hashes made by the reference argon2 tool (Debian package argon2):
// echo -n "correct horse" | argon2 saltsaltsalt1234 -id -t T -k M -p P -l 32 -e
func TestCheckReferenceArgon2id(t *testing.T) {
	for _, h := range []string{
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$tp5nQ7CZw1YdsTZ2DUssx5VmN0Y7dNAozQkVpFUQoKw",
		"$argon2id$v=19$m=256,t=2,p=2$c2FsdHNhbHRzYWx0MTIzNA$MFByGqQHML1YSpLw54QSJpyUixGgXNRzzwwx9LYdAPc",
	} {
		if ok, err := CheckPassword(h, "correct horse"); !ok || err != nil {
			t.Errorf("CheckPassword(%s, right) = %v, %v; want true, nil", h, ok, err)
		}
		if ok, err := CheckPassword(h, "correct horsf"); ok || err != nil {
			t.Errorf("CheckPassword(%s, wrong) = %v, %v; want false, nil", h, ok, err)
		}
	}
}

// A bcrypt hash from libxcrypt (crypt(3)) and its $2a$/$2y$ spellings,
// which name the same algorithm for passwords like this one.
func TestCheckBcrypt(t *testing.T) {
	const ref = "$2b$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e"
	for _, prefix := range []string{"$2b$", "$2a$", "$2y$"} {
		h := prefix + strings.TrimPrefix(ref, "$2b$")
		if ok, err := CheckPassword(h, "correct horse"); !ok || err != nil {
			t.Errorf("CheckPassword(%s, right) = %v, %v; want true, nil", h, ok, err)
		}
		if ok, err := CheckPassword(h, "correct horsf"); ok || err != nil {
			t.Errorf("CheckPassword(%s, wrong) = %v, %v; want false, nil", h, ok, err)
		}
	}
	gen, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := CheckPassword(string(gen), "s3cret"); !ok || err != nil {
		t.Errorf("CheckPassword(generated bcrypt) = %v, %v", ok, err)
	}
	// bcrypt looks at 72 bytes at most; a longer password is refused, not
	// silently truncated into a match.
	gen72, err := bcrypt.GenerateFromPassword([]byte(strings.Repeat("a", 72)), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := CheckPassword(string(gen72), strings.Repeat("a", 100)); ok || err != nil {
		t.Errorf("CheckPassword(bcrypt, 100 bytes) = %v, %v; want false, nil", ok, err)
	}
}

func TestCheckMalformed(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0MTIzNA", "tp5nQ7CZw1YdsTZ2DUssx5VmN0Y7dNAozQkVpFUQoKw"
	for _, h := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "=",
		"$argon2id$v=19$m=64,t=1,p=1$" + "c2FsdA" + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + "c2hvcnQ",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"$2b$04$short",
		"$2b$99$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e",
	} {
		ok, err := CheckPassword(h, "correct horse")
		if ok || !errors.Is(err, ErrBadHash) {
			t.Errorf("CheckPassword(%q) = %v, %v; want false, ErrBadHash", h, ok, err)
		}
	}
}

func TestHashParamsChecked(t *testing.T) {
	saved := HashParams
	defer func() { HashParams = saved }()
	HashParams = Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}
	if _, err := HashPassword("x"); err == nil {
		t.Fatal("HashPassword with Time 0: no error")
	}
}

// FuzzParseArgon2id feeds arbitrary stored hashes to the parser: it must
// never panic, and whatever it accepts must be within the bounds.
func FuzzParseArgon2id(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$tp5nQ7CZw1YdsTZ2DUssx5VmN0Y7dNAozQkVpFUQoKw")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$argon2id$$$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parseArgon2id(s)
		if err != nil {
			if !errors.Is(err, ErrBadHash) {
				t.Fatalf("error %v is not ErrBadHash", err)
			}
			return
		}
		if p.check() != nil || int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("accepted out-of-bounds hash %q: %+v", s, p)
		}
	})
}
