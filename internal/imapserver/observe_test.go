package imapserver

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/metrics"
)

// countingClient is a raw IMAP client that counts what it sends and
// receives, to check the byte counts of the connection log line.
type countingClient struct {
	t        *testing.T
	c        net.Conn
	r        *bufio.Reader
	sent     int64
	received int64
}

func dialCounting(t *testing.T, addr string) *countingClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	cc := &countingClient{t: t, c: c, r: bufio.NewReader(c)}
	if g := cc.line(); !strings.HasPrefix(g, "* OK ") {
		t.Fatalf("greeting %q", g)
	}
	return cc
}

func (cc *countingClient) line() string {
	cc.t.Helper()
	l, err := cc.r.ReadString('\n')
	cc.received += int64(len(l))
	if err != nil {
		cc.t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// cmd sends "tag command" and returns the tagged response line.
func (cc *countingClient) cmd(tag, command string) string {
	cc.t.Helper()
	n, err := io.WriteString(cc.c, tag+" "+command+"\r\n")
	cc.sent += int64(n)
	if err != nil {
		cc.t.Fatal(err)
	}
	for {
		if l := cc.line(); strings.HasPrefix(l, tag+" ") {
			return l
		}
	}
}

// untilEOF reads the rest of what the server sends.
func (cc *countingClient) untilEOF() {
	rest, err := io.ReadAll(cc.r)
	cc.received += int64(len(rest))
	if err != nil {
		cc.t.Fatal(err)
	}
}

// logLines parses the JSON log lines whose msg is msg.
func logLines(t *testing.T, logs *lockedBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func scrapeMetrics(m *metrics.Metrics) string {
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// Commands, logins and connections reach the metrics hooks and the log:
// one line per failed command (no tag, with the response and duration)
// and one per connection end (with the bytes on the wire).
func TestObserveMetricsAndLog(t *testing.T) {
	m := metrics.New()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	ts := newTestServer(t, func(c *Config) {
		c.Metrics = m
		c.Logger = log
	})
	ts.allowPanics = 1
	m.WatchPanics(metrics.ComponentIMAP, ts.Srv.RecoveredPanics)

	c := dialCounting(t, ts.Addr)
	for _, x := range []struct{ tag, cmd, want string }{
		{"a1", "LOGIN alice wrong", "a1 NO [AUTHENTICATIONFAILED] Authentication failed"},
		{"a2", "LOGIN alice password", "a2 OK [CAPABILITY "},
		{"a3", "SELECT Nope", "a3 NO [NONEXISTENT] Mailbox does not exist"},
		{"a4", "FROBNICATE", "a4 BAD Unknown command"},
		{"a5", "SELECT INBOX", "a5 OK [READ-WRITE]"},
		{"a6", "XPANIC", "a6 BAD [SERVERBUG] Internal error"},
		{"a7", "LOGOUT", "a7 OK LOGOUT completed"},
	} {
		if got := c.cmd(x.tag, x.cmd); !strings.HasPrefix(got, x.want) {
			t.Fatalf("%s %s: got %q, want %q...", x.tag, x.cmd, got, x.want)
		}
	}
	c.untilEOF()

	plain := base64.StdEncoding.EncodeToString([]byte("\x00bob\x00password"))
	c2 := dialCounting(t, ts.Addr)
	if got := c2.cmd("b1", "AUTHENTICATE PLAIN "+plain); !strings.HasPrefix(got, "b1 OK ") {
		t.Fatalf("AUTHENTICATE PLAIN: %q", got)
	}
	c3 := dialCounting(t, ts.Addr)
	if got := c3.cmd("c1", "AUTHENTICATE X-SECRET-HANDSHAKE ="); got != "c1 NO Unsupported authentication mechanism" {
		t.Fatalf("AUTHENTICATE X-SECRET-HANDSHAKE: %q", got)
	}
	c2.c.Close()
	c3.c.Close()

	// Connection ends are counted when the server has noticed them.
	deadline := time.Now().Add(testTimeout)
	for !strings.Contains(scrapeMetrics(m), `casier_connections_current{kind="imap"} 0`+"\n") {
		if time.Now().After(deadline) {
			t.Fatalf("connections not all closed:\n%s", scrapeMetrics(m))
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := strings.Split(scrapeMetrics(m), "\n")
	for _, want := range []string{
		`casier_connections_total{kind="imap"} 3`,
		`casier_connections_total{kind="imaps"} 0`,
		`casier_imap_commands_total{command="LOGIN",result="NO"} 1`,
		`casier_imap_commands_total{command="LOGIN",result="OK"} 1`,
		`casier_imap_commands_total{command="SELECT",result="NO"} 1`,
		`casier_imap_commands_total{command="SELECT",result="OK"} 1`,
		`casier_imap_commands_total{command="unknown",result="BAD"} 1`,
		`casier_imap_commands_total{command="XPANIC",result="BAD"} 1`,
		`casier_imap_commands_total{command="LOGOUT",result="OK"} 1`,
		`casier_imap_commands_total{command="AUTHENTICATE",result="OK"} 1`,
		`casier_imap_commands_total{command="AUTHENTICATE",result="NO"} 1`,
		`casier_imap_command_duration_seconds_count{command="SELECT"} 2`,
		`casier_imap_command_duration_seconds_count{command="unknown"} 1`,
		`casier_logins_total{mechanism="LOGIN",result="failure"} 1`,
		`casier_logins_total{mechanism="LOGIN",result="success"} 1`,
		`casier_logins_total{mechanism="PLAIN",result="success"} 1`,
		`casier_logins_total{mechanism="other",result="refused"} 1`,
		`casier_panics_recovered_total{component="imap"} 1`,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", strings.Join(got, "\n"))
	}

	// The failed SELECT: one line, its attributes exactly these.
	var sel map[string]any
	for _, rec := range logLines(t, logs, "imap command failed") {
		if rec["cmd"] == "SELECT" {
			if sel != nil {
				t.Fatalf("two log lines for the failed SELECT")
			}
			sel = rec
		}
	}
	if sel == nil {
		t.Fatalf("no log line for the failed SELECT:\n%s", logs)
	}
	d, ok := sel["duration"].(float64) // JSON: nanoseconds
	if !ok || d < 0 || d > float64(testTimeout) {
		t.Errorf("duration %v", sel["duration"])
	}
	delete(sel, "time")
	delete(sel, "duration")
	want := map[string]any{
		"level": "INFO", "msg": "imap command failed", "remote": "127.0.0.1", "user": "alice",
		"cmd": "SELECT", "result": "NO", "code": "NONEXISTENT", "text": "Mailbox does not exist",
	}
	if !mapsEqual(sel, want) {
		t.Errorf("SELECT log line %v, want %v", sel, want)
	}

	// Connection ends: the first connection's bytes as the client counted
	// them (it read until EOF, so the server wrote nothing more).
	var closed map[string]any
	for _, rec := range logLines(t, logs, "imap connection closed") {
		if rec["user"] == "alice" {
			closed = rec
		}
	}
	if closed == nil {
		t.Fatalf("no connection closed line for alice:\n%s", logs)
	}
	if closed["kind"] != "imap" || closed["remote"] != "127.0.0.1" ||
		closed["bytes_in"] != float64(c.sent) || closed["bytes_out"] != float64(c.received) {
		t.Errorf("closed line %v; want kind imap, bytes_in %d, bytes_out %d", closed, c.sent, c.received)
	}
	if n := len(logLines(t, logs, "imap connection open")); n != 3 {
		t.Errorf("%d connection open lines, want 3", n)
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestLoginResult(t *testing.T) {
	for _, x := range []struct {
		err  error
		want string
	}{
		{nil, metrics.LoginSuccess},
		{errNo("AUTHENTICATIONFAILED", "Authentication failed"), metrics.LoginFailure},
		{errNo("AUTHORIZATIONFAILED", "no"), metrics.LoginFailure},
		{errNo("PRIVACYREQUIRED", "no"), metrics.LoginRefused},
		{errBad("", "Authentication cancelled"), metrics.LoginRefused},
		{errResponded, metrics.LoginRefused},
		{errBye("Server shutting down"), metrics.LoginError},
		{io.ErrUnexpectedEOF, metrics.LoginError}, // SERVERBUG
	} {
		if got := loginResult(x.err); got != x.want {
			t.Errorf("loginResult(%v) = %q, want %q", x.err, got, x.want)
		}
	}
}
