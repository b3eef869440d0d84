package sqlite

import (
	"cmp"
	"database/sql"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// nextChanges waits up to d for the subscription's next batch of changes.
func nextChanges(t *testing.T, sub *store.Subscription, d time.Duration) []store.Change {
	t.Helper()
	select {
	case <-sub.Ready():
		return sub.Take()
	case <-time.After(d):
		return nil
	}
}

// collect gathers changes until none came for 200 ms (at most 2 s).
func collect(t *testing.T, sub *store.Subscription) []store.Change {
	t.Helper()
	var all []store.Change
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		c := nextChanges(t, sub, 200*time.Millisecond)
		if c == nil && len(all) > 0 {
			break
		}
		all = append(all, c...)
	}
	return all
}

// latest keeps the last change of each kind and mailbox, in order of
// first appearance.
func latest(cs []store.Change) []store.Change {
	var out []store.Change
	for _, c := range cs {
		i := slices.IndexFunc(out, func(o store.Change) bool { return o.Kind == c.Kind && o.Mailbox == c.Mailbox })
		if i < 0 {
			out = append(out, c)
		} else {
			out[i] = c
		}
	}
	return out
}

// sortChanges orders changes by mailbox, then kind.
func sortChanges(cs []store.Change) []store.Change {
	slices.SortStableFunc(cs, func(x, y store.Change) int {
		return cmp.Or(cmp.Compare(x.Mailbox, y.Mailbox), cmp.Compare(x.Kind, y.Kind))
	})
	return cs
}

func appendAcct(t *testing.T, a store.Account, id store.MailboxID, body string) store.AppendResult {
	t.Helper()
	r, err := a.Append(ctx, id, store.AppendRequest{Body: strings.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Two stores on one directory stand for two processes: serve (A, watching)
// and casier import or casier user (B).
func TestWatchOtherProcess(t *testing.T) {
	dir := t.TempDir()
	a := openT(t, dir, Options{NoSync: true, Watch: true, WatchInterval: 20 * time.Millisecond})
	b := openT(t, dir, Options{NoSync: true, NoSweep: true})
	u, err := b.CreateUser(ctx, "alice", "x")
	if err != nil {
		t.Fatal(err)
	}
	accA, _ := a.Account(ctx, u.ID)
	accB, _ := b.Account(ctx, u.ID)
	inbox, err := accA.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	// The user was created by B after A opened: A must still report B's
	// appends to it. The creation itself may be reported (its folders are
	// new to A): wait until A is quiet.
	sub := a.Hub().Subscribe(u.ID)
	defer sub.Close()
	for nextChanges(t, sub, 150*time.Millisecond) != nil {
	}

	// Every append also changes All Mail, which shows the message.
	all, err := accA.Mailbox(ctx, "All Mail")
	if err != nil {
		t.Fatal(err)
	}
	r := appendAcct(t, accB, inbox.ID, "Subject: 1\r\n\r\none\r\n")
	got := sortChanges(collect(t, sub))
	want := []store.Change{
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: inbox.ID, ModSeq: r.ModSeq},
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: all.ID, ModSeq: r.ModSeq},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after B's append: got %+v, want %+v", got, want)
	}

	// A's own append is published once, by A's Append; the watcher adds
	// nothing.
	r = appendAcct(t, accA, inbox.ID, "Subject: 2\r\n\r\ntwo\r\n")
	got = sortChanges(collect(t, sub))
	want = []store.Change{
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: inbox.ID, ModSeq: r.ModSeq},
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: all.ID, ModSeq: r.ModSeq},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after A's append: got %+v, want %+v", got, want)
	}
	if got := nextChanges(t, sub, 200*time.Millisecond); got != nil {
		t.Fatalf("watcher republished A's own change: %+v", got)
	}

	// B creates a folder and imports into it: a new mailbox with mail.
	mb, err := accB.CreateMailbox(ctx, "Old", "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := accB.AppendBatch(ctx, mb.ID, []store.BatchMessage{{Body: []byte("Subject: 3\r\n\r\nthree\r\n")}, {Body: []byte("Subject: 4\r\n\r\nfour\r\n")}})
	if err != nil {
		t.Fatal(err)
	}
	// The watcher may tick between the two commits: the latest state per
	// kind and mailbox is what counts.
	want = []store.Change{
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: all.ID, ModSeq: res[1].ModSeq},
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: mb.ID, ModSeq: res[1].ModSeq},
		{User: u.ID, Kind: store.ChangeMailboxes, Mailbox: mb.ID, ModSeq: res[1].ModSeq},
	}
	got = sortChanges(latest(collect(t, sub)))
	if len(got) == 3 && got[2].ModSeq == mb.HighestModSeq {
		got[2].ModSeq = res[1].ModSeq // a tick between the creation and the import
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after B's import: got %+v, want %+v", got, want)
	}

	// Interleaved writes of both within one tick: B's change is reported,
	// A's is not reported twice. All Mail ends with A's change (the
	// watcher reports B's only if it ticks between the two).
	rb := appendAcct(t, accB, inbox.ID, "Subject: 5\r\n\r\nfive\r\n")
	ra := appendAcct(t, accA, mb.ID, "Subject: 6\r\n\r\nsix\r\n")
	got = sortChanges(latest(collect(t, sub)))
	want = []store.Change{
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: inbox.ID, ModSeq: rb.ModSeq},
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: all.ID, ModSeq: ra.ModSeq},
		{User: u.ID, Kind: store.ChangeMessages, Mailbox: mb.ID, ModSeq: ra.ModSeq},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("interleaved: got %+v, want %+v", got, want)
	}

	// B deletes the user: A's sessions are told to recheck.
	if err := b.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	got = nextChanges(t, sub, time.Second)
	want = []store.Change{{User: u.ID, Kind: store.ChangeMailboxes}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after B's user deletion: got %+v, want %+v", got, want)
	}
}

// Without Options.Watch nothing crosses processes (the serve process opts
// in), and Close stops a watcher cleanly.
func TestWatchOff(t *testing.T) {
	dir := t.TempDir()
	a := openT(t, dir, Options{NoSync: true, WatchInterval: 10 * time.Millisecond})
	b := openT(t, dir, Options{NoSync: true, NoSweep: true})
	u, _ := b.CreateUser(ctx, "bob", "x")
	accB, _ := b.Account(ctx, u.ID)
	inbox, _ := accB.Mailbox(ctx, "INBOX")
	sub := a.Hub().Subscribe(u.ID)
	defer sub.Close()
	appendAcct(t, accB, inbox.ID, "Subject: x\r\n\r\nx\r\n")
	if got := nextChanges(t, sub, 150*time.Millisecond); got != nil {
		t.Fatalf("unwatched store published %+v", got)
	}
	w := openT(t, dir, Options{NoSync: true, Watch: true})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// ClaimRecent reads before it writes: with nothing recent it must not wait
// for the write lock, which another process may hold for long.
func TestClaimRecentNoLock(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{NoSync: true, BusyTimeout: 300 * time.Millisecond})
	a, inbox := newAcct(t, s)
	r := appendAcct(t, a, inbox, "Subject: r\r\n\r\nr\r\n")
	if first, err := a.ClaimRecent(ctx, inbox); err != nil || first != r.UID {
		t.Fatalf("first claim: %d %v, want %d", first, err, r.UID)
	}

	// Another process takes the write lock and keeps it.
	other, err := sql.Open("sqlite", "file:"+dir+"/casier.db?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`UPDATE meta SET value = value WHERE key = 'uidvalidity'`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	first, err := a.ClaimRecent(ctx, inbox)
	if err != nil || first != r.UID+1 {
		t.Fatalf("claim with nothing recent: %d %v, want %d", first, err, r.UID+1)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("claim with nothing recent waited %v for the write lock", d)
	}
	if _, err := a.ClaimRecent(ctx, 999999); err == nil {
		t.Error("claim on a missing mailbox succeeded")
	}
}

// Sessions racing to select a mailbox: each new message is recent in
// exactly one of them (RFC 3501 2.3.2).
func TestClaimRecentRace(t *testing.T) {
	s := openT(t, t.TempDir(), Options{NoSync: true})
	a, inbox := newAcct(t, s)
	for round := 0; round < 20; round++ {
		r := appendAcct(t, a, inbox, "Subject: race\r\n\r\n"+strings.Repeat("x", round+1)+"\r\n")
		const n = 4
		firsts := make([]uint32, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f, err := a.ClaimRecent(ctx, inbox)
				if err != nil {
					t.Error(err)
				}
				firsts[i] = f
			}()
		}
		wg.Wait()
		claimed := 0
		for _, f := range firsts {
			switch f {
			case r.UID:
				claimed++
			case r.UID + 1:
			default:
				t.Fatalf("round %d: first recent %d, want %d or %d", round, f, r.UID, r.UID+1)
			}
		}
		if claimed != 1 {
			t.Fatalf("round %d: %d sessions saw UID %d as recent, want 1", round, claimed, r.UID)
		}
	}
}

// BenchmarkWatchTick is the watcher's cost while no other process writes:
// one PRAGMA on the writer connection per tick.
func BenchmarkWatchTick(b *testing.B) {
	s, err := Open(b.TempDir(), Options{NoSync: true, Watch: true, WatchInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 100 {
		if _, err := s.CreateUser(ctx, "u"+strconv.Itoa(i), "x"); err != nil {
			b.Fatal(err)
		}
	}
	s.tick(ctx)
	b.ResetTimer()
	for range b.N {
		if c := s.tick(ctx); c != nil {
			b.Fatal(c)
		}
	}
}
