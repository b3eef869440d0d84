package imapserver

// End-to-end benchmarks of SORT and THREAD over a real connection: the
// server's time, response writing included, until the client has read the
// whole response. The mailbox is built once per process and only when one
// of these benchmarks runs; it has CASIER_SORT_BENCH_N messages (default
// 10,000, so "go test -bench ." stays quick). The published numbers:
//
//	CASIER_SORT_BENCH_N=100000 go test ./internal/imapserver -run '^$' -bench 'Sort|Thread' -benchtime 5x -count 5
//
// Results: docs/benchmarks.md, "SORT and THREAD".

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

// sortBenchDefault is the mailbox size without CASIER_SORT_BENCH_N.
const sortBenchDefault = 10000

// sortBenchMessages is the size of the benchmark mailbox.
var sortBenchMessages = func() int {
	if n, err := strconv.Atoi(os.Getenv("CASIER_SORT_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return sortBenchDefault
}()

var (
	sortBenchOnce  sync.Once
	sortBenchStore store.Store // the filled store, open for the benchmarks
	sortBenchAddr  string      // the server all warm benchmarks share
	sortBenchErr   error
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

// fillSortBench appends the benchmark's messages to the mailbox id, 1,000
// per AppendBatch (the store is open with NoSync).
func fillSortBench(ctx context.Context, acct store.Account, id store.MailboxID) error {
	const batchSize = 1000
	for i := 0; i < sortBenchMessages; i += batchSize {
		batch := make([]store.BatchMessage, 0, batchSize)
		for j := i; j < min(i+batchSize, sortBenchMessages); j++ {
			batch = append(batch, store.BatchMessage{Body: sortBenchMessage(j)})
		}
		if _, err := acct.AppendBatch(ctx, id, batch); err != nil {
			return err
		}
	}
	return nil
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
				err = fillSortBench(ctx, acct, inbox.ID)
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
	if sortBenchStore, err = sqlite.Open(dir, sqlite.Options{}); err != nil {
		return "", err
	}
	addr, _, err := serveSortBench()
	return addr, err
}

// serveSortBench starts a server over the benchmark store: its caches
// start empty, the store's are those of the process.
func serveSortBench() (string, *Server, error) {
	return serveBenchStore(sortBenchStore, os.TempDir())
}

func dialSortBench(b *testing.B) *benchConn {
	b.Helper()
	return dialBenchAt(b, sortBenchServer(b), "INBOX")
}

// benchSortCommand times command on the shared server, after one run
// that fills the caches (the server's sort cache, the store's).
func benchSortCommand(b *testing.B, command string) {
	bc := dialSortBench(b)
	bc.run(command)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bc.run(command)
	}
}

// BenchmarkSortDateCold is the first SORT after the server started: every
// record is read and the sort keys computed (the store's model cache holds
// what earlier benchmarks of the process left in it).
func BenchmarkSortDateCold(b *testing.B) {
	sortBenchServer(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		addr, srv, err := serveSortBench()
		if err != nil {
			b.Fatal(err)
		}
		bc := dialBenchAt(b, addr, "INBOX")
		b.StartTimer()
		bc.run("UID SORT (DATE) UTF-8 ALL")
		b.StopTimer()
		bc.c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// The benchmarks ask for UIDs, as clients with a sorted view do; the
// message-number forms cost the same.
func BenchmarkSortDate(b *testing.B)    { benchSortCommand(b, "UID SORT (DATE) UTF-8 ALL") }
func BenchmarkSortSubject(b *testing.B) { benchSortCommand(b, "UID SORT (SUBJECT) UTF-8 ALL") }
func BenchmarkSortReverseArrival(b *testing.B) {
	benchSortCommand(b, "UID SORT (REVERSE ARRIVAL) UTF-8 ALL")
}
func BenchmarkSortFrom(b *testing.B) { benchSortCommand(b, "UID SORT (FROM) UTF-8 ALL") }
func BenchmarkSortFromReverseDate(b *testing.B) {
	benchSortCommand(b, "UID SORT (FROM REVERSE DATE) UTF-8 ALL")
}

// BenchmarkESortPartial is a client's first page of a sorted view.
func BenchmarkESortPartial(b *testing.B) {
	benchSortCommand(b, "UID SORT RETURN (PARTIAL 1:50) (REVERSE DATE) UTF-8 ALL")
}
func BenchmarkESortMinMax(b *testing.B) {
	benchSortCommand(b, "SORT RETURN (MIN MAX COUNT) (SUBJECT) UTF-8 ALL")
}
func BenchmarkThreadOrderedSubject(b *testing.B) {
	benchSortCommand(b, "UID THREAD ORDEREDSUBJECT UTF-8 ALL")
}
func BenchmarkThreadReferences(b *testing.B) { benchSortCommand(b, "UID THREAD REFERENCES UTF-8 ALL") }
