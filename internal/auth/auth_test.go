package auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// fakeStore implements only User; the embedded interface satisfies the
// rest (calling any other method panics, which the tests would notice).
type fakeStore struct {
	store.Store
	users map[string]store.User
	err   error // returned by User when set
}

func (f *fakeStore) User(_ context.Context, name string) (store.User, error) {
	if f.err != nil {
		return store.User{}, f.err
	}
	u, ok := f.users[name]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func newFakeStore(t *testing.T, namePass ...string) *fakeStore {
	t.Helper()
	f := &fakeStore{users: map[string]store.User{}}
	for i := 0; i < len(namePass); i += 2 {
		h, err := HashPassword(namePass[i+1])
		if err != nil {
			t.Fatal(err)
		}
		f.users[namePass[i]] = store.User{ID: store.UserID(i/2 + 1), Name: namePass[i], PassHash: h}
	}
	return f
}

// recorder replaces Authenticator.wait to record the delays asked for; it
// advances the throttle's clock instead of sleeping.
type recorder struct {
	mu    sync.Mutex
	clk   *clock
	waits []time.Duration
}

func (r *recorder) wait(_ context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.clk.t = r.clk.t.Add(d)
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.waits
	r.waits = nil
	return w
}

func newTestAuth(t *testing.T, st store.Store, cfg ThrottleConfig) (*Authenticator, *recorder, *bytes.Buffer) {
	var buf bytes.Buffer
	a := New(st, cfg, slog.New(slog.NewTextHandler(&buf, nil)))
	rec := &recorder{clk: &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	a.th.now = rec.clk.now
	a.wait = rec.wait
	return a, rec, &buf
}

func TestLoginSuccessAndFailure(t *testing.T) {
	st := newFakeStore(t, "alice", "password")
	a, _, logs := newTestAuth(t, st, DefaultThrottleConfig())
	ctx := context.Background()

	u, err := a.Login(ctx, ipA, "alice", "password")
	if err != nil || u.Name != "alice" || u.ID != 1 {
		t.Fatalf("Login(right) = %+v, %v", u, err)
	}
	// Names are case-insensitive.
	if u, err := a.Login(ctx, ipA, "ALICE", "password"); err != nil || u.Name != "alice" {
		t.Fatalf("Login(ALICE) = %+v, %v", u, err)
	}
	for _, c := range []struct{ user, pass string }{
		{"alice", "wrong"},
		{"alice", "PASSWORD"},
		{"bob", "password"},    // no such user
		{"", "password"},       // invalid name
		{"al ice", "password"}, // invalid name
		{"alice", strings.Repeat("p", MaxPasswordLen+1)},
	} {
		u, err := a.Login(ctx, ipA, c.user, c.pass)
		if err != ErrFailed || u != (store.User{}) {
			t.Errorf("Login(%q, %q) = %+v, %v; want zero user, ErrFailed", c.user, c.pass, u, err)
		}
	}
	// The unknown user cost a hash too.
	if a.dummyHash == "" {
		t.Error("no dummy hash computed for the unknown user")
	}
	out := logs.String()
	for _, want := range []string{
		`level=WARN msg="login failed" remote=192.0.2.1 user=alice reason="wrong password" addr_failures=1 user_failures=1`,
		`level=WARN msg="login failed" remote=192.0.2.1 user=bob reason="no such user" addr_failures=3 user_failures=1`,
		`level=INFO msg=login remote=192.0.2.1 user=alice`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestLoginBadStoredHash(t *testing.T) {
	st := &fakeStore{users: map[string]store.User{"alice": {ID: 1, Name: "alice", PassHash: "garbage"}}}
	a, _, logs := newTestAuth(t, st, DefaultThrottleConfig())
	if _, err := a.Login(context.Background(), ipA, "alice", "x"); err != ErrFailed {
		t.Fatalf("Login = %v, want ErrFailed", err)
	}
	if !strings.Contains(logs.String(), `level=ERROR msg="stored password hash unusable" user=alice`) {
		t.Errorf("bad hash not logged as error:\n%s", logs)
	}
}

func TestLoginStoreError(t *testing.T) {
	boom := errors.New("disk on fire")
	a, _, _ := newTestAuth(t, &fakeStore{err: boom}, DefaultThrottleConfig())
	_, err := a.Login(context.Background(), ipA, "alice", "x")
	if !errors.Is(err, boom) || errors.Is(err, ErrFailed) {
		t.Fatalf("Login = %v, want the store error", err)
	}
}

// Failures from address A make A wait, growing; B's login is not delayed.
func TestLoginThrottleDelays(t *testing.T) {
	st := newFakeStore(t, "alice", "pw-a", "bob", "pw-b")
	a, rec, _ := newTestAuth(t, st, ThrottleConfig{FreeFailures: 3, BaseDelay: time.Second, MaxDelay: 4 * time.Second, Window: time.Hour})
	ctx := context.Background()
	for range 3 {
		if _, err := a.Login(ctx, ipA, "alice", "bad"); err != ErrFailed {
			t.Fatal(err)
		}
	}
	if w := rec.take(); len(w) != 0 {
		t.Fatalf("free failures waited %v", w)
	}
	// 4th, 5th, 6th, 7th attempts from A wait 1, 2, 4, 4 s.
	for _, want := range []time.Duration{1, 2, 4, 4} {
		a.Login(ctx, ipA, "carol", "bad")
		if w := rec.take(); len(w) != 1 || w[0] != want*time.Second {
			t.Fatalf("A waited %v, want [%v]", w, want*time.Second)
		}
	}
	// B logs in as bob without delay.
	if _, err := a.Login(ctx, ipB, "bob", "pw-b"); err != nil {
		t.Fatal(err)
	}
	if w := rec.take(); len(w) != 0 {
		t.Fatalf("B waited %v", w)
	}
	// A's right password still pays A's delay: the timing must not tell.
	if _, err := a.Login(ctx, ipA, "bob", "pw-b"); err != nil {
		t.Fatal(err)
	}
	if w := rec.take(); len(w) != 1 || w[0] != 4*time.Second {
		t.Fatalf("A's success waited %v, want [4s]", w)
	}
}

// Failures on one account from many addresses make that account wait; a
// success resets the account.
func TestLoginThrottleAccount(t *testing.T) {
	st := newFakeStore(t, "alice", "pw")
	a, rec, _ := newTestAuth(t, st, ThrottleConfig{FreeFailures: 2, BaseDelay: time.Second, MaxDelay: time.Minute, Window: time.Hour})
	ctx := context.Background()
	for i := range 3 {
		a.Login(ctx, netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), "Alice", "bad")
	}
	rec.take()
	if _, err := a.Login(ctx, ipB, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if w := rec.take(); len(w) != 1 || w[0] != 2*time.Second {
		t.Fatalf("alice from fresh address waited %v, want [2s]", w)
	}
	if _, err := a.Login(ctx, ipA, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if w := rec.take(); len(w) != 0 {
		t.Fatalf("after success, alice waited %v", w)
	}
}

// With real time: a throttled address really sleeps, another does not, and
// cancelling the context ends the wait.
func TestLoginThrottleRealTime(t *testing.T) {
	st := newFakeStore(t, "alice", "pw", "bob", "pw")
	// 100 ms steps: long enough that an unthrottled login (well under a
	// millisecond at test cost) stays below one step even on a busy machine.
	const step = 100 * time.Millisecond
	a := New(st, ThrottleConfig{FreeFailures: 1, BaseDelay: step, MaxDelay: 10 * time.Second, Window: time.Hour}, nil)
	ctx := context.Background()
	a.Login(ctx, ipA, "alice", "bad") // free
	start := time.Now()
	a.Login(ctx, ipA, "alice", "bad") // waits one step
	if d := time.Since(start); d < step {
		t.Fatalf("throttled attempt took %v, want >= %v", d, step)
	}
	start = time.Now()
	a.Login(ctx, ipA, "alice", "bad") // waits two steps
	if d := time.Since(start); d < 2*step {
		t.Fatalf("second throttled attempt took %v, want >= %v", d, 2*step)
	}
	start = time.Now()
	if _, err := a.Login(ctx, ipB, "bob", "pw"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= step {
		t.Errorf("unthrottled login took %v", d)
	}

	for range 10 {
		a.th.fail(ipA, "x")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := a.Login(cctx, ipA, "alice", "pw")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled Login = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancelled Login returned after %v", d)
	}
}

func TestNormalizeAndValidateUsername(t *testing.T) {
	for in, want := range map[string]string{
		"Alice":             "alice",
		"ALICE@Example.ORG": "alice@example.org",
		"E\u0301lise":       "\u00e9lise", // NFD to NFC, lower case
	} {
		if got := NormalizeUsername(in); got != want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", in, got, want)
		}
	}
	for _, ok := range []string{"alice", "a", "alice@example.org", "first.last", "a-b_c+d", "élise", "用户", "007"} {
		if err := ValidateUsername(ok); err != nil {
			t.Errorf("ValidateUsername(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", ".alice", "-x", "al ice", "a\tb", "a/b", `a"b`, "a\\b", "a\x00", "\xff", strings.Repeat("a", 256)} {
		if err := ValidateUsername(bad); err == nil {
			t.Errorf("ValidateUsername(%q) = nil, want error", bad)
		}
	}
}
