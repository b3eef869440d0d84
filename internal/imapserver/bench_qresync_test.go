package imapserver

// BenchmarkQresyncSelect measures a QRESYNC SELECT (RFC 7162 3.2.5) that
// has 10 flag changes to report, in mailboxes of 1,000, 10,000 and 100,000
// messages, over TCP on 127.0.0.1 (so it includes one round trip):
//
//	go test ./internal/imapserver -run '^$' -bench QresyncSelect -benchtime 50x
//
// Setup fills each store with AppendBatch and fsync off (100,000 messages
// take about a minute); it runs only with -bench. Results: docs/benchmarks.md.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

func BenchmarkQresyncSelect(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchQresync(b, n) })
	}
}

func benchQresync(b *testing.B, n int) {
	dir := filepath.Join(b.TempDir(), "store")
	ctx := context.Background()
	st, err := sqlite.Open(dir, sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
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
	start := time.Now()
	const batch = 2000
	for i := 0; i < n; i += batch {
		msgs := make([]store.BatchMessage, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			msgs = append(msgs, store.BatchMessage{Body: []byte(fmt.Sprintf(
				"From: a@example.org\r\nSubject: m%d\r\nMessage-ID: <q%d@example.org>\r\n\r\nbody %d\r\n", j, j, j))})
		}
		if _, err := acct.AppendBatch(ctx, inbox.ID, msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d messages stored in %v", n, time.Since(start).Round(time.Millisecond))
	before, err := acct.Status(ctx, inbox.ID)
	if err != nil {
		b.Fatal(err)
	}
	// 10 changes spread over the mailbox.
	for k := 0; k < 10; k++ {
		uid := uint32(1 + k*(n/10))
		if _, err := acct.StoreFlags(ctx, inbox.ID, store.StoreRequest{UIDs: []uint32{uid}, Mode: store.FlagsAdd, Flags: []string{store.FlagFlagged}}); err != nil {
			b.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(Config{Hostname: "localhost", IdleTimeout: time.Hour, TempDir: dir, Logger: log, MaxConnsPerIP: -1},
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
	cmd := fmt.Sprintf("SELECT INBOX (QRESYNC (%d %d 1:%d))", before.UIDValidity, before.HighestModSeq, n)
	bc.run(cmd) // warm up (fills the engine's entries cache)
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for i := 0; i < b.N; i++ {
		bytes += bc.run(cmd)
	}
	b.SetBytes(bytes / int64(b.N))
}
