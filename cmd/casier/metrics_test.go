package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrapeMetrics fetches http://addr/metrics and returns its lines.
func scrapeMetrics(t *testing.T, addr string) []string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %v, status %d", err, resp.StatusCode)
	}
	return strings.Split(string(body), "\n")
}

// lmtpDeliver delivers msg to rcpt over LMTP and checks each reply.
func lmtpDeliver(t *testing.T, addr, from, rcpt, msg string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	// reply reads one (possibly multi-line) reply and returns its last line.
	reply := func() string {
		t.Helper()
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("LMTP read: %v", err)
			}
			if len(l) < 4 || l[3] != '-' {
				return strings.TrimSuffix(l, "\r\n")
			}
		}
	}
	step := func(send, wantPrefix string) {
		t.Helper()
		if send != "" {
			io.WriteString(c, send)
		}
		if got := reply(); !strings.HasPrefix(got, wantPrefix) {
			t.Fatalf("LMTP %q: got %q, want %q...", send, got, wantPrefix)
		}
	}
	step("", "220 ")
	step("LHLO client.test\r\n", "250 ")
	step("MAIL FROM:<"+from+">\r\n", "250 ")
	step("RCPT TO:<"+rcpt+">\r\n", "250 ")
	step("DATA\r\n", "354 ")
	step(msg+".\r\n", "250 2.0.0 <"+rcpt+"> delivered")
	step("QUIT\r\n", "221 ")
}

// casier serve --metrics: IMAP commands and an LMTP delivery show up in a
// scrape of /metrics, and a failed command gets its log line.
func TestServeMetrics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	imapAddr, lmtpAddr, metricsAddr := freePort(t), freePort(t), freePort(t)
	s := startServer(t, "--data", dir, "--imap", imapAddr, "--imaps", "", "--lmtp", lmtpAddr,
		"--metrics", metricsAddr, "--hostname", "mail.test")
	s.waitLog(t, "msg=listening addr="+metricsAddr+" kind=metrics\n")
	expect(t, "secret\n", []string{"user", "add", "alice", "--data", dir}, "user alice added\n", "", 0)

	msg := "From: bob@example.net\r\nSubject: hi\r\n\r\nHello.\r\n"
	lmtpDeliver(t, lmtpAddr, "bob@example.net", "alice@mail.test", msg)
	stored := int64(len("Return-Path: <bob@example.net>\r\nDelivered-To: alice@mail.test\r\n" + msg))

	c, err := net.Dial("tcp", imapAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ic := newIMAPConn(t, c)
	ic.line() // greeting
	for _, x := range []struct{ tag, cmd, want string }{
		{"a1", "LOGIN alice wrong", "a1 NO [AUTHENTICATIONFAILED]"},
		{"a2", "LOGIN alice secret", "a2 OK "},
		{"a3", "SELECT INBOX", "a3 OK [READ-WRITE]"},
		{"a4", "FETCH 1 (FLAGS)", "a4 OK "},
		{"a5", "SELECT Nope", "a5 NO [NONEXISTENT] Mailbox does not exist"},
		{"a6", "LOGOUT", "a6 OK "},
	} {
		if got := ic.cmd(x.tag, x.cmd); !strings.HasPrefix(got, x.want) {
			t.Fatalf("%s %s: got %q, want %q...", x.tag, x.cmd, got, x.want)
		}
	}
	s.waitLog(t, `msg="imap command failed" remote=127.0.0.1 user=alice cmd=SELECT result=NO code=NONEXISTENT text="Mailbox does not exist" duration=`)
	s.waitLog(t, `msg="imap connection closed" remote=127.0.0.1 kind=imap user=alice duration=`)

	want := []string{
		`casier_connections_current{kind="imap"} 0`,
		`casier_connections_current{kind="lmtp"} 0`,
		`casier_connections_total{kind="imap"} 1`,
		`casier_connections_total{kind="imaps"} 0`,
		`casier_connections_total{kind="lmtp"} 1`,
		`casier_imap_commands_total{command="LOGIN",result="NO"} 1`,
		`casier_imap_commands_total{command="LOGIN",result="OK"} 1`,
		`casier_imap_commands_total{command="SELECT",result="OK"} 1`,
		`casier_imap_commands_total{command="SELECT",result="NO"} 1`,
		`casier_imap_commands_total{command="FETCH",result="OK"} 1`,
		`casier_imap_commands_total{command="LOGOUT",result="OK"} 1`,
		`casier_imap_command_duration_seconds_count{command="SELECT"} 2`,
		`casier_imap_command_duration_seconds_bucket{command="FETCH",le="+Inf"} 1`,
		`casier_logins_total{mechanism="LOGIN",result="failure"} 1`,
		`casier_logins_total{mechanism="LOGIN",result="success"} 1`,
		`casier_lmtp_deliveries_total{result="delivered"} 1`,
		`casier_lmtp_deliveries_total{result="temp_failure"} 0`,
		`casier_store_messages 1`,
		`casier_store_bytes ` + strconv.FormatInt(stored, 10),
		`casier_panics_recovered_total{component="imap"} 0`,
		`casier_panics_recovered_total{component="lmtp"} 0`,
	}
	var got []string
	deadline := time.Now().Add(15 * time.Second)
	for {
		got = scrapeMetrics(t, metricsAddr)
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(got, w) })
		if len(missing) == 0 {
			break
		}
		// The LMTP connection's end is counted once go-smtp let it go.
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %q:\n%s", missing, strings.Join(got, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, err := http.Get("http://" + metricsAddr + "/"); err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /: %v %v, want 404", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}

	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.stderr)
	}
	if _, err := net.Dial("tcp", metricsAddr); err == nil {
		t.Errorf("metrics listener still open after stop")
	}
}

// A taken metrics port fails the start, like the other listeners.
func TestServeMetricsBusy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s := startServer(t, "--data", t.TempDir(), "--imap", freePort(t), "--imaps", "", "--lmtp", "",
		"--metrics", busy.Addr().String())
	want := "casier: listen on " + busy.Addr().String() + " (metrics): "
	if code := s.waitExit(t); code != 1 || !strings.Contains(s.stderr.String(), want) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, s.stderr, want)
	}
}
