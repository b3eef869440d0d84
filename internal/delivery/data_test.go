package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/casier/casier/internal/store/sqlite"
)

func TestReceive(t *testing.T) {
	for _, tc := range []struct {
		in      io.Reader
		max     int64
		want    string
		n       int64
		wantErr error
	}{
		{in: strings.NewReader("12345678"), max: 8, want: "12345678", n: 8},
		{in: strings.NewReader("123456789"), max: 8, n: 9, wantErr: errTooBig},
		// go-smtp's reader at its limit.
		{in: io.MultiReader(strings.NewReader("123"), iotest.ErrReader(smtp.ErrDataTooLarge)), max: 8, n: 3, wantErr: errTooBig},
		{in: io.MultiReader(strings.NewReader("123"), iotest.ErrReader(io.ErrUnexpectedEOF)), max: 8, n: 3, wantErr: io.ErrUnexpectedEOF},
	} {
		sp := newSpool(4, t.TempDir()) // goes to a file after 4 octets
		n, err := receive(iotest.HalfReader(tc.in), sp, tc.max, nil)
		got, _ := io.ReadAll(sp.Reader())
		if n != tc.n || !errors.Is(err, tc.wantErr) || tc.wantErr == nil && string(got) != tc.want {
			t.Errorf("max %d: n=%d err=%v got %q", tc.max, n, err, got)
		}
		sp.Close()
	}
	// The deadline is extended as data arrives.
	sp := newSpool(1<<20, t.TempDir())
	defer sp.Close()
	refreshed := 0
	if _, err := receive(strings.NewReader(strings.Repeat("x", 3*refreshEvery)), sp, 1<<30, func() { refreshed++ }); err != nil || refreshed != 3 {
		t.Fatalf("err %v, %d refreshes", err, refreshed)
	}
}

func TestSplitPath(t *testing.T) {
	for _, tc := range []struct {
		in                    string
		utf8                  bool
		local, domain, header string
		bad                   bool
	}{
		{in: "alice@Example.ORG", local: "alice", domain: "example.org", header: "alice@Example.ORG"},
		{in: "a b\"c@example.org", local: `a b"c`, domain: "example.org", header: `"a b\"c"@example.org`},
		{in: "a@b@example.org", local: "a@b", domain: "example.org", header: `"a@b"@example.org`},
		{in: ".a@example.org", local: ".a", domain: "example.org", header: `".a"@example.org`},
		{in: "u+d@[127.0.0.1]", local: "u+d", domain: "[127.0.0.1]", header: "u+d@[127.0.0.1]"},
		{in: "bøb@exämple.org", utf8: true, local: "bøb", domain: "exämple.org", header: "bøb@exämple.org"},
		{in: "bøb@example.org", bad: true},
		{in: "alice", bad: true},
		{in: "@example.org", bad: true},
		{in: "alice@", bad: true},
		{in: "alice@exa mple.org", bad: true},
		{in: "alice@ex<ample.org", bad: true},
		{in: "alice@example..org", bad: true},
		{in: "alice@[1.2.3.4", bad: true},
		{in: "a\x01b@example.org", bad: true},
		{in: "a\rb@example.org", bad: true},
		{in: "\xff@example.org", utf8: true, bad: true},
		{in: strings.Repeat("a", 250) + "@example.org", bad: true},
	} {
		p, err := splitPath(tc.in, tc.utf8)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if !tc.bad && (p.addr != tc.in || p.local != tc.local || p.domain != tc.domain || p.header != tc.header) {
			t.Errorf("%q: got %+v", tc.in, p)
		}
	}
}

func FuzzSplitPath(f *testing.F) {
	for _, s := range []string{"a@b", `x"y@z`, "a@[1.2.3.4]", "a+b@c", "a@b@c", "ü@ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := splitPath(s, true)
		if err != nil {
			return
		}
		// What we write into header fields stays on one line and within
		// the trace reserve.
		if len(p.header) > 2*maxPathLen+2 || strings.ContainsAny(p.header, "\r\n\x00") || p.local == "" || p.domain == "" {
			t.Fatalf("%q parsed to %+v", s, p)
		}
		if p.local+"@"+s[len(p.local)+1:] != s {
			t.Fatalf("%q split into %q and %q", s, p.local, p.domain)
		}
	})
}

// pipeListener hands the server the ends of in-memory pipes.
type pipeListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "unix"} }

// closeNotifier reports when the server closes its end.
type closeNotifier struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *closeNotifier) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// FuzzSession feeds arbitrary bytes to a connection, reaching every state
// (greeting, transaction, DATA, BDAT); the server must not panic (go-smtp
// recovers and logs) and must end the connection when the client does.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@x.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
		"LHLO x\r\nMAIL FROM:<> SIZE=99999999999999999999\r\nRCPT TO:<\"\r\n",
		"lhlo x\nmail from:<a@b> smtputf8\nrcpt to:<alice+x/y@example.org>\nrcpt to:<alice+x/y@example.org>\nbdat 3\nabcBDAT 0 LAST\r\n",
		"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@b>\r\nDATA\r\n" + strings.Repeat("y", 5000) + "\r\n.\r\nRSET\r\n",
	} {
		f.Add(s)
	}
	st, err := sqlite.Open(f.TempDir(), sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateUser(context.Background(), "alice", "x"); err != nil {
		f.Fatal(err)
	}
	logs := &lockedBuffer{}
	srv := New(Options{Timeout: time.Second, MaxMessageSize: 4096, MaxLineLength: 1000, TempDir: f.TempDir(),
		Logger: slog.New(slog.NewTextHandler(logs, nil))}, st)
	ln := &pipeListener{ch: make(chan net.Conn), done: make(chan struct{})}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	f.Fuzz(func(t *testing.T, s string) {
		a, b := net.Pipe()
		sc := &closeNotifier{Conn: a, closed: make(chan struct{})}
		ln.ch <- sc
		go io.Copy(io.Discard, b)
		b.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(b, s)
		b.Close()
		select {
		case <-sc.closed:
		case <-time.After(5 * time.Second):
			t.Fatal("connection not closed by the server")
		}
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("panic:\n%s", logs.String())
		}
	})
}
