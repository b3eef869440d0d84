// Package imapserver is Casier's IMAP server: connections, session state,
// the command table and one file per command family.
//
// Invariants:
//   - One goroutine per connection runs its commands in order; it is the
//     only writer of the connection (IDLE's helper goroutine only reads the
//     DONE line, and ends right after it).
//   - The state check of the command table runs before any argument is
//     parsed.
//   - Changes by other sessions reach the client only through sync, which
//     the core calls before every tagged response while a mailbox is
//     selected, and IDLE calls on every change. EXPUNGE is never sent
//     during FETCH, STORE or SEARCH (RFC 9051 7.5.1); such expunges wait
//     in selected.expunged, keeping their message sequence numbers.
//   - The store API is call-and-return: no store lock is held while a
//     session writes to its socket.
//   - A panic in a handler is recovered, logged, counted and answered with
//     BAD [SERVERBUG]; it never takes the server down.
package imapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/metrics"
	"github.com/casier/casier/internal/store"
)

// Defaults for zero Config fields.
const (
	DefaultMaxMessageSize = 64 << 20
	DefaultMaxConnsPerIP  = 50
	// DefaultIdleTimeout is the autologout timer of an authenticated
	// session: RFC 9051 5.4 requires at least 30 minutes.
	DefaultIdleTimeout = 30 * time.Minute
	// defaultPreAuthTimeout bounds how long a client may stay idle before
	// logging in (RFC 9051 5.4 lets the server pick a shorter timer then).
	defaultPreAuthTimeout = time.Minute
)

// Config configures a Server. Zero fields take defaults.
type Config struct {
	Hostname          string
	TLS               *tls.Config // nil: no STARTTLS, no IMAPS
	AllowInsecureAuth bool        // plaintext LOGIN/AUTHENTICATE PLAIN without TLS from non-loopback clients
	MaxLineLength     int         // 0: the codec's default (64 KiB)
	MaxLiteralSize    int64       // largest literal outside APPEND; 0: the codec's default
	MaxMessageSize    int64       // APPENDLIMIT; 0: DefaultMaxMessageSize
	MaxConnsPerIP     int         // 0: DefaultMaxConnsPerIP; negative: unlimited
	IdleTimeout       time.Duration
	TempDir           string
	Logger            *slog.Logger
	Metrics           *metrics.Metrics // nil: no metrics

	// Test knobs.
	preAuthTimeout    time.Duration
	loopbackInsecure  bool // treat loopback clients like remote ones (LOGINDISABLED tests)
	handshakeDeadline time.Duration
}

// Server accepts IMAP connections.
type Server struct {
	cfg  Config
	st   store.Store
	auth *auth.Authenticator
	log  *slog.Logger

	// ctx is cancelled when Shutdown gives up waiting.
	ctx    context.Context
	cancel context.CancelFunc

	closing    atomic.Bool
	shutdownCh chan struct{} // closed when Shutdown starts

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*Session]struct{}
	perIP     map[netip.Addr]int
	idle      chan struct{} // closed when sessions becomes empty during shutdown
	shutOnce  sync.Once

	panics atomic.Int64

	sortCache sortCache // SORT and THREAD keys of every session (sort_cache.go)
}

// New returns a server over st that checks passwords with a.
func New(cfg Config, st store.Store, a *auth.Authenticator) *Server {
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.preAuthTimeout <= 0 {
		cfg.preAuthTimeout = min(defaultPreAuthTimeout, cfg.IdleTimeout)
	}
	if cfg.handshakeDeadline <= 0 {
		cfg.handshakeDeadline = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:        cfg,
		st:         st,
		auth:       a,
		log:        cfg.Logger,
		ctx:        ctx,
		cancel:     cancel,
		shutdownCh: make(chan struct{}),
		listeners:  make(map[net.Listener]struct{}),
		sessions:   make(map[*Session]struct{}),
		perIP:      make(map[netip.Addr]int),
		idle:       make(chan struct{}),
	}
}

// RecoveredPanics is the number of handler panics recovered so far.
func (s *Server) RecoveredPanics() int64 { return s.panics.Load() }

// Serve accepts connections on ln until it is closed. With implicitTLS the
// TLS handshake comes first (IMAPS, RFC 8314). It returns nil after
// Shutdown.
func (s *Server) Serve(ln net.Listener, implicitTLS bool) error {
	if implicitTLS && s.cfg.TLS == nil {
		return errors.New("imapserver: implicit TLS without a TLS configuration")
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Temporary failure (e.g. out of file descriptors): back
				// off instead of spinning.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("imap accept", "err", err, "retry", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.accept(c, implicitTLS)
	}
}

// accept registers a new connection and starts its goroutine.
func (s *Server) accept(c net.Conn, implicitTLS bool) {
	remote := remoteAddr(c)
	// Counted under TLS: the bytes of the connection's closing log line
	// are those on the wire.
	sess := newSession(s, &countConn{Conn: c}, remote)
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.perIP[remote]++
	over := s.cfg.MaxConnsPerIP > 0 && s.perIP[remote] > s.cfg.MaxConnsPerIP
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	go s.run(sess, implicitTLS, over)
}

// release forgets a finished session.
func (s *Server) release(sess *Session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	if n := s.perIP[sess.remote] - 1; n > 0 {
		s.perIP[sess.remote] = n
	} else {
		delete(s.perIP, sess.remote)
	}
	if s.closing.Load() && len(s.sessions) == 0 {
		s.signalIdle()
	}
	s.mu.Unlock()
}

// signalIdle closes s.idle once; s.mu is held.
func (s *Server) signalIdle() {
	select {
	case <-s.idle:
	default:
		close(s.idle)
	}
}

// Shutdown stops accepting connections and ends every session: one waiting
// for a command (or idling) gets "* BYE" at once, one running a command
// finishes it first. It waits until all sessions are gone or ctx ends; then
// it closes the remaining connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() {
		s.mu.Lock()
		s.closing.Store(true)
		close(s.shutdownCh)
		for ln := range s.listeners {
			ln.Close()
		}
		for sess := range s.sessions {
			// Wake a session blocked reading: its read fails at once, it
			// sees closing and says BYE. A session running a command sees
			// closing before its next read.
			sess.rawConn.SetReadDeadline(time.Unix(1, 0))
		}
		if len(s.sessions) == 0 {
			s.signalIdle()
		}
		s.mu.Unlock()
	})
	select {
	case <-s.idle:
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	s.mu.Lock()
	for sess := range s.sessions {
		sess.rawConn.Close()
	}
	s.mu.Unlock()
	return ctx.Err()
}

// remoteAddr is the client's IP address; the zero Addr for non-IP
// connections (net.Pipe in tests).
func remoteAddr(c net.Conn) netip.Addr {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
