package interop

import (
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The Postfix test: mail for several Casier users is sent over SMTP to a
// private Postfix instance, which hands it to "casier serve" over LMTP,
// the way docs/delivery.md tells an administrator to set it up. It needs
// Debian's postfix package and root (Postfix's master runs as root and
// its daemons as the postfix user).

// pfDomain is the domain Postfix and Casier serve; pfSender, the envelope
// sender, is in a domain Postfix sends nowhere (its bounces are discarded).
const (
	pfDomain = "example.org"
	pfSender = "sender@elsewhere.example"
)

// pfUsers have Casier accounts; nobody@example.org does not.
var pfUsers = []string{"alice", "bob", "carol", "dave"}

// casierLMTP is a "casier serve" with plain IMAP and LMTP on loopback.
type casierLMTP struct {
	IMAPAddr, LMTPAddr string
}

// startCasierLMTP runs "casier serve" with the configuration text conf, on
// free loopback ports, over a fresh data directory holding users
// (password "password"), and stops it when the test ends.
func startCasierLMTP(t *testing.T, conf string, users ...string) *casierLMTP {
	t.Helper()
	dir := t.TempDir()
	for _, u := range users {
		addUser(t, dir, u, "password")
	}
	confFile := filepath.Join(dir, "casier.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &casierLMTP{IMAPAddr: freePort(t), LMTPAddr: freePort(t)}
	logs := &lockedBuffer{}
	cmd := exec.Command(casierBin, "serve", "--config", confFile, "--data", dir, "--imap", s.IMAPAddr,
		"--imaps", "", "--lmtp", s.LMTPAddr, "--hostname", "localhost", "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("casier log:\n%s", logs)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("casier logged an error:\n%s", logs)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c1, err1 := net.Dial("tcp", s.IMAPAddr)
		c2, err2 := net.Dial("tcp", s.LMTPAddr)
		for _, c := range []net.Conn{c1, c2} {
			if c != nil {
				c.Close()
			}
		}
		if err1 == nil && err2 == nil {
			return s
		}
		select {
		case err := <-done:
			t.Fatalf("casier exited: %v\n%s", err, logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("casier did not listen within 10s\n%s", logs)
		}
	}
}

// postfixInstance is a private Postfix: its own configuration, queue and
// data directories and log file, so it neither needs nor touches
// /etc/postfix or /var/spool/postfix.
type postfixInstance struct {
	bin      string
	confDir  string
	SMTPAddr string
	Maillog  string
	out      *lockedBuffer
	done     chan error
}

// The routing of example.org to Casier, as docs/delivery.md gives it:
// every address of the domain goes to Casier, which decides (an unknown
// user gets 550 5.1.1 from LMTP and Postfix bounces the message).
var postfixRouting = map[string]string{
	// The domain as a local domain (mydestination); local(8) is left out.
	"local_transport": `mydestination = example.org
local_recipient_maps =
local_transport = lmtp:inet:{{LMTP}}
`,
	// The domain as a virtual mailbox domain.
	"virtual_transport": `mydestination =
virtual_mailbox_domains = example.org
virtual_transport = lmtp:inet:{{LMTP}}
`,
}

// The main.cf of the test instance: what a private instance needs, then
// the routing.
const postfixMainCF = `compatibility_level = 3.6
queue_directory = {{DIR}}/queue
data_directory = {{DIR}}/data
maillog_file = {{DIR}}/maillog
maillog_file_prefixes = {{DIR}}
myhostname = mx.example.org
mydomain = example.org
myorigin = $mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
recipient_delimiter = +

# Nothing leaves this machine: bounces to the (made-up) sender's domain
# are discarded.
default_transport = discard:no outside delivery in this test
relay_transport = discard:no outside delivery in this test

{{ROUTING}}`

// postfixMasterCF: the services used, none chrooted; smtpd on the test's
// own port.
const postfixMasterCF = `{{SMTP}} inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -    - proxymap
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
lmtp      unix  - - n -    - lmtp
discard   unix  - - n -    - discard
postlog   unix-dgram n - n - 1 postlogd
`

// startPostfix starts a Postfix instance delivering example.org to Casier
// at lmtpAddr with the given routing (a key of postfixRouting), and stops
// it when the test ends. It skips the test when Postfix is not installed
// or the test does not run as root.
func startPostfix(t *testing.T, routing, lmtpAddr string) *postfixInstance {
	t.Helper()
	bin, err := exec.LookPath("postfix")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
			t.Skip("postfix not installed (apt-get install -y postfix); skipping the Postfix delivery test")
		}
		bin = "/usr/sbin/postfix"
	}
	if os.Geteuid() != 0 {
		t.Skip("the Postfix delivery test runs Postfix's master, which needs root")
	}
	dir := t.TempDir()
	// Postfix's daemons run as the postfix user and chdir into the queue
	// directory: every directory above it must be searchable by them.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for d := filepath.Dir(filepath.Dir(dir)); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o001 == 0 {
			t.Skipf("%s is not searchable by the postfix user; set TMPDIR to a directory that is", d)
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	p := &postfixInstance{bin: bin, confDir: filepath.Join(dir, "conf"), SMTPAddr: freePort(t),
		Maillog: filepath.Join(dir, "maillog"), out: &lockedBuffer{}, done: make(chan error, 1)}
	// The queue directory belongs to root; "postfix start" creates its
	// subdirectories (and data_directory) with the owners Postfix wants
	// (postfix, group postdrop for maildrop and public).
	for _, d := range []string{p.confDir, filepath.Join(dir, "queue")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	main := strings.Replace(postfixMainCF, "{{ROUTING}}", postfixRouting[routing], 1)
	r := strings.NewReplacer("{{DIR}}", dir, "{{LMTP}}", lmtpAddr, "{{SMTP}}", p.SMTPAddr)
	for name, text := range map[string]string{"main.cf": main, "master.cf": postfixMasterCF} {
		if err := os.WriteFile(filepath.Join(p.confDir, name), []byte(r.Replace(text)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// start-fg keeps the master in the foreground, so the test owns it.
	cmd := exec.Command(bin, "-c", p.confDir, "start-fg")
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("postfix output:\n%s\nmaillog:\n%s", p.out, p.log())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.Dial("tcp", p.SMTPAddr); err == nil {
			c.Close()
			return p
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("postfix exited: %v\n%s\nmaillog:\n%s", err, p.out, p.log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix did not listen within 15s\n%s\nmaillog:\n%s", p.out, p.log())
		}
	}
}

// stop runs "postfix stop" and waits for the master to exit.
func (p *postfixInstance) stop(t *testing.T) {
	if out, err := exec.Command(p.bin, "-c", p.confDir, "stop").CombinedOutput(); err != nil {
		t.Errorf("postfix stop: %v\n%s", err, out)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		exec.Command(p.bin, "-c", p.confDir, "abort").Run()
		t.Errorf("postfix did not stop within 15s")
		<-p.done
	}
}

func (p *postfixInstance) log() string {
	b, _ := os.ReadFile(p.Maillog)
	return string(b)
}

// waitLog waits until the maillog has at least n lines matching re, and
// returns those lines.
func (p *postfixInstance) waitLog(t *testing.T, re *regexp.Regexp, n int, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var got []string
		for _, l := range lines(p.log()) {
			if re.MatchString(l) {
				got = append(got, l)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pfMessage is message i as sent: complete header fields (so that
// Postfix's cleanup adds none), 8-bit text, lines starting with dots, and
// a size from about 1 KiB to about 200 KiB.
func pfMessage(i int) string {
	var b strings.Builder
	b.WriteString("From: Sender <" + pfSender + ">\r\n")
	b.WriteString("To: Team <team@example.org>\r\n")
	b.WriteString("Date: Thu, 27 Nov 2025 10:00:00 +0100\r\n")
	fmt.Fprintf(&b, "Message-ID: <pf-%d@elsewhere.example>\r\n", i)
	fmt.Fprintf(&b, "Subject: through Postfix %d\r\n", i)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	n := 20 + (i*i*97)%3000
	for l := 0; l < n; l++ {
		switch l % 13 {
		case 4:
			b.WriteString(".\r\n")
		case 8:
			fmt.Fprintf(&b, "..starts with two dots %d\r\n", l)
		case 11:
			fmt.Fprintf(&b, "d\u00e9j\u00e0 vu \u2013 %d\r\n", l)
		default:
			fmt.Fprintf(&b, "line %d of message %d: the quick brown fox jumps over the lazy dog\r\n", l, i)
		}
	}
	return b.String()
}

// pfRecipients of message i: a non-empty subset of the users, every
// third message also nobody@ (unknown to Casier), message 0 also
// alice+Work@ (the Work folder, through recipient_delimiter).
func pfRecipients(i int) []string {
	mask := i%15 + 1
	var to []string
	for u, name := range pfUsers {
		if mask&(1<<u) != 0 {
			to = append(to, name+"@"+pfDomain)
		}
	}
	if i%3 == 0 {
		to = append(to, "nobody@"+pfDomain)
	}
	if i == 0 {
		to = append(to, "alice+Work@"+pfDomain)
	}
	return to
}

// traceFields matches what Casier and Postfix put in front of a message:
// Casier's Return-Path and Delivered-To, then the Received field of
// Postfix's smtpd (folded over several lines).
var traceFields = regexp.MustCompile(`^Return-Path: <([^>]*)>\r\nDelivered-To: ([^\r]*)\r\n` +
	`(Received: from client\.test \(localhost \[127\.0\.0\.1\]\)\r\n\tby mx\.example\.org \(Postfix\) with [A-Z0-9]*SMTP[A-Z]* [^\r]*\r\n(?:[ \t][^\r]*\r\n)*)`)

// TestPostfixDelivery sends mail for four users at once through a real
// Postfix (SMTP in, LMTP out to "casier serve") while each user idles on
// INBOX, with the domain routed to Casier as a local domain and as a
// virtual mailbox domain: every message is told to the IDLE sessions of
// its recipients and stored exactly as sent, behind the trace fields; the
// one sent to alice+Work lands in Work; mail for an unknown user is
// bounced by Postfix with Casier's 550 5.1.1, and nothing is deferred.
func TestPostfixDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	for _, routing := range []string{"local_transport", "virtual_transport"} {
		t.Run(routing, func(t *testing.T) {
			t.Parallel() // independent instances: own ports and directories
			postfixDelivery(t, routing)
		})
	}
}

func postfixDelivery(t *testing.T, routing string) {
	s := startCasierLMTP(t, "lmtp_domains = "+pfDomain+"\n", pfUsers...)
	pf := startPostfix(t, routing, s.LMTPAddr)

	work := dialPlain(t, s.IMAPAddr, "alice", nil)
	if err := work.Create("Work", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idlers := make(map[string]*pfIdler)
	for _, u := range pfUsers {
		idlers[u] = startPfIdler(t, s.IMAPAddr, u)
	}

	const messages, conns = 30, 4
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := smtpSend(pf.SMTPAddr, w, conns, messages); err != nil {
				errc <- fmt.Errorf("SMTP connection %d: %w", w, err)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	accepted := time.Now()

	want := make(map[string][]string) // user -> messages (as sent) expected in INBOX
	bounced, delivered := 0, 0
	for i := 0; i < messages; i++ {
		for _, to := range pfRecipients(i) {
			user, _, _ := strings.Cut(to, "@")
			switch user {
			case "nobody":
				bounced++
			case "alice+Work":
				delivered++
			default:
				delivered++
				want[user] = append(want[user], pfMessage(i))
			}
		}
	}

	// Every IDLE session is told of every message of its user.
	deadline := time.Now().Add(20 * time.Second)
	var lastExists time.Time
	for _, u := range pfUsers {
		d := idlers[u]
		if got := d.waitFor(uint32(len(want[u])), deadline); got != uint32(len(want[u])) {
			t.Errorf("%s: IDLE told of %d messages, want %d", u, got, len(want[u]))
		}
		if l := d.lastAt(); l.After(lastExists) {
			lastExists = l
		}
	}
	t.Logf("%d messages for %d recipients accepted by Postfix in %v; the last EXISTS came %v after the last SMTP reply",
		messages, delivered+bounced, accepted.Sub(start), lastExists.Sub(accepted))

	// Postfix's log: each delivery got Casier's 250, each unknown
	// recipient Casier's 550 5.1.1 and a bounce; nothing was deferred.
	port := s.LMTPAddr[strings.LastIndexByte(s.LMTPAddr, ':')+1:]
	sentRE := regexp.MustCompile(`postfix/lmtp\[\d+\]: [0-9A-F]+: to=<[a-z+A-Z]+@example\.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:` +
		port + `, .*, dsn=2\.0\.0, status=sent \(250 2\.0\.0 <[a-zA-Z+]+@example\.org> delivered\)$`)
	bouncedRE := regexp.MustCompile(`postfix/lmtp\[\d+\]: [0-9A-F]+: to=<nobody@example\.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:` +
		port + `, .*, dsn=5\.1\.1, status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 <nobody@example\.org> no such user \(in reply to RCPT TO command\)\)$`)
	if got := pf.waitLog(t, sentRE, delivered, 10*time.Second); len(got) != delivered {
		t.Errorf("maillog has %d LMTP deliveries with status=sent, want %d", len(got), delivered)
	}
	if got := pf.waitLog(t, bouncedRE, bounced, 10*time.Second); len(got) != bounced {
		t.Errorf("maillog has %d bounces of nobody@ with 550 5.1.1, want %d", len(got), bounced)
	}
	if strings.Contains(pf.log(), "status=deferred") {
		t.Errorf("Postfix deferred a delivery")
	}
	if t.Failed() {
		return
	}

	// The stored copies: the trace fields, then the message as sent.
	for _, u := range pfUsers {
		d := idlers[u]
		if err := d.idle.Close(); err != nil {
			t.Fatal(err)
		}
		if err := d.idle.Wait(); err != nil {
			t.Fatalf("%s: IDLE: %v", u, err)
		}
		checkStored(t, d.client, u, "INBOX", want[u])
	}
	checkStored(t, work, "alice+Work", "Work", []string{pfMessage(0)})
}

// checkStored selects mailbox and compares every message, its trace fields
// cut, with want (in any order); Delivered-To must name the user.
func checkStored(t *testing.T, c *imapclient.Client, user, mailbox string, want []string) {
	t.Helper()
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		b := string(m.FindBodySection(section))
		f := traceFields.FindStringSubmatch(b)
		if f == nil {
			t.Errorf("%s: message without the expected trace fields:\n%.400q", user, b)
			continue
		}
		if f[1] != pfSender || f[2] != user+"@"+pfDomain {
			t.Errorf("%s: Return-Path <%s>, Delivered-To %s", user, f[1], f[2])
		}
		got = append(got, b[len(f[0]):])
	}
	want = slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	if len(got) != len(want) {
		t.Fatalf("%s %s: %d messages, want %d", user, mailbox, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s %s: a stored message differs from what was sent:\n%.400q\nwant\n%.400q", user, mailbox, got[i], want[i])
		}
	}
}

// smtpSend sends messages i with i%conns == w over one SMTP connection to
// Postfix; every recipient must be accepted (Postfix checks none).
func smtpSend(addr string, w, conns, messages int) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	for i := w; i < messages; i += conns {
		if err := c.Mail(pfSender); err != nil {
			return err
		}
		for _, to := range pfRecipients(i) {
			if err := c.Rcpt(to); err != nil {
				return fmt.Errorf("RCPT %s: %w", to, err)
			}
		}
		wc, err := c.Data()
		if err != nil {
			return err
		}
		if _, err := wc.Write([]byte(pfMessage(i))); err != nil {
			return err
		}
		if err := wc.Close(); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return c.Quit()
}

// dialPlain logs in over plain IMAP (LOGIN is allowed from loopback).
func dialPlain(t *testing.T, addr, user string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, "password").Wait(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

// pfIdler is a user's IMAP session in IDLE on INBOX.
type pfIdler struct {
	client  *imapclient.Client
	idle    *imapclient.IdleCommand
	mu      sync.Mutex
	exists  uint32
	last    time.Time
	changed chan struct{}
}

func startPfIdler(t *testing.T, addr, user string) *pfIdler {
	t.Helper()
	d := &pfIdler{changed: make(chan struct{}, 1)}
	d.client = dialPlain(t, addr, user, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(m *imapclient.UnilateralDataMailbox) {
			if m.NumMessages == nil {
				return
			}
			d.mu.Lock()
			d.exists, d.last = *m.NumMessages, time.Now()
			d.mu.Unlock()
			select {
			case d.changed <- struct{}{}:
			default:
			}
		},
	}})
	if _, err := d.client.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var err error
	if d.idle, err = d.client.Idle(); err != nil {
		t.Fatal(err)
	}
	return d
}

// waitFor waits until the session was told of n messages or deadline
// passes, and returns the last count.
func (d *pfIdler) waitFor(n uint32, deadline time.Time) uint32 {
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

func (d *pfIdler) lastAt() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}
