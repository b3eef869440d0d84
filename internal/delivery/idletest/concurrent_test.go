package idletest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/casier/casier/internal/delivery"
)

// The load of TestConcurrentDeliveries.
const (
	concMessages = 200
	concConns    = 8
	// quotaUser may hold quotaMessages messages (RFC 9208 MESSAGE limit);
	// every later copy is refused with 552 5.2.2.
	quotaUser     = "erin"
	quotaMessages = 10
)

var concUsers = []string{"alice", "bob", "carol", "dave", quotaUser}

// concRecipients are the RCPT TO addresses of message i: a non-empty
// subset of the users (a bit mask walking through all 31 subsets), every
// fifth message an unknown user and every seventh a foreign domain.
func concRecipients(i int) []string {
	mask := i%31 + 1
	var to []string
	for u, name := range concUsers {
		if mask&(1<<u) != 0 {
			domain := "example.org"
			if (i+u)%3 == 0 {
				domain = "example.net"
			}
			to = append(to, name+"@"+domain)
		}
	}
	if i%5 == 0 {
		to = append(to[:1:1], append([]string{"nobody@example.org"}, to[1:]...)...)
	}
	if i%7 == 0 {
		to = append(to, "alice@elsewhere.example")
	}
	return to
}

// concMessage is message i: its own Message-ID, a size between a few
// hundred octets and about 40 KiB (the server spools past 8 KiB here),
// lines that start with "." (dot-stuffed by the client, unstuffed by the
// server) and 8-bit text.
func concMessage(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Sender %d <sender%d@example.net>\r\n", i, i)
	b.WriteString("To: undisclosed-recipients:;\r\n")
	fmt.Fprintf(&b, "Message-ID: <conc-%d@example.net>\r\n", i)
	fmt.Fprintf(&b, "Subject: concurrent %d\r\n", i)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	lines := 3 + (i*37)%500
	for l := 0; l < lines; l++ {
		switch l % 11 {
		case 3:
			b.WriteString(".\r\n")
		case 7:
			fmt.Fprintf(&b, "..leading dots %d.%d\r\n", i, l)
		case 9:
			fmt.Fprintf(&b, "caf\u00e9 %d.%d \u2014 na\u00efve\r\n", i, l)
		default:
			fmt.Fprintf(&b, "line %d of message %d, some filler text to give it weight\r\n", l, i)
		}
	}
	return b.String()
}

// idler is an IMAP session of one user in IDLE on INBOX, recording the
// EXISTS counts it is told.
type idler struct {
	user   string
	client *imapclient.Client
	idle   *imapclient.IdleCommand

	mu      sync.Mutex
	exists  uint32
	history []uint32  // every EXISTS count, in order
	last    time.Time // when the last one arrived
	changed chan struct{}
}

func startIdler(t *testing.T, addr, user string) *idler {
	t.Helper()
	d := &idler{user: user, changed: make(chan struct{}, 1)}
	opts := &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(m *imapclient.UnilateralDataMailbox) {
			if m.NumMessages == nil {
				return
			}
			d.mu.Lock()
			d.exists = *m.NumMessages
			d.history = append(d.history, *m.NumMessages)
			d.last = time.Now()
			d.mu.Unlock()
			select {
			case d.changed <- struct{}{}:
			default:
			}
		},
	}}
	c, err := imapclient.DialInsecure(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d.client = c
	if err := c.Login(user, "password").Wait(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("select %s: %v", user, err)
	}
	if d.idle, err = c.Idle(); err != nil {
		t.Fatalf("IDLE %s: %v", user, err)
	}
	return d
}

// waitFor waits until the session was told of n messages, at most until
// deadline, and returns the last count.
func (d *idler) waitFor(n uint32, deadline time.Time) uint32 {
	for {
		d.mu.Lock()
		got := d.exists
		d.mu.Unlock()
		if got >= n {
			return got
		}
		select {
		case <-d.changed:
		case <-time.After(time.Until(deadline)):
			return got
		}
	}
}

// rcptResult is the outcome of one RCPT of one transaction.
type rcptResult struct {
	msg  int
	rcpt string
	code int // reply code: at RCPT for refused addresses, after DATA otherwise
	enh  smtp.EnhancedCode
	text string
}

// TestConcurrentDeliveries: five users each idle on INBOX in an IMAP
// session while 200 messages arrive over 8 LMTP connections at once, each
// transaction with several recipients, some of them unknown (550 5.1.1 at
// RCPT), in a foreign domain (550 5.1.2) or over quota (552 5.2.2 after
// DATA). Every recipient gets the reply it should (RFC 2033 4.2: one per
// accepted RCPT, in order), the over-quota user gets exactly as many
// messages as its quota allows, every IDLE session is told of every
// message it received before it leaves IDLE, and every stored copy is the
// message as sent with exactly the two trace fields in front.
func TestConcurrentDeliveries(t *testing.T) {
	e := newEnv(t, concUsers, func(o *delivery.Options) { o.MemoryLimit = 8 << 10 })
	if err := e.Store.SetQuota(context.Background(), quotaUser, 0, quotaMessages); err != nil {
		t.Fatal(err)
	}
	idlers := make(map[string]*idler)
	for _, u := range concUsers {
		idlers[u] = startIdler(t, e.IMAPAddr, u)
	}

	start := time.Now()
	results := make(chan rcptResult, concMessages*8)
	var wg sync.WaitGroup
	errc := make(chan error, concConns)
	for w := 0; w < concConns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sendShare(e.LMTPAddr, w, results); err != nil {
				errc <- fmt.Errorf("connection %d: %w", w, err)
			}
		}()
	}
	wg.Wait()
	close(results)
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	sentAt := time.Now()

	// The replies, recipient by recipient.
	want := make(map[string][]string) // user -> stored copies expected
	quotaOK := 0
	n := 0
	for r := range results {
		n++
		user, _, _ := strings.Cut(r.rcpt, "@")
		switch {
		case strings.HasPrefix(r.rcpt, "nobody@"):
			if r.code != 550 || r.enh != (smtp.EnhancedCode{5, 1, 1}) || r.text != "<"+r.rcpt+"> no such user" {
				t.Errorf("message %d, RCPT %s: %d %v %q, want 550 5.1.1", r.msg, r.rcpt, r.code, r.enh, r.text)
			}
			continue
		case strings.HasSuffix(r.rcpt, "@elsewhere.example"):
			if r.code != 550 || r.enh != (smtp.EnhancedCode{5, 1, 2}) || r.text != "<"+r.rcpt+"> domain not served here" {
				t.Errorf("message %d, RCPT %s: %d %v %q, want 550 5.1.2", r.msg, r.rcpt, r.code, r.enh, r.text)
			}
			continue
		case user == quotaUser && r.code == 552:
			if r.enh != (smtp.EnhancedCode{5, 2, 2}) || r.text != "<"+r.rcpt+"> mailbox full" {
				t.Errorf("message %d, %s: %d %v %q, want 552 5.2.2", r.msg, r.rcpt, r.code, r.enh, r.text)
			}
			continue
		case r.code != 250 || r.text != "2.0.0 <"+r.rcpt+"> delivered":
			t.Errorf("message %d, %s: %d %q, want 250 2.0.0 delivered", r.msg, r.rcpt, r.code, r.text)
			continue
		}
		if user == quotaUser {
			quotaOK++
		}
		want[user] = append(want[user], "Return-Path: <sender"+itoa(r.msg)+"@example.net>\r\nDelivered-To: "+r.rcpt+"\r\n"+concMessage(r.msg))
	}
	wantN := 0
	for i := 0; i < concMessages; i++ {
		wantN += len(concRecipients(i))
	}
	if n != wantN {
		t.Fatalf("%d recipient replies, want %d", n, wantN)
	}
	if quotaOK != quotaMessages {
		t.Errorf("%s got %d messages past a quota of %d", quotaUser, quotaOK, quotaMessages)
	}

	// Every IDLE session hears of every message of its user.
	deadline := time.Now().Add(10 * time.Second)
	var lastExists time.Time
	for _, u := range concUsers {
		d := idlers[u]
		if got := d.waitFor(uint32(len(want[u])), deadline); got != uint32(len(want[u])) {
			t.Errorf("%s: IDLE told of %d messages, want %d (EXISTS history %v)", u, got, len(want[u]), d.history)
		}
		d.mu.Lock()
		if !slices.IsSorted(d.history) {
			t.Errorf("%s: EXISTS went down during IDLE: %v", u, d.history)
		}
		if d.last.After(lastExists) {
			lastExists = d.last
		}
		d.mu.Unlock()
	}
	t.Logf("%d messages, %d recipient replies over %d connections in %v; the last EXISTS came %v after the last reply (negative: before)",
		concMessages, n, concConns, sentAt.Sub(start), lastExists.Sub(sentAt))
	if t.Failed() {
		return
	}

	// The stored copies, byte for byte.
	for _, u := range concUsers {
		d := idlers[u]
		if err := d.idle.Close(); err != nil {
			t.Fatal(err)
		}
		if err := d.idle.Wait(); err != nil {
			t.Fatalf("%s: IDLE: %v", u, err)
		}
		got := fetchAll(t, d.client)
		exp := slices.Clone(want[u])
		slices.Sort(got)
		slices.Sort(exp)
		if len(got) != len(exp) {
			t.Errorf("%s: %d messages stored, want %d", u, len(got), len(exp))
			continue
		}
		for i := range got {
			if got[i] != exp[i] {
				t.Errorf("%s: a stored message differs from any sent:\n%.300q\nwant\n%.300q", u, got[i], exp[i])
				break
			}
		}
	}
}

// sendShare sends the messages i with i%concConns == w over one LMTP
// connection, one transaction each, and reports every recipient's reply.
func sendShare(addr string, w int, results chan<- rcptResult) error {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	cl := smtp.NewClientLMTP(nc)
	defer cl.Close()
	if err := cl.Hello("client.test"); err != nil {
		return err
	}
	for i := w; i < concMessages; i += concConns {
		if err := cl.Mail("sender"+itoa(i)+"@example.net", nil); err != nil {
			return err
		}
		var accepted []string
		for _, to := range concRecipients(i) {
			err := cl.Rcpt(to, nil)
			var se *smtp.SMTPError
			switch {
			case err == nil:
				accepted = append(accepted, to)
			case errors.As(err, &se):
				results <- rcptResult{msg: i, rcpt: to, code: se.Code, enh: se.EnhancedCode, text: se.Message}
			default:
				return err
			}
		}
		dc, err := cl.Data()
		if err != nil {
			return err
		}
		if _, err := dc.Write([]byte(concMessage(i))); err != nil {
			return err
		}
		resp, err := dc.CloseWithLMTPResponse()
		var failed smtp.LMTPDataError
		if err != nil && !errors.As(err, &failed) {
			return err
		}
		if len(resp)+len(failed) != len(accepted) {
			return fmt.Errorf("message %d: %d replies after DATA for %d recipients", i, len(resp)+len(failed), len(accepted))
		}
		for _, to := range accepted {
			if r, ok := resp[to]; ok {
				results <- rcptResult{msg: i, rcpt: to, code: 250, text: r.StatusText}
			} else if se, ok := failed[to]; ok {
				results <- rcptResult{msg: i, rcpt: to, code: se.Code, enh: se.EnhancedCode, text: se.Message}
			} else {
				return fmt.Errorf("message %d: no reply for %s", i, to)
			}
		}
	}
	return cl.Quit()
}

// fetchAll returns BODY[] of every message in the selected mailbox.
func fetchAll(t *testing.T, c *imapclient.Client) []string {
	t.Helper()
	var all imap.SeqSet
	all.AddRange(1, 0)
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, string(m.FindBodySection(section)))
	}
	return out
}

func itoa(i int) string { return fmt.Sprint(i) }
