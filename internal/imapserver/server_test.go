package imapserver

import (
	"net"
	"testing"
	"time"
)

func (ts *testServer) tryDial() (net.Conn, error) {
	return net.DialTimeout("tcp", ts.Addr, testTimeout)
}

func TestConnectionLimitPerIP(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxConnsPerIP = 2 })
	a := ts.raw(t)
	ts.raw(t)
	over := ts.dial(t)
	over.expect("* BYE Too many connections from your address")
	over.expectClosed()
	// A slot frees up when a connection ends.
	a.expectCmd("x LOGOUT", "* BYE Logging out", "x OK LOGOUT completed")
	a.expectClosed()
	deadline := time.Now().Add(testTimeout)
	for {
		c := ts.dial(t)
		l := c.readLine()
		if l != "* BYE Too many connections from your address" {
			if l[:5] != "* OK " {
				t.Fatalf("greeting %q", l)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slot never freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeAfterShutdown(t *testing.T) {
	ts := newTestServer(t)
	ts.Srv.Shutdown(t.Context())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Srv.Serve(ln, false); err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if err := ts.Srv.Serve(ln, true); err == nil {
		t.Fatal("implicit TLS without TLS config: no error")
	}
}
