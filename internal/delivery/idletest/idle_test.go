package idletest

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/delivery"
	"github.com/casier/casier/internal/imapserver"
	"github.com/casier/casier/internal/store/sqlite"
)

const timeout = 5 * time.Second

// TestIdleSeesDelivery: an IMAP session idling on INBOX gets "* 1 EXISTS"
// after an LMTP delivery, without sending anything (RFC 2177), because
// Append publishes on the store's hub before LMTP answers 250.
func TestIdleSeesDelivery(t *testing.T) {
	auth.HashParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	hash, err := auth.HashPassword("password")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateUser(context.Background(), "alice", hash); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	imap := imapserver.New(imapserver.Config{Hostname: "localhost", IdleTimeout: time.Minute, TempDir: t.TempDir(), Logger: log},
		st, auth.New(st, auth.ThrottleConfig{}, log))
	iln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go imap.Serve(iln, false)
	lmtp := delivery.New(delivery.Options{Hostname: "mx.test", Domains: []string{"example.org"}, Timeout: timeout, TempDir: t.TempDir(), Logger: log}, st)
	lln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go lmtp.Serve(lln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		lmtp.Shutdown(ctx)
		imap.Shutdown(ctx)
	}()

	nc, err := net.Dial("tcp", iln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	// readUntil reads lines up to one starting with prefix and returns it.
	readUntil := func(prefix string) string {
		t.Helper()
		nc.SetReadDeadline(time.Now().Add(timeout))
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(l, prefix) {
				return strings.TrimRight(l, "\r\n")
			}
		}
	}
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(nc, s+"\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	readUntil("* OK")
	send("a LOGIN alice password")
	readUntil("a OK")
	send("b SELECT INBOX")
	readUntil("* 0 EXISTS")
	readUntil("b OK")
	send("c IDLE")
	readUntil("+ ")

	lc, err := net.Dial("tcp", lln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cl := smtp.NewClientLMTP(lc)
	defer cl.Close()
	if err := cl.SendMail("bob@example.net", []string{"alice@example.org"},
		strings.NewReader("Subject: new\r\n\r\nhello\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if l := readUntil("* "); l != "* 1 EXISTS" {
		t.Fatalf("during IDLE got %q, want * 1 EXISTS", l)
	}
	t.Logf("EXISTS arrived %v after the LMTP reply", time.Since(start))
	send("DONE")
	readUntil("c OK")
}
