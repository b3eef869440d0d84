package sqlite

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// The read benchmarks share one 10,000-message mailbox, built once per
// process with NoSync (setup speed only) and then reopened with full
// durability for the measurements.
const benchSize = 10_000

var bench struct {
	once sync.Once
	dir  string
	s    *Store
	a    *Account
	in   store.MailboxID
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.s != nil {
		bench.s.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func benchMessage(i int) []byte {
	return []byte(fmt.Sprintf("From: Sender %d <sender%d@example.org>\r\n"+
		"To: alice@example.org\r\nSubject: benchmark message number %d\r\n"+
		"Date: Mon, 2 Jan 2006 15:04:05 -0700\r\nMessage-ID: <%d.bench@example.org>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Hello,\r\n\r\nThis is the body of message %d, a few lines long.\r\n"+
		"It has enough text to look like mail.\r\n\r\n-- \r\nSender\r\n", i, i, i, i, i))
}

func benchMailbox(b *testing.B) (*Account, store.MailboxID) {
	b.Helper()
	bench.once.Do(func() {
		start := time.Now()
		bench.dir, bench.err = os.MkdirTemp("", "casier-bench-")
		if bench.err != nil {
			return
		}
		s, err := Open(bench.dir, Options{NoSync: true, NoSweep: true})
		if err != nil {
			bench.err = err
			return
		}
		u, err := s.CreateUser(ctx, "bench", "x")
		if err != nil {
			bench.err = err
			return
		}
		acct, _ := s.Account(ctx, u.ID)
		m, _ := acct.Mailbox(ctx, "INBOX")
		for i := 0; i < benchSize; i++ {
			var flags []string
			if i%3 == 0 {
				flags = []string{store.FlagSeen}
			}
			if i%50 == 0 {
				flags = append(flags, "$Important")
			}
			raw := benchMessage(i)
			if _, err := acct.Append(ctx, m.ID, store.AppendRequest{Body: bytes.NewReader(raw), Size: int64(len(raw)), Flags: flags}); err != nil {
				bench.err = err
				return
			}
		}
		s.Close()
		s, err = Open(bench.dir, Options{NoSweep: true})
		if err != nil {
			bench.err = err
			return
		}
		a, _ := s.Account(ctx, u.ID)
		bench.s, bench.a, bench.in = s, a.(*Account), m.ID
		fmt.Fprintf(os.Stderr, "bench setup: %d messages in %v\n", benchSize, time.Since(start).Round(time.Millisecond))
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.a, bench.in
}

func benchAppend(b *testing.B, noSync bool) {
	s, err := Open(b.TempDir(), Options{NoSync: noSync, NoSweep: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a, in := newAcctB(b, s)
	msgs := make([][]byte, b.N)
	for i := range msgs {
		msgs[i] = benchMessage(i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.Append(ctx, in, store.AppendRequest{Body: bytes.NewReader(msgs[i]), Size: int64(len(msgs[i]))}); err != nil {
			b.Fatal(err)
		}
	}
}

func newAcctB(b *testing.B, s *Store) (*Account, store.MailboxID) {
	u, err := s.CreateUser(ctx, "alice", "x")
	if err != nil {
		b.Fatal(err)
	}
	a, _ := s.Account(ctx, u.ID)
	m, _ := a.Mailbox(ctx, "INBOX")
	return a.(*Account), m.ID
}

// BenchmarkAppend measures a durable append: body file fsync + directory
// fsync + WAL commit with synchronous=FULL.
func BenchmarkAppend(b *testing.B) { benchAppend(b, false) }

// BenchmarkAppendNoSync shows the CPU cost of an append without fsyncs.
func BenchmarkAppendNoSync(b *testing.B) { benchAppend(b, true) }

func BenchmarkEntries10k(b *testing.B) {
	a, in := benchMailbox(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		es, err := a.Entries(ctx, in)
		if err != nil || len(es) != benchSize {
			b.Fatal(len(es), err)
		}
	}
}

// BenchmarkRecords fetches 100 consecutive records (a client's FETCH
// window of envelopes), at a moving offset.
func BenchmarkRecords(b *testing.B) {
	a, in := benchMailbox(b)
	uids := make([]uint32, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		base := uint32(i*100%(benchSize-100)) + 1
		for j := range uids {
			uids[j] = base + uint32(j)
		}
		rs, err := a.Records(ctx, in, uids)
		if err != nil || len(rs) != 100 {
			b.Fatal(len(rs), err)
		}
	}
}

// BenchmarkStoreFlags toggles \Seen on one message: one durable commit.
func BenchmarkStoreFlags(b *testing.B) {
	a, in := benchMailbox(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mode := store.FlagsAdd
		if i%2 == 1 {
			mode = store.FlagsRemove
		}
		uid := uint32(i/2%benchSize) + 1
		if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: []uint32{uid}, Mode: mode, Flags: []string{store.FlagFlagged}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChanges asks for the last 10 changes of the 10k mailbox: the
// cost must follow the change, not the mailbox.
func BenchmarkChanges(b *testing.B) {
	a, in := benchMailbox(b)
	for i := 0; i < 10; i++ {
		if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: []uint32{uint32(500 + i*7)}, Mode: store.FlagsAdd, Flags: []string{"$Bench"}}); err != nil {
			b.Fatal(err)
		}
	}
	st, _ := a.Status(ctx, in)
	since := st.HighestModSeq - 10
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs, err := a.Changes(ctx, in, since)
		if err != nil || len(cs.Changed) != 10 {
			b.Fatal(len(cs.Changed), err)
		}
	}
}

// BenchmarkStatus10k reads STATUS counters of the 10k mailbox.
func BenchmarkStatus10k(b *testing.B) {
	a, in := benchMailbox(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.Status(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordsAll10k reads every record of the 10k mailbox in the
// batches FETCH 1:* uses (256 UIDs): the store's share of a full
// ENVELOPE/BODYSTRUCTURE fetch or a header SEARCH. "cached" is the steady
// state (models in the cache), "uncached" a store without the cache, so
// every call reads and decodes the message rows.
func BenchmarkRecordsAll10k(b *testing.B) {
	a, in := benchMailbox(b)
	b.Run("cached", func(b *testing.B) { benchRecordsAll(b, a, in) })
	b.Run("uncached", func(b *testing.B) {
		s, err := Open(bench.dir, Options{NoSweep: true, CacheSize: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		a2, _ := s.Account(ctx, a.user)
		benchRecordsAll(b, a2.(*Account), in)
	})
}

func benchRecordsAll(b *testing.B, a *Account, in store.MailboxID) {
	uids := make([]uint32, benchSize)
	for i := range uids {
		uids[i] = uint32(i) + 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		for start := 0; start < len(uids); start += 256 {
			rs, err := a.Records(ctx, in, uids[start:min(start+256, len(uids))])
			if err != nil {
				b.Fatal(err)
			}
			n += len(rs)
		}
		if n != benchSize {
			b.Fatal(n)
		}
	}
}
