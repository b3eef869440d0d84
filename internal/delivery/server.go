// Package delivery receives mail over LMTP (RFC 2033) and stores it with
// store.Account.Append.
//
// The protocol (command parsing, replies, dot-unstuffing, SIZE, BDAT) is
// go-smtp's server in LMTP mode; this package supplies the session (the
// address rules, the storing, the log), a listener that tracks the
// connections, and the shutdown.
//
// Invariants:
//   - A recipient gets 250 after DATA only once its copy is durable:
//     Append returns after the body is fsync'd and the metadata transaction
//     committed (package store), and it has published the change, so idle
//     IMAP sessions hear of the message before the LMTP client does.
//   - Recipients are checked at RCPT time (unknown user 550 5.1.1, foreign
//     domain 550 5.1.2); after DATA there is one reply per accepted RCPT,
//     in order (RFC 2033 4.2).
//   - The message is read once, into memory up to Options.MemoryLimit and
//     into a temporary file beyond, then appended for each recipient with
//     its own trace fields in front (Return-Path, Delivered-To).
//   - Shutdown never cuts a message being received: connections waiting
//     for a command get 421 and are closed; one receiving a message
//     finishes it, answers, and gets 421 before its next command.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/casier/casier/internal/metrics"
	"github.com/casier/casier/internal/store"
)

// Options configures a Server. Zero values take the defaults shown.
type Options struct {
	// Hostname is announced in the greeting.
	Hostname string
	// Domains served (lower case); addresses in other domains get 550
	// 5.1.2. Empty: any domain, the local part alone names the account.
	Domains []string
	// MaxMessageSize is the largest message stored, trace fields included
	// (the store's own limit); the largest message accepted from the
	// client is traceReserve less (SizeLimit). Default 64 MiB.
	MaxMessageSize int64
	// MaxRecipients bounds RCPT commands per transaction (452 4.5.3 past
	// it). Default 1000; RFC 5321 4.5.3.1.8 wants at least 100.
	MaxRecipients int
	// MaxConns bounds concurrent connections (421 4.3.2 past it).
	// Default 100.
	MaxConns int
	// MaxLineLength bounds a line, command or message, CRLF included.
	// RFC 5321 4.5.3.1.6 sets 1000 octets for a message line; longer lines
	// exist in the wild, so the default is 64 KiB. A longer line in a
	// message refuses it (500 5.5.2 for each recipient), and go-smtp then
	// closes the connection.
	MaxLineLength int
	// Timeout is how long the server waits for a command or for more
	// message data (RFC 5321 4.5.3.2.7 asks for at least 5 minutes), and
	// bounds the store calls of one recipient. Default 5 minutes.
	Timeout time.Duration
	// MemoryLimit is how much of a message is kept in memory before the
	// rest goes to a temporary file in TempDir. Default 1 MiB.
	MemoryLimit int64
	// TempDir holds spooled messages; "" means os.TempDir().
	TempDir string
	// Logger receives one line per delivery; nil discards.
	Logger *slog.Logger
	// Metrics counts connections and deliveries; nil: no metrics.
	Metrics *metrics.Metrics
}

// traceReserve is the room kept for the Return-Path and Delivered-To
// fields: with both paths at most maxPathLen octets they take under 600.
const traceReserve = 1024

// Server is an LMTP server over a store.
type Server struct {
	opts    Options
	st      store.Store
	log     *slog.Logger
	domains map[string]bool
	sizeMax int64 // largest message accepted from the client
	smtp    *smtp.Server

	// ctx bounds store calls; cancelled when Shutdown's grace period ends.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closing  bool
	lns      map[net.Listener]struct{}
	conns    map[*conn]struct{}
	serving  sync.WaitGroup // Serve loops
	handlers sync.WaitGroup // connections, until go-smtp closes them
	busy     sync.WaitGroup // LMTPData calls (BDAT runs one beside the connection)

	panics atomic.Int64 // recovered by go-smtp, seen through its error log
}

// New returns a Server; call Serve for each listener.
func New(opts Options, st store.Store) *Server {
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = 64 << 20
	}
	if opts.MaxRecipients <= 0 {
		opts.MaxRecipients = 1000
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 100
	}
	if opts.MaxLineLength <= 0 {
		opts.MaxLineLength = 64 << 10
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.MemoryLimit <= 0 {
		opts.MemoryLimit = 1 << 20
	}
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		opts:    opts,
		st:      st,
		log:     log,
		domains: make(map[string]bool),
		sizeMax: max(opts.MaxMessageSize-traceReserve, 1),
		lns:     make(map[net.Listener]struct{}),
		conns:   make(map[*conn]struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, d := range opts.Domains {
		s.domains[strings.ToLower(d)] = true
	}
	srv := smtp.NewServer(backend{s})
	srv.LMTP = true
	srv.Domain = opts.Hostname
	// go-smtp's reader refuses a message of exactly MaxMessageBytes
	// octets (it stops at the limit without looking for the end of the
	// data), so the limit is one more than the largest message accepted;
	// a message of that size is refused by receive (and at MAIL, by
	// session.Mail). The SIZE advertised is that limit.
	srv.MaxMessageBytes = s.sizeMax + 1
	srv.MaxRecipients = opts.MaxRecipients
	srv.MaxLineLength = opts.MaxLineLength
	srv.ReadTimeout = opts.Timeout
	srv.WriteTimeout = opts.Timeout
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = errorLog{log, &s.panics}
	s.smtp = srv
	return s
}

// errorLog passes go-smtp's messages (accept and connection errors,
// recovered panics) to the log.
type errorLog struct {
	log    *slog.Logger
	panics *atomic.Int64
}

func (l errorLog) Printf(format string, v ...any) { l.print(fmt.Sprintf(format, v...)) }
func (l errorLog) Println(v ...any)               { l.print(strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }

func (l errorLog) print(msg string) {
	if strings.HasPrefix(msg, "panic") {
		l.panics.Add(1)
		l.log.Error("lmtp: " + msg)
		return
	}
	l.log.Warn("lmtp: " + msg)
}

// RecoveredPanics is the number of panics in connection handlers that
// go-smtp recovered so far.
func (s *Server) RecoveredPanics() int64 { return s.panics.Load() }

// SizeLimit is the largest message, in octets as sent after dot-unstuffing,
// that the server accepts. The SIZE it advertises (RFC 1870) is one more:
// see New.
func (s *Server) SizeLimit() int64 { return s.sizeMax }

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("delivery: server closed")

// Serve accepts connections on ln until Shutdown, then returns nil. Any
// other accept failure is returned.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()
	err := s.smtp.Serve(&listener{Listener: ln, srv: s})
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, closes those waiting for a
// command (with 421) and waits for the others to finish receiving and
// storing their message. When ctx ends first, the store calls in progress
// are cancelled, the remaining connections closed, and ctx's error
// returned.
//
// go-smtp's own Shutdown would wait for idle connections too, and its
// Close does nothing once Shutdown was called, hence the connection
// tracking here.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.shutdown()
	}
	s.mu.Unlock()
	// Marks go-smtp's server closed, so that its Serve returns; the
	// waiting is ours (below), hence the context already done.
	now, cancel := context.WithCancel(context.Background())
	cancel()
	s.smtp.Shutdown(now)

	done := make(chan struct{})
	go func() {
		s.serving.Wait()
		s.handlers.Wait()
		s.busy.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancel()
		s.mu.Lock()
		for c := range s.conns {
			c.Conn.Close() // go-smtp's handler then sees the end and calls c.Close
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// Listen opens the listener for an LMTP address: host:port, or
// "unix:/path" for a unix socket. A socket file left by an earlier run is
// replaced when nothing answers on it; the socket is made 0666 (access is
// then governed by its directory, as loopback TCP is open to any local
// user).
func Listen(addr string) (net.Listener, error) {
	p, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		return net.Listen("tcp", addr)
	}
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.DialTimeout("unix", p, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("listen unix %s: a server is already listening", p)
		}
		os.Remove(p)
	}
	ln, err := net.Listen("unix", p)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(p, 0o666); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
