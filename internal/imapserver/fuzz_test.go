package imapserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// FuzzSession sends arbitrary bytes to a real server in each connection
// state (not authenticated, authenticated, selected) and requires that no
// handler panics and that the server ends the connection cleanly when the
// client stops sending.
func FuzzSession(f *testing.F) {
	// Only errors (panics among them) are logged: fuzzing makes many
	// connections.
	logs := &lockedBuffer{}
	ts := startTestServer(f, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
		c.MaxConnsPerIP = -1
		c.MaxLineLength = 4096
		c.MaxLiteralSize = 64 << 10
		c.MaxMessageSize = 64 << 10
	})
	for _, seed := range []string{
		"a NOOP\r\n",
		"a CAPABILITY\r\nb ID (\"name\" \"x\")\r\nc ENABLE IMAP4rev2 UTF8=ACCEPT\r\n",
		"a LOGIN alice password\r\nb SELECT INBOX\r\n",
		"a AUTHENTICATE PLAIN\r\nAGFsaWNlAHBhc3N3b3Jk\r\nb NOOP\r\n",
		"a AUTHENTICATE PLAIN AGFsaWNlAHBhc3N3b3Jk\r\n",
		"a STARTTLS\r\n",
		"a SELECT INBOX\r\nb FETCH 1:* (FLAGS UID BODY.PEEK[HEADER] BODYSTRUCTURE)\r\nc CLOSE\r\n",
		"a EXAMINE \"Sent\"\r\nb UNSELECT\r\nc SELECT {5}\r\nINBOX\r\n",
		"a APPEND INBOX (\\Seen) {12+}\r\nSubject: x\r\n\r\nb IDLE\r\nDONE\r\n",
		"a IDLE\r\nDONE\r\nb NAMESPACE\r\n",
		"a UID STORE 1:* +FLAGS (\\Deleted)\r\nb EXPUNGE\r\nc UID SEARCH ALL\r\n",
		"a LIST \"\" *\r\nb STATUS INBOX (MESSAGES UIDNEXT SIZE)\r\nc CREATE x/y\r\nd DELETE x/y\r\n",
		"a COPY 1:* Trash\r\nb MOVE 1 Junk\r\nc SEARCH OR SEEN UNSEEN\r\n",
		"* BAD\r\n\r\n\r\na\r\n{5}\r\n+\r\n",
		"a SELECT INBOX ~{3}\r\n",
		"a LOGOUT\r\n",
	} {
		for mode := uint8(0); mode < 3; mode++ {
			f.Add(mode, []byte(seed))
		}
	}
	// Each run gets a fresh user with one message, so that what earlier
	// runs appended does not slow later ones down.
	hash := testPasswordHash(f)
	var users atomic.Int64
	f.Fuzz(func(t *testing.T, mode uint8, data []byte) {
		user := fmt.Sprintf("fz%d", users.Add(1))
		if _, err := ts.Store.CreateUser(context.Background(), user, hash); err != nil {
			t.Fatal(err)
		}
		ts.deliver(t, user, "INBOX", harnessMessage(1))
		login := "L LOGIN " + user + " password\r\n"
		nc, err := net.DialTimeout("tcp", ts.Addr, testTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(nc)
		readTagged := func(tag string) {
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("waiting for %s: %v", tag, err)
				}
				if strings.HasPrefix(l, tag+" ") {
					if !strings.HasPrefix(l, tag+" OK") {
						t.Fatalf("setup: %q", l)
					}
					return
				}
			}
		}
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatalf("greeting: %v", err)
		}
		switch mode % 3 {
		case 1:
			io.WriteString(nc, login)
			readTagged("L")
		case 2:
			io.WriteString(nc, login+"S SELECT INBOX\r\n")
			readTagged("L")
			readTagged("S")
		}
		go func() {
			nc.Write(data)
			nc.(*net.TCPConn).CloseWrite()
		}()
		// The server must answer and close once input ends: read to EOF.
		if _, err := io.Copy(io.Discard, br); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("server did not close the connection: %v", err)
			}
		}
		if n := ts.Srv.RecoveredPanics(); n != 0 {
			t.Fatalf("server recovered %d panic(s); log:\n%s", n, logs.String())
		}
	})
}
