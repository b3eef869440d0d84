package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emersion/go-smtp"
)

// backend gives go-smtp a session per connection (after LHLO).
type backend struct{ srv *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	sess := &session{srv: b.srv, remote: remoteName(c.Conn())}
	sess.conn, _ = c.Conn().(*conn)
	if sess.conn != nil && sess.conn.stopping() {
		return nil, errShuttingDown(b.srv)
	}
	return sess, nil
}

func errShuttingDown(s *Server) *smtp.SMTPError {
	return replyErr(421, 4, 3, 2, s.opts.Hostname+" shutting down")
}

// session is the transaction state of one connection. go-smtp checks the
// order of commands (LHLO, then MAIL, RCPT, DATA) and the parameters it
// knows; the session checks the addresses and stores the message.
type session struct {
	srv    *Server
	conn   *conn // nil only if go-smtp was given another net.Conn
	remote string

	open  bool // MAIL accepted, transaction open
	from  path // from.addr "" for the null reverse-path <>
	utf8  bool // SMTPUTF8 given (RFC 6531 3.4)
	rcpts []recipient
}

var _ smtp.LMTPSession = (*session)(nil)

// Mail opens a transaction (RFC 5321 4.1.1.2).
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.conn != nil && s.conn.stopping() {
		return errShuttingDown(s.srv)
	}
	if s.open {
		// go-smtp lets a second MAIL through; RFC 5321 4.1.4 refuses it.
		return replyErr(503, 5, 5, 1, "nested MAIL command")
	}
	p := path{}
	if from != "" {
		var err error
		if p, err = splitPath(from, opts.UTF8); errors.Is(err, errNonASCII) {
			return replyErr(553, 5, 6, 7, "non-ASCII sender address without SMTPUTF8")
		} else if err != nil {
			return replyErr(501, 5, 1, 7, "bad sender address: "+err.Error())
		}
	}
	// RFC 1870 6. go-smtp refuses SIZE above its MaxMessageBytes, which is
	// one more than our limit (see New).
	if opts.Size > s.srv.sizeMax {
		return replyErr(552, 5, 3, 4, fmt.Sprintf("message size exceeds fixed maximum of %d", s.srv.sizeMax))
	}
	s.open, s.from, s.utf8, s.rcpts = true, p, opts.UTF8, nil
	return nil
}

// Rcpt checks a recipient at once, so that the client learns of an unknown
// address before sending the message (RFC 2033 4.2).
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	p, err := splitPath(to, s.utf8)
	if errors.Is(err, errNonASCII) {
		return replyErr(553, 5, 6, 7, "non-ASCII recipient address without SMTPUTF8")
	} else if err != nil {
		return replyErr(501, 5, 1, 3, "bad recipient address: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.opts.Timeout)
	defer cancel()
	r, fail := s.srv.resolve(ctx, p)
	if fail != nil {
		s.srv.log.Info("lmtp rcpt refused", "remote", s.remote, "from", s.from.addr, "to", p.addr, "result", result(fail))
		return fail
	}
	s.rcpts = append(s.rcpts, r)
	return nil
}

// LMTPData receives the message and sets one status per accepted
// recipient, in the order of the RCPT commands; go-smtp writes them
// (RFC 2033 4.2). It serves DATA and BDAT (RFC 3030) alike.
func (s *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	s.srv.busy.Add(1)
	defer s.srv.busy.Done()
	var refresh func()
	if s.conn != nil {
		s.conn.setInData(true) // cleared by Reset, after go-smtp wrote the replies
		refresh = func() { s.conn.SetReadDeadline(time.Now().Add(s.srv.opts.Timeout)) }
		refresh()
	}
	sp := newSpool(s.srv.opts.MemoryLimit, s.srv.opts.TempDir)
	defer sp.Close()
	n, err := receive(r, sp, s.srv.sizeMax, refresh)
	var fail *smtp.SMTPError
	switch {
	case err == nil:
		s.deliver(sp, status)
		return nil
	case errors.Is(err, errTooBig):
		fail = replyErr(552, 5, 3, 4, "message too big")
		err = nil
	case errors.Is(err, errSpool):
		s.srv.log.Error("lmtp: spooling message", "err", err)
		fail = errTempFail()
	case errors.Is(err, smtp.ErrTooLongLine):
		// RFC 5321 4.5.3.1.6; go-smtp closes the connection after the replies.
		fail = replyErr(500, 5, 5, 2, fmt.Sprintf("line longer than %d octets", s.srv.opts.MaxLineLength))
	default:
		s.srv.log.Info("lmtp: connection lost during DATA", "remote", s.remote, "from", s.from.addr, "err", err)
		return errTempFail()
	}
	for _, rc := range s.rcpts {
		s.logDelivery(rc, n, fail, 0, err)
		status.SetStatus(rc.addr, fail)
	}
	return nil
}

// Data is not called in LMTP mode (go-smtp calls LMTPData); it is part of
// smtp.Session.
func (s *session) Data(io.Reader) error { return replyErr(503, 5, 5, 1, "LMTP only") }

// Reset ends the transaction: RSET, LHLO, and the end of DATA.
func (s *session) Reset() {
	s.open, s.from, s.utf8, s.rcpts = false, path{}, false, nil
	if s.conn != nil {
		s.conn.setInData(false)
	}
}

func (s *session) Logout() error {
	s.Reset()
	return nil
}

// result formats a reply's codes for the log: "250 2.0.0".
func result(e *smtp.SMTPError) string {
	c := e.EnhancedCode
	return fmt.Sprintf("%d %d.%d.%d", e.Code, c[0], c[1], c[2])
}
