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
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

const timeout = 5 * time.Second

// env is an IMAP server and an LMTP server over one store, in process.
type env struct {
	Store    store.Store
	IMAPAddr string
	LMTPAddr string
	LMTP     *delivery.Server
}

// newEnv starts both servers over a fresh store holding users (password
// "password"); the LMTP server serves example.org and example.net.
// lmtpOpts may change the LMTP options.
func newEnv(t *testing.T, users []string, lmtpOpts ...func(*delivery.Options)) *env {
	t.Helper()
	auth.HashParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	hash, err := auth.HashPassword("password")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := st.CreateUser(context.Background(), u, hash); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	imap := imapserver.New(imapserver.Config{Hostname: "localhost", IdleTimeout: time.Minute, TempDir: t.TempDir(), Logger: log},
		st, auth.New(st, auth.ThrottleConfig{}, log))
	iln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go imap.Serve(iln, false)
	o := delivery.Options{Hostname: "mx.test", Domains: []string{"example.org", "example.net"}, Timeout: timeout, TempDir: t.TempDir(), Logger: log}
	for _, f := range lmtpOpts {
		f(&o)
	}
	lmtp := delivery.New(o, st)
	lln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go lmtp.Serve(lln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		lmtp.Shutdown(ctx)
		imap.Shutdown(ctx)
		if n := lmtp.RecoveredPanics(); n != 0 {
			t.Errorf("LMTP server recovered %d panics", n)
		}
		if n := imap.RecoveredPanics(); n != 0 {
			t.Errorf("IMAP server recovered %d panics", n)
		}
		st.Close()
	})
	return &env{Store: st, IMAPAddr: iln.Addr().String(), LMTPAddr: lln.Addr().String(), LMTP: lmtp}
}

// TestIdleSeesDelivery: an IMAP session idling on INBOX gets "* 1 EXISTS"
// after an LMTP delivery, without sending anything (RFC 2177), because
// Append publishes on the store's hub before LMTP answers 250.
func TestIdleSeesDelivery(t *testing.T) {
	e := newEnv(t, []string{"alice"})
	nc, err := net.Dial("tcp", e.IMAPAddr)
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

	lc, err := net.Dial("tcp", e.LMTPAddr)
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
