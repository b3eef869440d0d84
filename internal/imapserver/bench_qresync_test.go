package imapserver

// BenchmarkQresyncSelect measures a QRESYNC SELECT (RFC 7162 3.2.5) that
// has 10 flag changes to report, in mailboxes of 1,000, 10,000 and 100,000
// messages, over TCP on 127.0.0.1 (so it includes one round trip):
//
//	go test ./internal/imapserver -run '^$' -bench QresyncSelect -benchtime 200x
//
// "shared" is the server as built: the view shares the engine's cached UID
// array (store.UIDLister). "entries" hides that interface, so SELECT reads
// and copies every entry as it did before. Each mailbox is filled once per
// run (AppendBatch, then Copy) with fsync off, then reused by both variants (Go
// calls a benchmark function several times); it runs only with -bench.
// Results: docs/benchmarks.md.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

// qresyncFixture is one filled store and the SELECT command to resync it.
type qresyncFixture struct {
	st  store.Store
	dir string
	cmd string
}

func BenchmarkQresyncSelect(b *testing.B) {
	// The parent runs once; its sub-benchmarks run as often as Go needs,
	// so the stores live here.
	// A sub-benchmark's cleanups run after each of its runs, so the
	// directories and the closing belong to the parent (closed first: the
	// cleanups run last-in first-out).
	parent := b
	fixtures := map[int]*qresyncFixture{}
	for _, n := range []int{1000, 10000, 100000} {
		fixture := func(b *testing.B) *qresyncFixture {
			if f := fixtures[n]; f != nil {
				return f
			}
			f := newQresyncFixture(b, filepath.Join(parent.TempDir(), "store"), n)
			parent.Cleanup(func() { f.st.Close() })
			fixtures[n] = f
			return f
		}
		b.Run("shared/"+strconv.Itoa(n), func(b *testing.B) {
			f := fixture(b)
			benchQresync(b, f, f.st, n)
		})
		b.Run("entries/"+strconv.Itoa(n), func(b *testing.B) {
			f := fixture(b)
			benchQresync(b, f, entriesOnlyStore{f.st}, n)
		})
	}
}

// entriesOnlyStore hides the engine's optional interfaces (UIDLister among
// them) from the server: SELECT then builds its view from Entries.
type entriesOnlyStore struct{ store.Store }

func (s entriesOnlyStore) Account(ctx context.Context, id store.UserID) (store.Account, error) {
	a, err := s.Store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	return struct{ store.Account }{a}, nil
}

// newQresyncFixture fills a store's INBOX with n messages, then flags 10
// of them, spread over the mailbox, after the modseq the client resyncs
// from.
func newQresyncFixture(b *testing.B, dir string, n int) *qresyncFixture {
	ctx := context.Background()
	st, err := sqlite.Open(dir, sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		b.Fatal(err)
	}
	u, err := st.CreateUser(ctx, "alice", testPasswordHash(b))
	if err != nil {
		b.Fatal(err)
	}
	acct, err := st.Account(ctx, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	inbox, err := acct.Mailbox(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	// AppendBatch slows down with the mailbox's size (its duplicate check,
	// see docs/benchmarks.md), so up to 2,000 distinct messages are
	// appended and the rest are copies of them: UIDs and entries are what
	// SELECT looks at, not bodies.
	start := time.Now()
	const distinct = 2000
	msgs := make([]store.BatchMessage, 0, distinct)
	for j := 0; j < min(n, distinct); j++ {
		msgs = append(msgs, store.BatchMessage{Body: []byte(fmt.Sprintf(
			"From: a@example.org\r\nSubject: m%d\r\nMessage-ID: <q%d@example.org>\r\n\r\nbody %d\r\n", j, j, j))})
	}
	if _, err := acct.AppendBatch(ctx, inbox.ID, msgs); err != nil {
		b.Fatal(err)
	}
	for have := min(n, distinct); have < n; have += distinct {
		uids := make([]uint32, 0, distinct)
		for u := 1; u <= min(distinct, n-have); u++ {
			uids = append(uids, uint32(u))
		}
		if _, err := acct.Copy(ctx, inbox.ID, uids, inbox.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d messages stored in %v", n, time.Since(start).Round(time.Millisecond))
	before, err := acct.Status(ctx, inbox.ID)
	if err != nil {
		b.Fatal(err)
	}
	for k := 0; k < 10; k++ {
		uid := uint32(1 + k*(n/10))
		if _, err := acct.StoreFlags(ctx, inbox.ID, store.StoreRequest{UIDs: []uint32{uid}, Mode: store.FlagsAdd, Flags: []string{store.FlagFlagged}}); err != nil {
			b.Fatal(err)
		}
	}
	return &qresyncFixture{st: st, dir: dir,
		cmd: fmt.Sprintf("SELECT INBOX (QRESYNC (%d %d 1:%d))", before.UIDValidity, before.HighestModSeq, n)}
}

func benchQresync(b *testing.B, f *qresyncFixture, st store.Store, n int) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(Config{Hostname: "localhost", IdleTimeout: time.Hour, TempDir: f.dir, Logger: log, MaxConnsPerIP: -1},
		st, auth.New(st, auth.ThrottleConfig{}, log))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go srv.Serve(ln, false)

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	bc := &benchConn{b: b, c: c, br: bufio.NewReaderSize(c, 64<<10)}
	if _, err := bc.br.ReadString('\n'); err != nil {
		b.Fatal(err)
	}
	bc.run("LOGIN alice password")
	bc.run("ENABLE QRESYNC")
	// The first SELECT warms the engine's caches and is checked: the 10
	// changes are reported, and nothing else (no VANISHED, no other FETCH).
	checkQresyncResponse(b, bc, f.cmd, n)
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for i := 0; i < b.N; i++ {
		bytes += bc.run(f.cmd)
	}
	b.SetBytes(bytes / int64(b.N))
}

// checkQresyncResponse sends cmd and checks that its FETCH responses are
// exactly the 10 flagged messages, in order.
func checkQresyncResponse(b *testing.B, bc *benchConn, cmd string, n int) {
	b.Helper()
	bc.n++
	tag := "b" + strconv.Itoa(bc.n)
	if _, err := io.WriteString(bc.c, tag+" "+cmd+"\r\n"); err != nil {
		b.Fatal(err)
	}
	var fetches []string
	for {
		line, err := bc.br.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		if strings.HasPrefix(line, tag+" ") {
			if !strings.HasPrefix(line, tag+" OK") {
				b.Fatalf("%s: %s", cmd, line)
			}
			break
		}
		if strings.HasPrefix(line, "* VANISHED") {
			b.Fatalf("unexpected %q", line)
		}
		if strings.Contains(line, " FETCH ") {
			fetches = append(fetches, strings.TrimRight(line, "\r\n"))
		}
		if strings.Contains(line, " EXISTS") && line != fmt.Sprintf("* %d EXISTS\r\n", n) {
			b.Fatalf("got %q, want %d EXISTS", line, n)
		}
	}
	if len(fetches) != 10 {
		b.Fatalf("got %d FETCH responses, want 10: %q", len(fetches), fetches)
	}
	for k, l := range fetches {
		msn := 1 + k*(n/10)
		// The first SELECT of this IMAP4rev1 session also shows \Recent.
		if !strings.HasPrefix(l, fmt.Sprintf("* %d FETCH (UID %d FLAGS (\\Flagged", msn, msn)) || !strings.Contains(l, " MODSEQ (") {
			b.Fatalf("FETCH %d: got %q", k, l)
		}
	}
}
