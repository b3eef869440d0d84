package imapserver

// Test harness shared by every command file's tests (see contract.go): a
// real server on 127.0.0.1 over a sqlite store, raw transcript connections
// and go-imap clients.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

// testTimeout bounds every wait of the harness.
const testTimeout = 5 * time.Second

var (
	testHashOnce sync.Once
	testHash     string
	testHashErr  error
)

// testPasswordHash is the hash of "password", computed once with cheap
// argon2 parameters (tests only: HashParams also prices the dummy hash of
// failed logins).
func testPasswordHash(t testing.TB) string {
	testHashOnce.Do(func() {
		auth.HashParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
		testHash, testHashErr = auth.HashPassword("password")
	})
	if testHashErr != nil {
		t.Fatalf("hash password: %v", testHashErr)
	}
	return testHash
}

// testServer is a running server for one test.
type testServer struct {
	Addr  string
	Store store.Store
	Srv   *Server

	logs *lockedBuffer
	// allowPanics is the number of recovered panics the test expects
	// (tests of the recovery itself).
	allowPanics int64
}

// lockedBuffer collects the server log; it is shown when a test fails.
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

// newTestServer starts a server on 127.0.0.1:0 over a fresh sqlite store
// (NoSync) with users "alice" and "bob" (password "password"). Plaintext
// authentication is allowed from loopback. opts may change the Config
// (including the unexported test knobs) before the server is built.
func newTestServer(t *testing.T, opts ...func(*Config)) *testServer {
	t.Helper()
	return startTestServer(t, opts...)
}

// startTestServer is newTestServer for any testing.TB (fuzz targets).
func startTestServer(t testing.TB, opts ...func(*Config)) *testServer {
	t.Helper()
	hash := testPasswordHash(t)
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		if _, err := st.CreateUser(ctx, name, hash); err != nil {
			st.Close()
			t.Fatalf("create user %s: %v", name, err)
		}
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{
		Hostname:    "localhost",
		IdleTimeout: time.Minute,
		TempDir:     t.TempDir(),
		Logger:      log,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv := New(cfg, st, auth.New(st, auth.ThrottleConfig{}, log))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln, false) }()
	ts := &testServer{Addr: ln.Addr().String(), Store: st, Srv: srv, logs: logs}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if n := srv.RecoveredPanics(); n != ts.allowPanics {
			t.Errorf("server recovered %d panic(s), want %d", n, ts.allowPanics)
		}
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

// rawConn is a raw IMAP connection driven line by line.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// raw connects and reads the greeting.
func (ts *testServer) raw(t *testing.T) *rawConn {
	t.Helper()
	c := ts.dial(t)
	if g := c.readLine(); !strings.HasPrefix(g, "* OK ") {
		t.Fatalf("greeting: %q", g)
	}
	return c
}

// dial connects without reading anything.
func (ts *testServer) dial(t *testing.T) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", ts.Addr, testTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, c: nc, br: bufio.NewReader(nc)}
}

// rawLogin connects and logs in as user with LOGIN.
func (ts *testServer) rawLogin(t *testing.T, user string) *rawConn {
	t.Helper()
	c := ts.raw(t)
	lines := c.cmd("L0 LOGIN " + user + " password")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "L0 OK ") {
		t.Fatalf("login %s: %q", user, lines)
	}
	return c
}

// send writes line and CRLF.
func (c *rawConn) send(line string) {
	c.t.Helper()
	c.write(line + "\r\n")
}

// write writes s as is.
func (c *rawConn) write(s string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(testTimeout))
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// cmd sends tagAndCommand and returns the response lines up to and
// including the tagged one.
func (c *rawConn) cmd(tagAndCommand string) []string {
	c.t.Helper()
	tag, _, _ := strings.Cut(tagAndCommand, " ")
	c.send(tagAndCommand)
	return c.readUntilTagged(tag)
}

// readUntilTagged reads lines up to and including the tagged response.
func (c *rawConn) readUntilTagged(tag string) []string {
	c.t.Helper()
	var lines []string
	for {
		l := c.readLine()
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			return lines
		}
	}
}

// readLine reads one response line without its CRLF. A literal ({n} or
// ~{n} at the end of a line) is included inline: the line keeps "{n}\r\n",
// then the n bytes, then the rest of the response.
func (c *rawConn) readLine() string {
	c.t.Helper()
	var sb strings.Builder
	for {
		c.c.SetReadDeadline(time.Now().Add(testTimeout))
		l, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read line (so far %q): %v", sb.String()+l, err)
		}
		l = strings.TrimSuffix(l, "\n")
		l = strings.TrimSuffix(l, "\r")
		n, ok := literalSuffix(l)
		if !ok {
			sb.WriteString(l)
			return sb.String()
		}
		sb.WriteString(l)
		sb.WriteString("\r\n")
		buf := make([]byte, n)
		if _, err := ioReadFull(c, buf); err != nil {
			c.t.Fatalf("read literal of %d bytes: %v", n, err)
		}
		sb.Write(buf)
	}
}

func ioReadFull(c *rawConn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		c.c.SetReadDeadline(time.Now().Add(testTimeout))
		m, err := c.br.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// literalSuffix parses a trailing "{n}" of a response line.
func literalSuffix(l string) (int, bool) {
	if !strings.HasSuffix(l, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(l[i+1 : len(l)-1])
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// expect reads len(want) lines and compares each exactly.
func (c *rawConn) expect(want ...string) {
	c.t.Helper()
	for i, w := range want {
		if got := c.readLine(); got != w {
			c.t.Fatalf("line %d: got %q, want %q", i+1, got, w)
		}
	}
}

// expectCmd runs a command and compares its whole response exactly.
func (c *rawConn) expectCmd(tagAndCommand string, want ...string) {
	c.t.Helper()
	got := c.cmd(tagAndCommand)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		c.t.Fatalf("%s:\ngot:\n  %s\nwant:\n  %s", tagAndCommand,
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// expectClosed reads until EOF and fails if the server keeps the
// connection open.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(testTimeout))
	rest, err := c.br.ReadString(0)
	if err == nil {
		c.t.Fatalf("connection still open, read %q", rest)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatalf("connection not closed (read %q)", rest)
	}
	if rest != "" {
		c.t.Fatalf("unexpected data before close: %q", rest)
	}
}

// client returns a go-imap v2 client logged in as user.
func (ts *testServer) client(t *testing.T, user string) *imapclient.Client {
	t.Helper()
	cl, err := imapclient.DialInsecure(ts.Addr, nil)
	if err != nil {
		t.Fatalf("imapclient dial: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	if err := cl.Login(user, "password").Wait(); err != nil {
		t.Fatalf("imapclient login %s: %v", user, err)
	}
	return cl
}

// account opens user's account in the store.
func (ts *testServer) account(t testing.TB, user string) store.Account {
	t.Helper()
	ctx := context.Background()
	u, err := ts.Store.User(ctx, user)
	if err != nil {
		t.Fatalf("user %s: %v", user, err)
	}
	a, err := ts.Store.Account(ctx, u.ID)
	if err != nil {
		t.Fatalf("account %s: %v", user, err)
	}
	return a
}

// mailbox looks up a mailbox of user in the store.
func (ts *testServer) mailbox(t testing.TB, user, name string) store.Mailbox {
	t.Helper()
	mb, err := ts.account(t, user).Mailbox(context.Background(), name)
	if err != nil {
		t.Fatalf("mailbox %s of %s: %v", name, user, err)
	}
	return mb
}

// deliver appends rawMessage to user's mailbox directly in the store and
// returns its UID.
func (ts *testServer) deliver(t *testing.T, user, mailbox, rawMessage string, flags ...string) uint32 {
	t.Helper()
	a := ts.account(t, user)
	mb := ts.mailbox(t, user, mailbox)
	res, err := a.Append(context.Background(), mb.ID, store.AppendRequest{
		Body:  strings.NewReader(rawMessage),
		Size:  int64(len(rawMessage)),
		Flags: flags,
	})
	if err != nil {
		t.Fatalf("deliver to %s/%s: %v", user, mailbox, err)
	}
	return res.UID
}

// crlf converts "\n" line ends to "\r\n" for message fixtures.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// harnessMessage is a small valid message; i makes its subject unique.
func harnessMessage(i int) string {
	return crlf(fmt.Sprintf("From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: test %d\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <m%d@example.org>\n\nHello %d.\n", i, i, i))
}
