package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casier/casier/internal/store/sqlite"
)

const (
	kills      = 3
	workers    = 4
	password   = "crash-test-password"
	ioTimeout  = 10 * time.Second
	startLimit = 15 * time.Second
)

// buildCasier compiles cmd/casier into dir.
func buildCasier(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "casier")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/casier/casier/cmd/casier")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// server is one run of "casier serve".
type server struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs the server on data and waits until addr answers.
func startServer(t *testing.T, bin, data, addr string) *server {
	t.Helper()
	s := &server{stderr: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve", "--data", data, "--imap", addr, "--imaps", "", "--lmtp", "",
		"--hostname", "localhost", "--log-level", "warn")
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	deadline := time.Now().Add(startLimit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("server exited at start: %v\n%s", err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server does not listen on %s: %v\n%s", addr, err, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to end.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-s.done
	s.done <- nil
}

// stop sends SIGTERM and requires a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Fatalf("server exit after SIGTERM: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(startLimit):
		t.Fatalf("server did not stop after SIGTERM\n%s", s.stderr.String())
	}
}

// conn is a raw IMAP client connection.
type conn struct {
	c   net.Conn
	br  *bufio.Reader
	tag int
}

func dial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, err
	}
	c := &conn{c: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	if g, err := c.readLine(); err != nil || !strings.HasPrefix(g, "* OK ") {
		nc.Close()
		return nil, fmt.Errorf("greeting %q: %v", g, err)
	}
	return c, nil
}

// login dials and logs in as alice.
func login(addr string) (*conn, error) {
	c, err := dial(addr)
	if err != nil {
		return nil, err
	}
	lines, err := c.cmd("LOGIN alice " + password)
	if err != nil {
		c.c.Close()
		return nil, err
	}
	if !strings.Contains(lines[len(lines)-1], " OK ") {
		c.c.Close()
		return nil, fmt.Errorf("login: %q", lines)
	}
	return c, nil
}

// readLine reads one response line; literals are inlined as "{n}\r\n" and
// their n octets.
func (c *conn) readLine() (string, error) {
	var sb strings.Builder
	for {
		c.c.SetReadDeadline(time.Now().Add(ioTimeout))
		l, err := c.br.ReadString('\n')
		if err != nil {
			return sb.String() + l, err
		}
		l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
		sb.WriteString(l)
		n, ok := literalSuffix(l)
		if !ok {
			return sb.String(), nil
		}
		sb.WriteString("\r\n")
		buf := make([]byte, n)
		if _, err := readFull(c, buf); err != nil {
			return sb.String(), err
		}
		sb.Write(buf)
	}
}

func readFull(c *conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		c.c.SetReadDeadline(time.Now().Add(ioTimeout))
		m, err := c.br.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func literalSuffix(l string) (int, bool) {
	if !strings.HasSuffix(l, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(l[i+1 : len(l)-1])
	return n, err == nil && n >= 0
}

// send writes a raw command (which may carry LITERAL+ literals) under a
// new tag and reads up to the tagged response.
func (c *conn) send(raw string) ([]string, error) {
	c.tag++
	tag := "t" + strconv.Itoa(c.tag)
	c.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.c.Write([]byte(tag + " " + raw + "\r\n")); err != nil {
		return nil, err
	}
	var lines []string
	for {
		l, err := c.readLine()
		if err != nil {
			return lines, err
		}
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			return lines, nil
		}
	}
}

func (c *conn) cmd(line string) ([]string, error) { return c.send(line) }

// acked is an APPEND the server answered OK.
type acked struct {
	uidValidity, uid uint32
	body             string
	seen             bool
}

// journal records what clients sent and what the server acknowledged.
type journal struct {
	mu   sync.Mutex
	sent map[string]string // Message-ID -> body, every APPEND attempted
	acks []acked
}

var (
	reAppendUID = regexp.MustCompile(`^t\d+ OK \[APPENDUID (\d+) (\d+)\] `)
	reMsgID     = regexp.MustCompile(`(?m)^Message-ID: <([^>]+)>\r$`)
)

// newMessage makes a unique message; most are small, a few pass the
// 1 MiB spill threshold of the codec so that path is crashed too.
func newMessage(r *rand.Rand, id string) string {
	size := 200 + r.IntN(48<<10)
	if r.IntN(40) == 0 {
		size = 1<<20 + r.IntN(256<<10)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: crash@example.org\r\nTo: alice@example.org\r\nSubject: crash %s\r\nMessage-ID: <%s>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n", id, id)
	line := strings.Repeat(string(rune('a'+r.IntN(26))), 70) + "\r\n"
	for b.Len() < size {
		b.WriteString(id + " " + line)
	}
	return b.String()
}

// appendLoop appends messages until the connection breaks or stop closes.
func appendLoop(addr string, w, round int, j *journal, stop <-chan struct{}) {
	c, err := login(addr)
	if err != nil {
		return
	}
	defer c.c.Close()
	r := rand.New(rand.NewPCG(uint64(w), uint64(round)))
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		id := fmt.Sprintf("r%d-w%d-i%d@crash.test", round, w, i)
		body := newMessage(r, id)
		seen := r.IntN(2) == 0
		flags := ""
		if seen {
			flags = `(\Seen) `
		}
		j.mu.Lock()
		j.sent[id] = body
		j.mu.Unlock()
		lines, err := c.send("APPEND INBOX " + flags + "{" + strconv.Itoa(len(body)) + "+}\r\n" + body)
		if err != nil || len(lines) == 0 {
			return
		}
		m := reAppendUID.FindStringSubmatch(lines[len(lines)-1])
		if m == nil {
			return
		}
		uv, _ := strconv.ParseUint(m[1], 10, 32)
		uid, _ := strconv.ParseUint(m[2], 10, 32)
		j.mu.Lock()
		j.acks = append(j.acks, acked{uint32(uv), uint32(uid), body, seen})
		j.mu.Unlock()
	}
}

var (
	reStatus = regexp.MustCompile(`^\* STATUS INBOX \((.*)\)$`)
	reFetch  = regexp.MustCompile(`^\* \d+ FETCH \(`)
	reUID    = regexp.MustCompile(`\bUID (\d+)`)
	reFlags  = regexp.MustCompile(`\bFLAGS \(([^)]*)\)`)
	reSize   = regexp.MustCompile(`\bRFC822\.SIZE (\d+)`)
)

// verify checks the mailbox against the journal after a restart.
func verify(t *testing.T, addr string, j *journal) {
	t.Helper()
	c, err := login(addr)
	if err != nil {
		t.Fatalf("login after restart: %v", err)
	}
	defer c.c.Close()

	lines, err := c.cmd("STATUS INBOX (MESSAGES UNSEEN SIZE UIDNEXT UIDVALIDITY)")
	if err != nil {
		t.Fatalf("STATUS: %v", err)
	}
	status := map[string]uint64{}
	for _, l := range lines {
		if m := reStatus.FindStringSubmatch(l); m != nil {
			f := strings.Fields(m[1])
			for i := 0; i+1 < len(f); i += 2 {
				status[f[i]], _ = strconv.ParseUint(f[i+1], 10, 64)
			}
		}
	}
	if len(status) != 5 {
		t.Fatalf("STATUS: %q", lines)
	}

	if lines, err = c.cmd("EXAMINE INBOX"); err != nil || !strings.Contains(lines[len(lines)-1], " OK ") {
		t.Fatalf("EXAMINE: %q %v", lines, err)
	}
	lines, err = c.cmd("UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[])")
	if err != nil || !strings.Contains(lines[len(lines)-1], " OK ") {
		t.Fatalf("UID FETCH: %v (%d lines)", err, len(lines))
	}
	type stored struct {
		body string
		seen bool
		size uint64
	}
	got := map[uint32]stored{}
	var unseen, size uint64
	var maxUID uint32
	for _, l := range lines[:len(lines)-1] {
		if !reFetch.MatchString(l) {
			continue
		}
		// The literal is the last item: split the attributes before it.
		head, body, ok := strings.Cut(l, "}\r\n")
		if !ok {
			t.Fatalf("FETCH without body literal: %.200q", l)
		}
		n, _ := literalSuffix(head + "}")
		if len(body) < n {
			t.Fatalf("short literal in %.200q", l)
		}
		rest := body[n:]
		body = body[:n]
		attrs := head + " " + rest
		um, fm, sm := reUID.FindStringSubmatch(attrs), reFlags.FindStringSubmatch(attrs), reSize.FindStringSubmatch(attrs)
		if um == nil || fm == nil || sm == nil {
			t.Fatalf("FETCH attributes: %.300q", attrs)
		}
		u64, _ := strconv.ParseUint(um[1], 10, 32)
		uid := uint32(u64)
		if _, dup := got[uid]; dup {
			t.Errorf("UID %d returned twice", uid)
		}
		sz, _ := strconv.ParseUint(sm[1], 10, 64)
		seen := strings.Contains(fm[1], `\Seen`)
		got[uid] = stored{body, seen, sz}
		if !seen {
			unseen++
		}
		size += sz
		maxUID = max(maxUID, uid)
		if sz != uint64(len(body)) {
			t.Errorf("UID %d: RFC822.SIZE %d, body %d octets", uid, sz, len(body))
		}
		// Every stored message is one that a client sent, whole: nothing
		// torn or mixed, even among the unacknowledged ones.
		id := reMsgID.FindStringSubmatch(body)
		j.mu.Lock()
		sent, ok := "", id != nil
		if ok {
			sent, ok = j.sent[id[1]]
		}
		j.mu.Unlock()
		if !ok || sent != body {
			t.Errorf("UID %d: %d octets that no client sent", uid, len(body))
		}
	}

	j.mu.Lock()
	acks := append([]acked(nil), j.acks...)
	j.mu.Unlock()
	seenUIDs := map[uint32]bool{}
	for _, a := range acks {
		if seenUIDs[a.uid] {
			t.Errorf("APPENDUID %d acknowledged twice", a.uid)
		}
		seenUIDs[a.uid] = true
		if uint64(a.uidValidity) != status["UIDVALIDITY"] {
			t.Errorf("APPENDUID UIDVALIDITY %d, STATUS says %d", a.uidValidity, status["UIDVALIDITY"])
		}
		s, ok := got[a.uid]
		switch {
		case !ok:
			t.Errorf("acknowledged UID %d is missing", a.uid)
		case s.body != a.body:
			t.Errorf("UID %d: %d octets stored, %d acknowledged, contents differ", a.uid, len(s.body), len(a.body))
		case s.seen != a.seen:
			t.Errorf("UID %d: \\Seen %v, appended with %v", a.uid, s.seen, a.seen)
		}
	}
	if status["MESSAGES"] != uint64(len(got)) || status["UNSEEN"] != unseen || status["SIZE"] != size {
		t.Errorf("STATUS %v; FETCH shows %d messages, %d unseen, %d octets", status, len(got), unseen, size)
	}
	if uint64(maxUID) >= status["UIDNEXT"] {
		t.Errorf("UIDNEXT %d not above the highest UID %d", status["UIDNEXT"], maxUID)
	}
	t.Logf("after restart: %d messages (%d acknowledged so far), %d octets", len(got), len(acks), size)
}

// TestKillDuringAppend kills the server with SIGKILL while clients append,
// restarts it and checks that nothing acknowledged was lost or changed.
func TestKillDuringAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	tmp := t.TempDir()
	bin := buildCasier(t, tmp)
	data := filepath.Join(tmp, "data")
	add := exec.Command(bin, "user", "add", "--data", data, "alice")
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	j := &journal{sent: map[string]string{}}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	srv := startServer(t, bin, data, addr)
	for round := range kills {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				appendLoop(addr, w, round, j, stop)
			}()
		}
		time.Sleep(time.Duration(1000+rng.IntN(1500)) * time.Millisecond)
		srv.kill(t)
		close(stop)
		wg.Wait()
		srv = startServer(t, bin, data, addr)
		verify(t, addr, j)
		if t.Failed() {
			t.Logf("server log:\n%s", srv.stderr.String())
			return
		}
	}
	if len(j.acks) == 0 {
		t.Fatal("no APPEND was acknowledged: the test proved nothing")
	}

	// A clean stop, then the store opens cleanly in process and agrees.
	srv.stop(t)
	st, err := sqlite.Open(data, sqlite.Options{NoSweep: true})
	if err != nil {
		t.Fatalf("store does not open after the crashes: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	u, err := st.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Account(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := a.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := a.Status(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if int(ms.Messages) < len(j.acks) {
		t.Errorf("store has %d messages, %d were acknowledged", ms.Messages, len(j.acks))
	}
	if left, _ := filepath.Glob(filepath.Join(data, "tmp", "*")); len(left) > 0 {
		t.Logf("note: %d spilled-literal file(s) left in %s by the kills", len(left), filepath.Join(data, "tmp"))
	}
	if err := os.RemoveAll(data); err != nil {
		t.Log(err)
	}
}
