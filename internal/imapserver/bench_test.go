package imapserver

// Benchmarks of the selected-state commands over a real TCP connection on
// 127.0.0.1, against one 10,000-message mailbox built once per process:
//
//	go test ./internal/imapserver -run '^$' -bench . -benchtime 20x
//
// Results and how they were measured: docs/benchmarks.md.
//
// The store is filled directly (no IMAP) with fsync off, then reopened with
// the normal durability settings for the benchmarks themselves.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

const benchMessages = 10000

var (
	benchOnce sync.Once
	benchAddr string
	benchErr  error
)

// benchMessage is a generated message of about 3 KB; every 10th is from
// "boss", every 100th carries the word "needlework" in its body.
func benchMessage(i int) string {
	var b strings.Builder
	from := "user" + strconv.Itoa(i%97) + "@example.org"
	if i%10 == 0 {
		from = "boss@example.com"
	}
	fmt.Fprintf(&b, "From: Sender %d <%s>\r\nTo: alice@example.org\r\nSubject: Report number %d\r\n", i, from, i)
	fmt.Fprintf(&b, "Date: Mon, 1 Jan 2024 10:%02d:%02d +0000\r\nMessage-ID: <bench%d@example.org>\r\n", i/60%60, i%60, i)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	for l := 0; l < 40; l++ {
		fmt.Fprintf(&b, "Line %d of message %d: the quick brown fox jumps over the lazy dog.\r\n", l, i)
	}
	if i%100 == 0 {
		b.WriteString("A line about needlework.\r\n")
	}
	return b.String()
}

// benchServer returns the address of the shared benchmark server, building
// its store on first use in a fixed directory under the system temp dir
// (removed and rebuilt by each process, so at most one copy is left).
func benchServer(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() { benchAddr, benchErr = startBenchServer(b) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchAddr
}

func startBenchServer(b *testing.B) (string, error) {
	dir := filepath.Join(os.TempDir(), "casier-imapserver-bench")
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	hash := testPasswordHash(b)
	ctx := context.Background()
	st, err := sqlite.Open(dir, sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		return "", err
	}
	u, err := st.CreateUser(ctx, "alice", hash)
	if err != nil {
		st.Close()
		return "", err
	}
	acct, err := st.Account(ctx, u.ID)
	if err != nil {
		st.Close()
		return "", err
	}
	if _, err := acct.CreateMailbox(ctx, "BenchAppend", ""); err != nil {
		st.Close()
		return "", err
	}
	inbox, err := acct.Mailbox(ctx, "INBOX")
	if err != nil {
		st.Close()
		return "", err
	}
	start := time.Now()
	for i := 1; i <= benchMessages; i++ {
		var flags []string
		if i%5 == 0 {
			flags = []string{store.FlagSeen}
		}
		if i%50 == 0 {
			flags = append(flags, store.FlagFlagged)
		}
		if i%100 == 0 {
			flags = append(flags, "Project") // a label on 1 % of the mail
		}
		m := benchMessage(i)
		_, err := acct.Append(ctx, inbox.ID, store.AppendRequest{Body: strings.NewReader(m), Size: int64(len(m)), Flags: flags})
		if err != nil {
			st.Close()
			return "", err
		}
	}
	b.Logf("benchmark store: %d messages in %v", benchMessages, time.Since(start).Round(time.Millisecond))
	if err := st.Close(); err != nil {
		return "", err
	}
	// Reopen with the normal (durable) settings.
	st2, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		return "", err
	}
	addr, _, err := serveBenchStore(st2, dir)
	if err != nil {
		st2.Close()
	}
	return addr, err
}

// serveBenchStore starts a server over st on a free loopback port, with
// logs discarded and no per-address connection limit.
func serveBenchStore(st store.Store, tempDir string) (string, *Server, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(Config{Hostname: "localhost", IdleTimeout: time.Hour, TempDir: tempDir, Logger: log, MaxConnsPerIP: -1},
		st, auth.New(st, auth.ThrottleConfig{}, log))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go srv.Serve(ln, false)
	return ln.Addr().String(), srv, nil
}

// benchConn is a raw client connection for benchmarks.
type benchConn struct {
	b  *testing.B
	c  net.Conn
	br *bufio.Reader
	n  int // tags
}

func dialBench(b *testing.B, mailbox string) *benchConn {
	b.Helper()
	return dialBenchAt(b, benchServer(b), mailbox)
}

// dialBenchAt logs in as alice to the server at addr and selects mailbox
// unless it is "".
func dialBenchAt(b *testing.B, addr, mailbox string) *benchConn {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	bc := &benchConn{b: b, c: c, br: bufio.NewReaderSize(c, 64<<10)}
	if _, err := bc.br.ReadString('\n'); err != nil {
		b.Fatal(err)
	}
	bc.run("LOGIN alice password")
	if mailbox != "" {
		bc.run("SELECT " + mailbox)
	}
	return bc
}

// run sends one command and reads its whole response, literals included.
// It returns the number of response bytes and fails on a non-OK status.
func (bc *benchConn) run(command string) int64 {
	bc.n++
	tag := "b" + strconv.Itoa(bc.n)
	if _, err := io.WriteString(bc.c, tag+" "+command+"\r\n"); err != nil {
		bc.b.Fatal(err)
	}
	return bc.readResponse(tag)
}

func (bc *benchConn) readResponse(tag string) int64 {
	var total int64
	for {
		line, err := bc.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A long line: consume the rest of it.
			total += int64(len(line))
			for err == bufio.ErrBufferFull {
				line, err = bc.br.ReadSlice('\n')
				total += int64(len(line))
			}
		} else {
			total += int64(len(line))
		}
		if err != nil {
			bc.b.Fatal(err)
		}
		if n, ok := literalSuffix(strings.TrimRight(string(line), "\r\n")); ok {
			m, err := io.CopyN(io.Discard, bc.br, int64(n))
			total += m
			if err != nil {
				bc.b.Fatal(err)
			}
			continue
		}
		if strings.HasPrefix(string(line), tag+" ") {
			if !strings.HasPrefix(string(line), tag+" OK") {
				bc.b.Fatalf("%s: %s", tag, line)
			}
			return total
		}
	}
}

// benchCommand runs command b.N times and reports response bytes.
func benchCommand(b *testing.B, mailbox, command string) {
	bc := dialBench(b, mailbox)
	bc.run(command) // warm up
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for i := 0; i < b.N; i++ {
		bytes += bc.run(command)
	}
	b.SetBytes(bytes / int64(b.N))
}

func BenchmarkAppend(b *testing.B) {
	bc := dialBench(b, "")
	msg := benchMessage(7)
	cmd := "APPEND BenchAppend (\\Seen) {" + strconv.Itoa(len(msg)) + "+}\r\n" + msg
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bc.run(cmd)
	}
}

// BenchmarkSelect re-selects the 10k mailbox: the session view is built
// from every entry, and the \Recent claim is a write.
func BenchmarkSelect(b *testing.B) {
	benchCommand(b, "", "SELECT INBOX")
}

func BenchmarkFetchFlagsUID(b *testing.B) {
	benchCommand(b, "INBOX", "FETCH 1:* (FLAGS UID)")
}

func BenchmarkFetchHeaders(b *testing.B) {
	benchCommand(b, "INBOX", "FETCH 1:* BODY.PEEK[HEADER]")
}

func BenchmarkFetchEnvelope(b *testing.B) {
	benchCommand(b, "INBOX", "FETCH 1:* (UID ENVELOPE BODYSTRUCTURE)")
}

func BenchmarkFetchOneBody(b *testing.B) {
	benchCommand(b, "INBOX", "UID FETCH 5000 BODY.PEEK[]")
}

// BenchmarkFetchBodies100 fetches a window of 100 whole bodies.
func BenchmarkFetchBodies100(b *testing.B) {
	benchCommand(b, "INBOX", "UID FETCH 4901:5000 BODY.PEEK[]")
}

// BenchmarkFetchNewest50 is a client's refresh of its message list: the
// newest 50 messages with envelope and a few header fields.
func BenchmarkFetchNewest50(b *testing.B) {
	benchCommand(b, "INBOX", "UID FETCH 9951:* (UID FLAGS RFC822.SIZE ENVELOPE BODY.PEEK[HEADER.FIELDS (From To Subject Date)])")
}

func BenchmarkSearchUnseen(b *testing.B) {
	benchCommand(b, "INBOX", "SEARCH UNSEEN")
}

func BenchmarkSearchFlag(b *testing.B) {
	benchCommand(b, "INBOX", "SEARCH FLAGGED")
}

func BenchmarkSearchHeader(b *testing.B) {
	benchCommand(b, "INBOX", "UID SEARCH FROM boss")
}

// BenchmarkSearchKeywordHeader searches a label (1 % of the mailbox)
// together with a header key: the keyword index narrows the messages
// whose records are read (compare BenchmarkSearchHeader, the same header
// key over the whole mailbox).
func BenchmarkSearchKeywordHeader(b *testing.B) {
	benchCommand(b, "INBOX", "UID SEARCH KEYWORD Project FROM boss")
}

func BenchmarkSearchText(b *testing.B) {
	benchCommand(b, "INBOX", "UID SEARCH BODY needlework")
}

// BenchmarkStoreOne toggles \Flagged on one message: one durable commit.
func BenchmarkStoreOne(b *testing.B) {
	bc := dialBench(b, "INBOX")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op := "+"
		if i%2 == 1 {
			op = "-"
		}
		bc.run("UID STORE 4242 " + op + "FLAGS (\\Flagged)")
	}
	b.StopTimer()
	if b.N%2 == 1 {
		bc.run("UID STORE 4242 -FLAGS.SILENT (\\Flagged)")
	}
}

// BenchmarkStoreAll alternates +FLAGS and -FLAGS on every message so each
// iteration changes 10,000 messages and returns their flags.
func BenchmarkStoreAll(b *testing.B) {
	bc := dialBench(b, "INBOX")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op := "+"
		if i%2 == 1 {
			op = "-"
		}
		bc.run("STORE 1:* " + op + "FLAGS ($Bench)")
	}
	b.StopTimer()
	if b.N%2 == 1 {
		bc.run("STORE 1:* -FLAGS.SILENT ($Bench)")
	}
}
