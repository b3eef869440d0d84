// Package delivery receives mail over LMTP (RFC 2033) and stores it with
// store.Account.Append.
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
//   - Shutdown never cuts a command in progress: connections waiting for
//     a command get 421 and are closed; busy ones finish the command (a
//     DATA included) and are closed before the next.
//
// The protocol is implemented here rather than with go-smtp's server: that
// server refuses a recipient without a domain (`RCPT TO:<alice>`, and the
// <Postmaster> RFC 5321 4.1.1.3 requires) before the backend sees it,
// refuses a message of exactly its SIZE limit, and its Shutdown waits for
// idle connections instead of closing them.
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
	"time"

	"github.com/casier/casier/internal/store"
)

// Options configures a Server. Zero values take the defaults shown.
type Options struct {
	// Hostname is announced in the greeting and the LHLO reply.
	Hostname string
	// Domains served (lower case); addresses in other domains get 550
	// 5.1.2. Empty: any domain, the local part alone names the account.
	Domains []string
	// MaxMessageSize is the largest message stored, trace fields included
	// (the store's own limit); the SIZE advertised (RFC 1870) is
	// traceReserve less. Default 64 MiB.
	MaxMessageSize int64
	// MaxRecipients bounds RCPT commands per transaction (452 4.5.3 past
	// it). Default 1000; RFC 5321 4.5.3.1.8 wants at least 100.
	MaxRecipients int
	// MaxConns bounds concurrent connections (421 4.3.2 past it).
	// Default 100.
	MaxConns int
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
	sizeMax int64 // largest message accepted from the client (SIZE)

	mu       sync.Mutex
	closing  bool
	lns      map[net.Listener]struct{}
	conns    map[*conn]struct{}
	serving  sync.WaitGroup // Serve loops
	handlers sync.WaitGroup // connections
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
	for _, d := range opts.Domains {
		s.domains[strings.ToLower(d)] = true
	}
	return s
}

// SizeLimit is the SIZE the server advertises: the largest message, in
// octets as sent after dot-unstuffing, it accepts.
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

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("lmtp: accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.start(nc)
	}
}

// isTemporary recognises accept errors worth retrying (EMFILE, ECONNABORTED).
func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

func (s *Server) start(nc net.Conn) {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	full := len(s.conns) >= s.opts.MaxConns
	if !full {
		s.conns[c] = struct{}{}
		s.handlers.Add(1)
	}
	s.mu.Unlock()
	if full {
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		fmt.Fprintf(nc, "421 4.3.2 %s too many connections, try again later\r\n", s.opts.Hostname)
		nc.Close()
		s.log.Warn("lmtp: too many connections", "remote", nc.RemoteAddr().String())
		return
	}
	go func() {
		defer s.handlers.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		c.serve()
	}()
}

// Shutdown stops accepting connections, closes those waiting for a
// command (with 421) and waits for the others to finish the command in
// progress. When ctx ends first, the remaining connections are closed and
// ctx's error returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.interruptIfIdle()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.serving.Wait()
		s.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
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
