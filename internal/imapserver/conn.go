package imapserver

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapwire"
)

// ioBufSize is the size of each connection's read and write buffers: small,
// since a server holds many idle connections.
const ioBufSize = 4096

// byeWriteTimeout bounds writing a final BYE to a client that does not read.
const byeWriteTimeout = 10 * time.Second

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newSession(srv *Server, c net.Conn, remote netip.Addr) *Session {
	s := &Session{
		srv:     srv,
		ctx:     srv.ctx,
		rawConn: c,
		remote:  remote,
		state:   stateNotAuthenticated,
		started: time.Now(),
	}
	s.setConn(c, false)
	return s
}

// setConn (re)builds the buffered reader and writer over c. After STARTTLS
// the old reader is dropped with whatever plaintext it had buffered.
func (s *Session) setConn(c net.Conn, isTLS bool) {
	s.conn = c
	s.tls = s.tls || isTLS
	s.br = bufio.NewReaderSize(c, ioBufSize)
	s.cw = countWriter{w: c}
	s.bw = bufio.NewWriterSize(&s.cw, ioBufSize)
	s.r = imapwire.NewReader(s.br, imapwire.Limits{
		MaxLineLength:  s.srv.cfg.MaxLineLength,
		MaxLiteralSize: s.srv.cfg.MaxLiteralSize, // commands other than APPEND
		// The codec accepts APPEND literals up to this bound; cont refuses
		// those over APPENDLIMIT. A non-synchronizing one between the two
		// is read and dropped, so the client gets NO [TOOBIG] and keeps
		// its connection (RFC 7889 4); beyond the bound the codec closes
		// it rather than read without end (RFC 7888 4).
		MaxMessageSize: appendReadBound(s.srv.cfg.MaxMessageSize),
		TempDir:        s.srv.cfg.TempDir,
	})
	utf8 := s.w != nil && s.w.UTF8
	s.w = imapwire.NewWriter(s.bw)
	s.w.UTF8 = utf8
}

// appendReadBound is how large an APPEND literal the codec reads (twice
// APPENDLIMIT, saturating): a client that ignored APPENDLIMIT and sent a
// non-synchronizing literal somewhat over it is answered NO [TOOBIG] and
// keeps its connection.
func appendReadBound(limit int64) int64 {
	if limit > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return 2 * limit
}

// written is the number of bytes the session has written so far, sent or
// still buffered.
func (s *Session) written() int64 { return s.cw.n + int64(s.bw.Buffered()) }

// run serves one connection until it ends.
func (srv *Server) run(s *Session, implicitTLS, overLimit bool) {
	defer srv.release(s)
	defer s.close()
	if implicitTLS {
		tc := tls.Server(s.rawConn, srv.cfg.TLS)
		s.rawConn.SetDeadline(time.Now().Add(srv.cfg.handshakeDeadline))
		if srv.closing.Load() {
			return
		}
		if err := tc.HandshakeContext(s.ctx); err != nil {
			srv.log.Debug("imap TLS handshake failed", "remote", s.remote, "err", err)
			return
		}
		s.rawConn.SetDeadline(time.Time{})
		s.setConn(tc, true)
	}
	if overLimit {
		srv.log.Warn("imap connection refused: too many connections", "remote", s.remote)
		s.bye("Too many connections from your address")
		return
	}
	kind := listenerKind(implicitTLS)
	srv.cfg.Metrics.ConnOpened(kind)
	defer srv.cfg.Metrics.ConnClosed(kind)
	srv.log.Info("imap connection open", "remote", s.remote, "kind", kind, "tls", s.tls)
	defer func() {
		in, out := connBytes(s.rawConn)
		srv.log.Info("imap connection closed", "remote", s.remote, "kind", kind, "user", s.user.Name,
			"duration", time.Since(s.started).Round(time.Millisecond), "bytes_in", in, "bytes_out", out)
	}()
	s.serve()
}

// serve is the command loop: greeting, then read, execute, answer.
func (s *Session) serve() {
	// RFC 9051 7.1: the greeting may carry the capabilities.
	s.w.Untagged().Status("OK", "CAPABILITY "+strings.Join(s.capabilities(), " "), "Casier ready.").CRLF()
	if s.w.Flush() != nil {
		return
	}
	for {
		if !s.armRead() {
			s.bye("Server shutting down")
			return
		}
		cmd, err := s.readCommand() // notify.go: events while waiting
		if err != nil {
			if !s.readError(err) {
				return
			}
			if s.w.Flush() != nil {
				return
			}
			continue
		}
		s.rawConn.SetWriteDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
		s.execute(cmd)
		cmd.Close()
		if s.state == stateLogout {
			return
		}
		if s.w.Flush() != nil {
			return
		}
	}
}

// armRead sets the read deadline for the next command (the autologout
// timer, RFC 9051 5.4) and reports false if the server is shutting down.
// The deadline is set before the check: Shutdown sets the flag before it
// moves every deadline into the past, so either this check sees the flag
// or the read fails at once.
func (s *Session) armRead() bool {
	timeout := s.srv.cfg.IdleTimeout
	if s.state == stateNotAuthenticated {
		timeout = s.srv.cfg.preAuthTimeout
	}
	s.rawConn.SetReadDeadline(time.Now().Add(timeout))
	return !s.srv.closing.Load()
}

// readError answers an error of ReadCommand; false means the connection
// must end.
func (s *Session) readError(err error) bool {
	var ce *imapwire.CommandError
	if errors.As(err, &ce) {
		kind, code := "BAD", ce.Code
		if ce.No {
			kind = "NO"
			if code == "" {
				code = "TOOBIG"
			}
		}
		// The command could not be read whole, so its name is unknown.
		s.srv.log.Info("imap command failed", "remote", s.remote, "user", s.user.Name,
			"result", kind, "code", code, "text", ce.Text)
		s.srv.cfg.Metrics.CommandDone(unknownCommand, kind, -1)
		if ce.Tag != "" {
			s.w.Tagged(ce.Tag).Status(kind, code, ce.Text).CRLF()
		} else {
			s.w.Untagged().Status(kind, code, ce.Text).CRLF()
		}
		if ce.Fatal {
			s.bye("Closing connection")
			return false
		}
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if s.srv.closing.Load() {
			s.bye("Server shutting down")
		} else {
			s.bye("Autologout; idle for too long")
		}
	}
	return false
}

// cont is the codec's ContinuationFunc: it refuses literals over the limit
// and invites the client to send a synchronizing literal (RFC 9051 7.5).
// The codec has applied its own bounds (MaxLiteralSize for every command
// but APPEND); an APPEND literal is a message, refused with NO [TOOBIG]
// over APPENDLIMIT (RFC 7889 4) before the client sends it.
func (s *Session) cont(tag string, size int64, sync bool) error {
	if name, uid := s.r.CommandName(); imapwire.CarriesMessages(name, uid) && size > s.srv.cfg.MaxMessageSize {
		return &imapwire.CommandError{Code: "TOOBIG", No: true,
			Text: "Message is larger than APPENDLIMIT=" + strconv.FormatInt(s.srv.cfg.MaxMessageSize, 10)}
	}
	if !sync {
		return nil
	}
	// With NOTIFY, events may be written while the command is read.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.w.Continuation("Ready for literal data")
}

// execute runs one command: table lookup, state check, handler, sync and
// the tagged response. A panic in any of it is recovered here.
func (s *Session) execute(cmd *imapwire.Command) {
	name := cmd.Name
	if cmd.UID {
		name = "UID " + name
	}
	before := s.written()
	start := time.Now()
	result, mname := "BAD", unknownCommand // set below; BAD if a panic cuts the command
	defer func() { s.srv.cfg.Metrics.CommandDone(mname, result, time.Since(start)) }()
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		s.srv.panics.Add(1)
		s.srv.log.Error("imap handler panic", "remote", s.remote, "user", s.user.Name,
			"cmd", name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		unclear := s.written() != before
		if unclear {
			// The handler may have stopped mid-line: end it so the
			// status below is at least parsable, then close.
			s.w.CRLF()
		}
		s.w.Tagged(cmd.Tag).Status("BAD", "SERVERBUG", "Internal error").CRLF()
		if unclear {
			s.bye("Internal error")
			s.state = stateLogout
		}
	}()

	c, ok := commands[name]
	if !ok {
		result = s.respond(cmd.Tag, name, start, errBad("", "Unknown command"))
		return
	}
	mname = name // a name from the table: bounded, fit for a metric label
	// The state check comes before any argument is parsed.
	if c.states&s.state == 0 {
		result = s.respond(cmd.Tag, name, start, errBad("", name+" not allowed now."))
		return
	}
	s.okCode, s.okText = "", ""
	s.cmdName, s.cmdUID = name, cmd.UID
	err := c.handle(s, cmd)
	if name == "LOGIN" || name == "AUTHENTICATE" {
		s.srv.cfg.Metrics.Login(loginMechanism(cmd), loginResult(err))
	}
	if errors.Is(err, errResponded) {
		result = respondedResult(s, name)
		return
	}
	if st := toStatus(err); st == nil || st.kind != "BYE" {
		if s.state == stateSelected || s.notify != nil {
			// With NOTIFY, events of other mailboxes go out too.
			if serr := s.syncOrNotify(c.expungeOK); serr != nil {
				if st := toStatus(serr); st.kind == "BYE" {
					err = serr
				} else {
					s.srv.log.Error("imap sync failed", "remote", s.remote, "user", s.user.Name, "err", serr)
				}
			}
		}
	}
	result = s.respond(cmd.Tag, name, start, err)
}

// respond writes the tagged response of a command (or BYE and logout) and
// returns its kind: OK, NO, BAD or BYE. A failed command gets one log line
// (without its tag, which means nothing to an operator).
func (s *Session) respond(tag, name string, start time.Time, err error) string {
	st := toStatus(err)
	if st == nil {
		text := s.okText
		if text == "" {
			text = name + " completed"
		}
		s.w.Tagged(tag).Status("OK", s.okCode, text).CRLF()
		return "OK"
	}
	d := time.Since(start).Round(time.Microsecond)
	if st.cause != nil {
		s.srv.log.Error("imap internal error", "remote", s.remote, "user", s.user.Name,
			"cmd", name, "result", st.kind, "code", st.code, "duration", d, "err", st.cause)
	} else {
		s.srv.log.Info("imap command failed", "remote", s.remote, "user", s.user.Name,
			"cmd", name, "result", st.kind, "code", st.code, "text", st.text, "duration", d)
	}
	if st.kind == "BYE" {
		s.bye(st.text)
		s.state = stateLogout
		return "BYE"
	}
	s.w.Tagged(tag).Status(st.kind, st.code, st.text).CRLF()
	return st.kind
}

// bye writes "* BYE text" and flushes, bounded in time.
func (s *Session) bye(text string) {
	s.rawConn.SetWriteDeadline(time.Now().Add(byeWriteTimeout))
	s.w.Untagged().Status("BYE", "", text).CRLF()
	s.w.Flush()
}

// close releases the session's resources.
func (s *Session) close() {
	if s.sub != nil {
		s.sub.Close()
		s.sub = nil
	}
	s.sel = nil
	s.state = stateLogout
	// A TLS close_notify is a write: do not let it block on a client
	// that stopped reading.
	s.rawConn.SetWriteDeadline(time.Now().Add(time.Second))
	s.conn.Close()
	s.rawConn.Close()
}
