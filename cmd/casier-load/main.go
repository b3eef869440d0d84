// Command casier-load drives an IMAP server with concurrent clients and
// reports throughput and latency percentiles per command. It speaks plain
// IMAP (RFC 9051 / RFC 3501 subset) over TCP, so any server can be measured
// with the same load; by default it only targets loopback addresses.
//
//	casier-load -addr 127.0.0.1:1143 -user alice -pass secret -fill 10000
//	casier-load -addr 127.0.0.1:1143 -user alice -pass secret -clients 8 -duration 30s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// config is everything the flags set.
type config struct {
	addr        string
	user, pass  string
	mailbox     string
	clients     int
	duration    time.Duration
	count       int64
	fill        int
	fillStart   int
	mix         []weighted
	seed        uint64
	timeout     time.Duration
	allowRemote bool
}

type weighted struct {
	op     string
	weight int
}

// ops are the commands of the mix, in report order.
var ops = []string{"select", "fetch-flags", "fetch-headers", "fetch-body", "search-unseen", "store-seen", "append", "noop"}

const defaultMix = "select=1,fetch-flags=1,fetch-headers=4,fetch-body=6,search-unseen=2,store-seen=3,append=1,noop=2"

const usageText = `Usage: casier-load [flags]

Drives an IMAP server with concurrent clients (raw IMAP over TCP, no TLS)
and prints throughput and latency percentiles per command as plain text.

Two modes:
  -fill N    append N generated messages (the same bytes on every run, so
             two servers can be filled identically) to -mailbox, using
             -clients connections, then exit
  (default)  each client logs in, selects -mailbox and runs commands drawn
             from -mix until -duration has passed or -count commands have
             run in total, whichever comes first

Commands of the mix:
  select         SELECT mailbox
  fetch-flags    FETCH 1:* (FLAGS)
  fetch-headers  FETCH of the newest 50: (UID FLAGS RFC822.SIZE ENVELOPE
                 BODY.PEEK[HEADER.FIELDS (From To Subject Date)])
  fetch-body     FETCH n BODY.PEEK[] of one random message
  search-unseen  SEARCH UNSEEN
  store-seen     STORE n +FLAGS (\Seen) on one random message
  append         APPEND one generated message
  noop           NOOP

Only loopback targets are accepted unless -allow-remote is given.

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "casier-load: %v\n", err)
		return 2
	}
	if err := checkTarget(cfg.addr, cfg.allowRemote); err != nil {
		fmt.Fprintf(stderr, "casier-load: %v\n", err)
		return 2
	}
	if cfg.fill > 0 {
		err = fill(cfg, stdout)
	} else {
		err = load(cfg, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "casier-load: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var mix string
	fs := flag.NewFlagSet("casier-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:1143", "server address, host:port")
	fs.StringVar(&c.user, "user", "", "user name (required)")
	fs.StringVar(&c.pass, "pass", "", "password (or the CASIER_LOAD_PASS environment variable)")
	fs.StringVar(&c.mailbox, "mailbox", "INBOX", "mailbox to fill and load")
	fs.IntVar(&c.clients, "clients", 4, "concurrent connections")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "load: stop after this long (at most 1h)")
	fs.Int64Var(&c.count, "count", 0, "load: stop after this many commands in total (0: no limit, -duration applies)")
	fs.IntVar(&c.fill, "fill", 0, "append this many generated messages, then exit")
	fs.IntVar(&c.fillStart, "fill-start", 0, "number of the first generated message for -fill")
	fs.StringVar(&mix, "mix", defaultMix, "load: command=weight list")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed: the same seed draws the same command sequence per client on every run")
	fs.DurationVar(&c.timeout, "timeout", time.Minute, "give up on a command (or connection) after this long")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback target address")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.pass == "" {
		c.pass = os.Getenv("CASIER_LOAD_PASS")
	}
	if c.user == "" {
		return c, errors.New("-user is required")
	}
	if c.clients < 1 || c.clients > 1000 {
		return c, errors.New("-clients must be between 1 and 1000")
	}
	if c.duration <= 0 || c.duration > time.Hour {
		return c, errors.New("-duration must be positive and at most 1h")
	}
	if c.count < 0 || c.fill < 0 || c.fillStart < 0 {
		return c, errors.New("-count, -fill and -fill-start must not be negative")
	}
	var err error
	if c.mix, err = parseMix(mix); err != nil {
		return c, err
	}
	return c, nil
}

// parseMix reads "op=weight,op=weight".
func parseMix(s string) ([]weighted, error) {
	var out []weighted
	total := 0
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, w, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || n > 1000 {
			return nil, fmt.Errorf("-mix: bad entry %q (want command=weight, weight 0..1000)", f)
		}
		known := false
		for _, o := range ops {
			known = known || o == name
		}
		if !known {
			return nil, fmt.Errorf("-mix: unknown command %q (known: %s)", name, strings.Join(ops, ", "))
		}
		if n > 0 {
			out = append(out, weighted{name, n})
			total += n
		}
	}
	if total == 0 {
		return nil, errors.New("-mix: no command with a positive weight")
	}
	return out, nil
}

// checkTarget refuses addresses that are not loopback: this tool is for
// measuring one's own server, not for loading someone else's.
func checkTarget(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %v", addr, err)
	}
	if allowRemote {
		return nil
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := net.LookupIP(host)
		if err != nil {
			return fmt.Errorf("-addr %q: %v", addr, err)
		}
		ips = addrs
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("-addr %q is not a loopback address (%v); give -allow-remote to load a remote server", addr, ip)
		}
	}
	if len(ips) == 0 {
		return fmt.Errorf("-addr %q: no address", addr)
	}
	return nil
}

func connect(cfg config) (*client, error) {
	c, err := dial(cfg.addr, cfg.timeout)
	if err != nil {
		return nil, err
	}
	if err := c.login(cfg.user, cfg.pass); err != nil {
		c.close()
		return nil, fmt.Errorf("login: %w", err)
	}
	return c, nil
}

// fill appends messages fillStart .. fillStart+fill-1, spread over the
// clients (message i goes to client i % clients).
func fill(cfg config, out io.Writer) error {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, cfg.clients)
	var done atomic.Int64
	var bytes atomic.Int64
	for k := 0; k < cfg.clients; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := connect(cfg)
			if err != nil {
				errs[k] = err
				return
			}
			defer c.close()
			for i := cfg.fillStart + k; i < cfg.fillStart+cfg.fill; i += cfg.clients {
				m := genMessage(i)
				flags := ""
				if i%5 == 0 {
					flags = `\Seen`
				}
				if _, err := c.appendMsg(cfg.mailbox, flags, m); err != nil {
					errs[k] = fmt.Errorf("APPEND message %d: %w", i, err)
					return
				}
				done.Add(1)
				bytes.Add(int64(len(m)))
			}
			c.run("LOGOUT")
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Fprintf(out, "filled %d messages (%.1f MB) into %s in %v: %.0f messages/s with %d clients\n",
		done.Load(), float64(bytes.Load())/1e6, cfg.mailbox, el.Round(time.Millisecond), float64(done.Load())/el.Seconds(), cfg.clients)
	return errors.Join(errs...)
}

// load runs the mix on every client and prints the report.
func load(cfg config, out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(cfg.count)
	hs := make([]map[string]*hist, cfg.clients)
	errs := make([]error, cfg.clients)
	clients := make([]*client, cfg.clients)
	// Connect everyone first, so logins are not measured as load.
	for k := range clients {
		c, err := connect(cfg)
		if err == nil {
			_, err = c.run("SELECT " + quote(cfg.mailbox))
		}
		if err != nil {
			for _, c := range clients[:k] {
				c.close()
			}
			return fmt.Errorf("client %d: %w", k, err)
		}
		clients[k] = c
	}
	start := time.Now()
	var wg sync.WaitGroup
	for k, c := range clients {
		hs[k] = map[string]*hist{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			rng := rand.New(rand.NewPCG(cfg.seed, uint64(k)))
			w := &worker{cfg: cfg, c: c, rng: rng, hs: hs[k], msgNo: 1_000_000 + k*100_000}
			errs[k] = w.loop(ctx, cfg.count > 0, &budget)
			if errs[k] == nil {
				c.run("LOGOUT")
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	total := map[string]*hist{}
	for _, m := range hs {
		for n, h := range m {
			if total[n] == nil {
				total[n] = &hist{}
			}
			total[n].merge(h)
		}
	}
	fmt.Fprintf(out, "target %s, mailbox %s, %d clients, %v, seed %d\n", cfg.addr, cfg.mailbox, cfg.clients, el.Round(time.Millisecond), cfg.seed)
	report(out, ops, total, el)
	return errors.Join(errs...)
}
