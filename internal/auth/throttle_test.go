package auth

import (
	"net/netip"
	"testing"
	"time"
)

func TestDelaySchedule(t *testing.T) {
	c := DefaultThrottleConfig()
	want := []time.Duration{0, 0, 0, 1 * time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for fails, w := range want {
		if got := c.delay(fails); got != w {
			t.Errorf("delay(%d) = %v, want %v", fails, got, w)
		}
	}
	if got := c.delay(1 << 30); got != 30*time.Second {
		t.Errorf("delay(huge) = %v, want 30s", got)
	}
	huge := ThrottleConfig{BaseDelay: time.Second, MaxDelay: time.Duration(1<<63 - 1)}
	if got := huge.delay(200); got != huge.MaxDelay {
		t.Errorf("delay(200) with unbounded max = %v, want %v (no overflow)", got, huge.MaxDelay)
	}
	off := ThrottleConfig{FreeFailures: 0}
	if got := off.delay(10); got != 0 {
		t.Errorf("delay with zero BaseDelay = %v, want 0", got)
	}
}

// clock is a settable time source for the throttle.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestThrottle(cfg ThrottleConfig) (*throttle, *clock) {
	th := newThrottle(cfg)
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	th.now = clk.now
	return th, clk
}

var (
	ipA = netip.MustParseAddr("192.0.2.1")
	ipB = netip.MustParseAddr("192.0.2.2")
)

func TestThrottleWindowExpiry(t *testing.T) {
	th, clk := newTestThrottle(ThrottleConfig{FreeFailures: 1, BaseDelay: time.Second, MaxDelay: 8 * time.Second, Window: time.Minute})
	for range 2 {
		th.fail(ipA, "alice")
	}
	// 2 failures, 1 free: 2 s owed.
	clk.t = clk.t.Add(59 * time.Second)
	if got := th.reserve(ipA, "x"); got != 2*time.Second {
		t.Fatalf("within window: wait %v, want 2s", got)
	}
	if got := th.reserve(ipB, "alice"); got != 2*time.Second {
		t.Fatalf("account within window: wait %v, want 2s", got)
	}
	// Window counts from the last failure.
	clk.t = clk.t.Add(2 * time.Second)
	if got := th.reserve(ipA, "alice"); got != 0 {
		t.Fatalf("after window: wait %v, want 0", got)
	}
	if th.ips.len() != 0 || th.accts.len() != 0 {
		t.Fatalf("expired entries kept: %d ips, %d accounts", th.ips.len(), th.accts.len())
	}
	// The count starts over.
	ipF, acctF := th.fail(ipA, "alice")
	if ipF != 1 || acctF != 1 {
		t.Fatalf("after expiry fail = %d, %d; want 1, 1", ipF, acctF)
	}
}

// Concurrent attempts from one throttled key are spaced out, not run at
// once, and no single wait exceeds MaxDelay.
func TestThrottleSpacesConcurrentAttempts(t *testing.T) {
	th, clk := newTestThrottle(ThrottleConfig{FreeFailures: 0, BaseDelay: time.Second, MaxDelay: 4 * time.Second, Window: time.Hour})
	th.fail(ipA, "alice") // 1 failure: 2 s owed per attempt
	want := []time.Duration{2 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, w := range want {
		if got := th.reserve(ipA, "u"+string(rune('0'+i))); got != w {
			t.Errorf("attempt %d: wait %v, want %v", i, got, w)
		}
	}
	// Once the booked slots have passed, an attempt waits one delay again.
	clk.t = clk.t.Add(10 * time.Second)
	if got := th.reserve(ipA, "z"); got != 2*time.Second {
		t.Errorf("later attempt: wait %v, want 2s", got)
	}
}

func TestThrottleSuccessResetsAccountOnly(t *testing.T) {
	th, _ := newTestThrottle(ThrottleConfig{FreeFailures: 0, BaseDelay: time.Second, MaxDelay: time.Minute, Window: time.Hour})
	th.fail(ipA, "alice")
	th.succeed("alice")
	if got := th.reserve(ipB, "alice"); got != 0 {
		t.Errorf("account after success: wait %v, want 0", got)
	}
	if got := th.reserve(ipA, "bob"); got != 2*time.Second {
		t.Errorf("address after success: wait %v, want 2s", got)
	}
}

func TestThrottleIPv6Prefix(t *testing.T) {
	th, _ := newTestThrottle(ThrottleConfig{FreeFailures: 0, BaseDelay: time.Second, MaxDelay: time.Minute, Window: time.Hour})
	th.fail(netip.MustParseAddr("2001:db8::1"), "a")
	ipF, _ := th.fail(netip.MustParseAddr("2001:db8::ffff:2"), "b")
	if ipF != 2 {
		t.Errorf("same /64: %d failures, want 2", ipF)
	}
	ipF, _ = th.fail(netip.MustParseAddr("2001:db8:0:1::1"), "c")
	if ipF != 1 {
		t.Errorf("other /64: %d failures, want 1", ipF)
	}
	// An IPv4-mapped address counts as the IPv4 address.
	th.fail(ipA, "d")
	ipF, _ = th.fail(netip.MustParseAddr("::ffff:192.0.2.1"), "e")
	if ipF != 2 {
		t.Errorf("mapped IPv4: %d failures, want 2", ipF)
	}
}

func TestThrottleBounded(t *testing.T) {
	th, clk := newTestThrottle(ThrottleConfig{FreeFailures: 0, BaseDelay: time.Second, MaxDelay: time.Minute, Window: time.Hour, MaxEntries: 4})
	var addrs []netip.Addr
	for i := range 10 {
		a := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		addrs = append(addrs, a)
		clk.t = clk.t.Add(time.Second)
		th.fail(a, "user"+string(rune('a'+i)))
	}
	if th.ips.len() != 4 || th.accts.len() != 4 {
		t.Fatalf("tables hold %d ips, %d accounts; want 4, 4", th.ips.len(), th.accts.len())
	}
	// The four most recent survive; the oldest were evicted.
	for i, a := range addrs {
		kept := th.ips.get(a) != nil
		if kept != (i >= 6) {
			t.Errorf("address %d kept = %v", i, kept)
		}
	}
	if th.accts.get("userj") == nil || th.accts.get("usera") != nil {
		t.Error("account table did not evict the oldest entry")
	}
	// A repeated failure refreshes an entry, so it outlives newer ones.
	th.fail(addrs[6], "x")
	th.fail(netip.MustParseAddr("203.0.113.1"), "y")
	if th.ips.get(addrs[6]) == nil || th.ips.get(addrs[7]) != nil {
		t.Error("refreshed entry evicted before an older one")
	}
}
