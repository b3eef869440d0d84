package imapserver

// Benchmarks of SORT and THREAD on one 100,000-message mailbox, built once
// per process and only when a benchmark runs (go test -bench Sort):
//
//	go test ./internal/imapserver -run '^$' -bench 'Sort|Thread' -benchtime 5x
//
// Results: docs/benchmarks.md, "SORT and THREAD".

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

const sortBenchMessages = 100000

var (
	sortBenchOnce sync.Once
	sortBenchAddr string
	sortBenchErr  error
)

// sortBenchMessage is a small message; subjects repeat every 5,000
// messages with reply prefixes, dates are shuffled, and every message
// after the first of its subject replies to the previous one.
func sortBenchMessage(i int) []byte {
	subj := i % 5000
	prefix := ""
	switch i / 5000 % 4 {
	case 1:
		prefix = "Re: "
	case 2:
		prefix = "[list] Re: "
	case 3:
		prefix = "Fwd: "
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: Sender %d <user%d@example.org>\r\nTo: rcpt%d@example.org\r\n", i%311, i%97, i%89)
	fmt.Fprintf(&b, "Subject: %sTopic number %d\r\nMessage-ID: <sb%d@example.org>\r\n", prefix, subj, i)
	if i >= 5000 {
		fmt.Fprintf(&b, "References: <sb%d@example.org>\r\n", i-5000)
	}
	d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((i*7919)%sortBenchMessages) * time.Minute)
	fmt.Fprintf(&b, "Date: %s\r\n\r\nBody of message %d.\r\n", d.Format(time.RFC1123Z), i)
	return []byte(b.String())
}

func sortBenchServer(b *testing.B) string {
	b.Helper()
	sortBenchOnce.Do(func() { sortBenchAddr, sortBenchErr = startSortBenchServer(b) })
	if sortBenchErr != nil {
		b.Fatal(sortBenchErr)
	}
	return sortBenchAddr
}

func startSortBenchServer(b *testing.B) (string, error) {
	dir := filepath.Join(os.TempDir(), "casier-imapserver-sortbench")
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	ctx := context.Background()
	st, err := sqlite.Open(dir, sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		return "", err
	}
	u, err := st.CreateUser(ctx, "alice", testPasswordHash(b))
	if err == nil {
		var acct store.Account
		if acct, err = st.Account(ctx, u.ID); err == nil {
			var inbox store.Mailbox
			if inbox, err = acct.Mailbox(ctx, "INBOX"); err == nil {
				start := time.Now()
				for i := 0; i < sortBenchMessages && err == nil; i += 1000 {
					batch := make([]store.BatchMessage, 0, 1000)
					for j := i; j < i+1000; j++ {
						batch = append(batch, store.BatchMessage{Body: sortBenchMessage(j)})
					}
					_, err = acct.AppendBatch(ctx, inbox.ID, batch)
				}
				b.Logf("sort benchmark store: %d messages in %v", sortBenchMessages, time.Since(start).Round(time.Millisecond))
			}
		}
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	st2, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		return "", err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(Config{Hostname: "localhost", IdleTimeout: time.Hour, TempDir: dir, Logger: log, MaxConnsPerIP: -1},
		st2, auth.New(st2, auth.ThrottleConfig{}, log))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st2.Close()
		return "", err
	}
	go srv.Serve(ln, false)
	return ln.Addr().String(), nil
}

func dialSortBench(b *testing.B) *benchConn {
	b.Helper()
	c, err := net.Dial("tcp", sortBenchServer(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	bc := &benchConn{b: b, c: c, br: bufio.NewReaderSize(c, 64<<10)}
	if _, err := bc.br.ReadString('\n'); err != nil {
		b.Fatal(err)
	}
	bc.run("LOGIN alice password")
	bc.run("SELECT INBOX")
	return bc
}

func benchSortCommand(b *testing.B, command string) {
	bc := dialSortBench(b)
	bc.run(command) // warm the store's caches, as a second client would
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bc.run(command)
	}
}

func BenchmarkSortDate100k(b *testing.B)    { benchSortCommand(b, "SORT (DATE) UTF-8 ALL") }
func BenchmarkSortSubject100k(b *testing.B) { benchSortCommand(b, "SORT (SUBJECT) UTF-8 ALL") }
func BenchmarkSortFromReverseDate100k(b *testing.B) {
	benchSortCommand(b, "UID SORT (FROM REVERSE DATE) UTF-8 ALL")
}
func BenchmarkESortMinMax100k(b *testing.B) {
	benchSortCommand(b, "SORT RETURN (MIN MAX COUNT) (SUBJECT) UTF-8 ALL")
}
func BenchmarkThreadOrderedSubject100k(b *testing.B) {
	benchSortCommand(b, "THREAD ORDEREDSUBJECT UTF-8 ALL")
}
func BenchmarkThreadReferences100k(b *testing.B) { benchSortCommand(b, "THREAD REFERENCES UTF-8 ALL") }
