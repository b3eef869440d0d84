package auth

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// ThrottleConfig sets how failed logins slow down later attempts.
//
// Failures are counted separately per client address and per account name.
// After FreeFailures consecutive failures, each attempt waits BaseDelay,
// doubling with every further failure up to MaxDelay. A key whose last
// failure is older than Window is forgotten.
type ThrottleConfig struct {
	FreeFailures int
	BaseDelay    time.Duration
	MaxDelay     time.Duration
	Window       time.Duration
	// MaxEntries bounds each table (addresses, accounts); when full, the
	// key with the oldest failure is evicted. 0 means DefaultMaxEntries.
	MaxEntries int
}

// DefaultMaxEntries bounds each throttle table when MaxEntries is 0. An
// entry costs about 100 bytes, so both tables stay under ~15 MiB.
const DefaultMaxEntries = 65536

// DefaultThrottleConfig returns the defaults: 3 free failures, then 1 s
// doubling up to 30 s, failures forgotten after 15 minutes.
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{FreeFailures: 3, BaseDelay: time.Second, MaxDelay: 30 * time.Second, Window: 15 * time.Minute}
}

// delay is what an attempt waits after fails consecutive failures.
func (c *ThrottleConfig) delay(fails int) time.Duration {
	n := fails - c.FreeFailures
	if n < 0 || c.BaseDelay <= 0 {
		return 0
	}
	d := c.BaseDelay
	for ; n > 0 && d < c.MaxDelay; n-- {
		if d > c.MaxDelay/2 {
			return c.MaxDelay
		}
		d *= 2
	}
	return min(d, c.MaxDelay)
}

// throttle holds the failure tables. One mutex guards both: every operation
// is a few map lookups, far cheaper than the password hash around it.
type throttle struct {
	cfg   ThrottleConfig
	now   func() time.Time
	mu    sync.Mutex
	ips   table[netip.Addr]
	accts table[string]
}

func newThrottle(cfg ThrottleConfig) *throttle {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultThrottleConfig().Window
	}
	if cfg.MaxDelay < cfg.BaseDelay {
		cfg.MaxDelay = cfg.BaseDelay
	}
	t := &throttle{cfg: cfg, now: time.Now}
	t.ips.init(cfg.MaxEntries)
	t.accts.init(cfg.MaxEntries)
	return t
}

// ipKey groups IPv6 clients by /64, the block a single host or customer
// usually gets, so an attacker cannot step around the throttle by rotating
// through addresses of its own prefix.
func ipKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}

// reserve returns how long an attempt from ip for account must wait before
// its password is checked, and books that slot. The wait is paid before the
// check whatever the outcome, so the response time does not tell a
// throttled client whether it guessed right, and concurrent attempts from
// one throttled key are spaced out instead of all running at once. A wait
// never exceeds MaxDelay.
func (t *throttle) reserve(ip netip.Addr, account string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	w := reserve(&t.ips, ipKey(ip), now, &t.cfg)
	if account != "" {
		// An exchange that names no account yet (OAUTHBEARER without
		// authzid) is throttled by address only: a shared "" key would let
		// one attacker slow everyone's token logins.
		w = max(w, reserve(&t.accts, account, now, &t.cfg))
	}
	return w
}

func reserve[K comparable](tb *table[K], k K, now time.Time, cfg *ThrottleConfig) time.Duration {
	e := tb.get(k)
	if e == nil {
		return 0
	}
	if now.Sub(e.last) > cfg.Window {
		tb.remove(k)
		return 0
	}
	d := cfg.delay(e.fails)
	if d == 0 {
		return 0
	}
	at := e.next
	if at.Before(now) {
		at = now
	}
	at = at.Add(d)
	if at.Sub(now) > cfg.MaxDelay {
		at = now.Add(cfg.MaxDelay)
	}
	if at.After(e.next) {
		e.next = at
	}
	return at.Sub(now)
}

// fail records a failed attempt and returns the consecutive failure counts
// of the address and of the account.
func (t *throttle) fail(ip netip.Addr, account string) (ipFails, acctFails int) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	ipFails = t.ips.fail(ipKey(ip), now, t.cfg.Window)
	if account != "" {
		acctFails = t.accts.fail(account, now, t.cfg.Window)
	}
	return ipFails, acctFails
}

// succeed forgets the account's failures. The address keeps its count: a
// client that guessed one account right must not be free to go on guessing
// others at full speed.
func (t *throttle) succeed(account string) {
	t.mu.Lock()
	t.accts.remove(account)
	t.mu.Unlock()
}

// entry is one tracked key.
type entry[K comparable] struct {
	key   K
	fails int       // consecutive failures within the window
	last  time.Time // of the last failure
	next  time.Time // end of the last booked slot
}

// table maps keys to entries, bounded, with a list ordered by last failure
// (oldest first) for eviction and expiry.
type table[K comparable] struct {
	max   int
	m     map[K]*list.Element
	order list.List
}

func (tb *table[K]) init(max int) {
	tb.max = max
	tb.m = make(map[K]*list.Element)
	tb.order.Init()
}

func (tb *table[K]) get(k K) *entry[K] {
	if el := tb.m[k]; el != nil {
		return el.Value.(*entry[K])
	}
	return nil
}

func (tb *table[K]) remove(k K) {
	if el := tb.m[k]; el != nil {
		tb.order.Remove(el)
		delete(tb.m, k)
	}
}

func (tb *table[K]) len() int { return len(tb.m) }

func (tb *table[K]) fail(k K, now time.Time, window time.Duration) int {
	// Drop expired entries from the old end; amortised O(1) per failure.
	for el := tb.order.Front(); el != nil; el = tb.order.Front() {
		e := el.Value.(*entry[K])
		if now.Sub(e.last) <= window {
			break
		}
		tb.order.Remove(el)
		delete(tb.m, e.key)
	}
	el := tb.m[k]
	if el == nil {
		if len(tb.m) >= tb.max {
			oldest := tb.order.Front()
			tb.order.Remove(oldest)
			delete(tb.m, oldest.Value.(*entry[K]).key)
		}
		el = tb.order.PushBack(&entry[K]{key: k})
		tb.m[k] = el
	} else {
		tb.order.MoveToBack(el)
	}
	e := el.Value.(*entry[K])
	e.fails++
	e.last = now
	return e.fails
}
