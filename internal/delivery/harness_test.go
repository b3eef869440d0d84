package delivery

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

const testTimeout = 5 * time.Second

// lockedBuffer collects the server log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testEnv struct {
	Addr  string
	Store store.Store
	Srv   *Server
	Logs  *lockedBuffer
	Temp  string
}

// newTestEnv starts an LMTP server on 127.0.0.1 over a fresh sqlite store
// with users alice (mailboxes Work and Lists/Go besides the defaults) and
// bob, serving example.org and example.net.
func newTestEnv(t *testing.T, opts ...func(*Options)) *testEnv {
	t.Helper()
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []string{"alice", "bob"} {
		if _, err := st.CreateUser(ctx, n, "x"); err != nil {
			t.Fatal(err)
		}
	}
	a := account(t, st, "alice")
	for _, m := range []string{"Work", "Lists/Go"} {
		if _, err := a.CreateMailbox(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
	}
	logs := &lockedBuffer{}
	o := Options{
		Hostname: "mx.test",
		Domains:  []string{"example.org", "example.net"},
		Timeout:  testTimeout,
		TempDir:  t.TempDir(),
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
	}
	for _, f := range opts {
		f(&o)
	}
	srv := New(o, st)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testEnv{Addr: ln.Addr().String(), Store: st, Srv: srv, Logs: logs, Temp: o.TempDir}
}

func account(t *testing.T, st store.Store, name string) store.Account {
	t.Helper()
	ctx := context.Background()
	u, err := st.User(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Account(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// bodies returns the stored bodies of a mailbox, in UID order.
func bodies(t *testing.T, st store.Store, user, mailbox string) []string {
	t.Helper()
	ctx := context.Background()
	a := account(t, st, user)
	m, err := a.Mailbox(ctx, mailbox)
	if err != nil {
		t.Fatalf("mailbox %s of %s: %v", mailbox, user, err)
	}
	es, err := a.Entries(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	uids := make([]uint32, len(es))
	for i, e := range es {
		uids[i] = e.UID
	}
	recs, err := a.Records(ctx, m.ID, uids)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		b, err := a.OpenBody(ctx, r.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, b.Size())
		if _, err := b.ReadAt(buf, 0); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		b.Close()
		out = append(out, string(buf))
	}
	return out
}

// client is a raw LMTP connection: lines in, exact lines out.
type client struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &client{t: t, nc: nc, r: newReader(nc)}
	c.expect("220 mx.test LMTP Service Ready")
	return c
}

func newReader(nc net.Conn) *bufio.Reader { return bufio.NewReader(nc) }

func (c *client) send(lines ...string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(c.nc, strings.Join(lines, "\r\n")+"\r\n"); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line %q does not end with CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// expect reads one line per argument and compares them exactly.
func (c *client) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		if got := c.line(); got != w {
			c.t.Fatalf("got  %q\nwant %q", got, w)
		}
	}
}

// lhlo greets and checks go-smtp's capability list; size is the SIZE
// advertised (one more than Server.SizeLimit).
func (c *client) lhlo(size int64) {
	c.t.Helper()
	c.send("LHLO client.test")
	c.expect(lhloReply(size)...)
}

func lhloReply(size int64) []string {
	return []string{"250-Hello client.test", "250-PIPELINING", "250-8BITMIME", "250-ENHANCEDSTATUSCODES",
		"250-CHUNKING", "250-SMTPUTF8", "250-SIZE " + itoa(size), "250 LIMITS RCPTMAX=1000"}
}

// The replies go-smtp writes itself.
const (
	goAhead = "354 Go ahead. End your data with <CR><LF>.<CR><LF>"
	bye     = "221 2.0.0 Bye"
)

func mailOK(addr string) string { return "250 2.0.0 Roger, accepting mail from <" + addr + ">" }
func rcptOK(addr string) string { return "250 2.0.0 I'll make sure <" + addr + "> gets this" }

// defaultSize is the SIZE advertised with the default MaxMessageSize.
const defaultSize = 64<<20 - traceReserve + 1

// expectEOF checks that the server closed the connection.
func (c *client) expectEOF() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	if l, err := c.r.ReadString('\n'); err != io.EOF {
		c.t.Fatalf("got %q, %v; want the end of the connection", l, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
