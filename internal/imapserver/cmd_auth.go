package imapserver

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	register("CAPABILITY", stateAny, true, cmdCapability)
	register("NOOP", stateAny, true, cmdNoop)
	register("LOGOUT", stateAny, true, cmdLogout)
	register("STARTTLS", stateNotAuthenticated, true, cmdStartTLS)
	register("LOGIN", stateNotAuthenticated, true, cmdLogin)
	register("AUTHENTICATE", stateNotAuthenticated, true, cmdAuthenticate)
	register("ENABLE", stateAuthed, true, cmdEnable)
	register("ID", stateAny, true, cmdID)
}

// RFC 2971 3.3 bounds on the client's ID list.
const (
	maxIDPairs    = 30
	maxIDFieldLen = 30
	maxIDValueLen = 1024
)

// cmdCapability: RFC 9051 6.1.1.
func cmdCapability(s *Session, cmd *imapwire.Command) error {
	if err := cmd.Args().End(); err != nil {
		return err
	}
	s.writeCapability()
	return nil
}

func (s *Session) writeCapability() {
	s.w.Untagged().Atom("CAPABILITY")
	for _, c := range s.capabilities() {
		s.w.SP().Atom(c)
	}
	s.w.CRLF()
}

// cmdNoop: RFC 9051 6.1.2. The core's sync sends pending updates.
func cmdNoop(s *Session, cmd *imapwire.Command) error {
	return cmd.Args().End()
}

// cmdLogout: RFC 9051 6.1.3.
func cmdLogout(s *Session, cmd *imapwire.Command) error {
	if err := cmd.Args().End(); err != nil {
		return err
	}
	s.w.Untagged().Status("BYE", "", "Logging out").CRLF()
	s.w.Tagged(cmd.Tag).Status("OK", "", "LOGOUT completed").CRLF()
	s.w.Flush()
	s.state = stateLogout
	return errResponded
}

// cmdStartTLS: RFC 9051 6.2.1.
func cmdStartTLS(s *Session, cmd *imapwire.Command) error {
	if err := cmd.Args().End(); err != nil {
		return err
	}
	if s.srv.cfg.TLS == nil {
		return errBad("", "TLS is not available")
	}
	if s.tls {
		return errBad("", "TLS is already active")
	}
	s.w.Tagged(cmd.Tag).Status("OK", "", "Begin TLS negotiation now").CRLF()
	if err := s.w.Flush(); err != nil {
		s.state = stateLogout
		return errResponded
	}
	// RFC 9051 6.2.1: anything the client pipelined after STARTTLS was
	// sent in plaintext and MUST be discarded; setConn drops the old
	// buffered reader with it. The handshake reads the socket directly.
	tc := tls.Server(s.rawConn, s.srv.cfg.TLS)
	s.rawConn.SetDeadline(time.Now().Add(s.srv.cfg.handshakeDeadline))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		s.srv.log.Info("imap STARTTLS handshake failed", "remote", s.remote, "err", err)
		s.state = stateLogout
		return errResponded
	}
	s.rawConn.SetDeadline(time.Time{})
	s.setConn(tc, true)
	return errResponded
}

// cmdLogin: RFC 9051 6.2.3.
func cmdLogin(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	user, err := d.AString()
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	pass, err := d.AString()
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	if !s.plaintextAllowed() {
		return errNo("PRIVACYREQUIRED", "Plaintext authentication is not allowed without TLS")
	}
	return s.login(user, pass)
}

// login checks the password and enters the authenticated state.
func (s *Session) login(user, pass string) error {
	u, err := s.srv.auth.Login(s.ctx, s.remote, user, pass)
	if err != nil {
		return authError(err)
	}
	return s.enterAuthenticated(u)
}

// authError maps an authentication failure to its response (RFC 5530
// codes).
func authError(err error) error {
	switch {
	case errors.Is(err, auth.ErrFailed):
		return errNo("AUTHENTICATIONFAILED", "Authentication failed")
	case errors.Is(err, auth.ErrAuthzFailed):
		return errNo("AUTHORIZATIONFAILED", "Authorization identity not allowed")
	case errors.Is(err, auth.ErrChannelBinding):
		return errNo("AUTHENTICATIONFAILED", "Channel binding failed")
	case errors.Is(err, auth.ErrTokenUnavailable):
		return errNo("UNAVAILABLE", "Token verification is temporarily unavailable")
	}
	return errFromStore(err)
}

// enterAuthenticated opens the user's account and moves to the
// authenticated state.
func (s *Session) enterAuthenticated(u store.User) error {
	acct, err := s.srv.st.Account(s.ctx, u.ID)
	if err != nil {
		return errFromStore(err)
	}
	s.user, s.acct = u, acct
	s.sub = s.srv.st.Hub().Subscribe(u.ID)
	s.state = stateAuthenticated
	// RFC 9051 6.2.3: the OK may carry the capabilities, which change
	// after login.
	s.setOK("CAPABILITY "+strings.Join(s.capabilities(), " "), "Logged in")
	return nil
}

// connInfo describes the connection to the SASL mechanisms: TLS state for
// SCRAM channel binding (RFC 5802 6), and whether secrets may be sent.
func (s *Session) connInfo() auth.ConnInfo {
	ci := auth.ConnInfo{Remote: s.remote, PlaintextOK: s.plaintextAllowed()}
	if tc, ok := s.conn.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		ci.TLS = &cs
		ci.ServerCert = s.serverCert(&cs)
	}
	return ci
}

// serverCert is the leaf certificate this server presented on the
// connection (tls-server-end-point, RFC 5929 4.1). crypto/tls does not
// report it, so it is chosen again the way the handshake did: through
// GetCertificate when set, else the first of Certificates.
func (s *Session) serverCert(cs *tls.ConnectionState) []byte {
	cfg := s.srv.cfg.TLS
	if cfg == nil {
		return nil
	}
	var cert *tls.Certificate
	if cfg.GetCertificate != nil {
		c, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: cs.ServerName})
		if err == nil {
			cert = c
		}
	}
	if cert == nil && len(cfg.Certificates) == 1 {
		cert = &cfg.Certificates[0]
	}
	if cert == nil || len(cert.Certificate) == 0 {
		// Several certificates chosen by SNI: not knowing which one was
		// sent, tls-server-end-point is not offered.
		return nil
	}
	return cert.Certificate[0]
}

// cmdAuthenticate: RFC 9051 6.2.2, RFC 4959 (SASL-IR); the mechanisms
// live in package auth.
func cmdAuthenticate(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	mech, err := d.Atom()
	if err != nil {
		return err
	}
	var ir []byte // nil: no initial response
	if d.More() {
		if err := d.SP(); err != nil {
			return err
		}
		// RFC 4959: base64 initial response, "=" for an empty one.
		tok, err := d.Atom()
		if err != nil {
			return err
		}
		if ir, err = decodeSASL(tok); err != nil {
			return err
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	ci := s.connInfo()
	ex, err := s.srv.auth.Start(mech, ci)
	if err != nil {
		if !ci.PlaintextOK && (strings.EqualFold(mech, auth.MechPlain) || strings.EqualFold(mech, auth.MechLogin)) {
			return errNo("PRIVACYREQUIRED", "Plaintext authentication is not allowed without TLS")
		}
		return errNo("", "Unsupported authentication mechanism")
	}

	resp := ir
	for {
		challenge, done, err := ex.Next(s.ctx, resp)
		if err != nil {
			return authError(err)
		}
		if done {
			return s.enterAuthenticated(ex.User())
		}
		if err := s.w.Continuation(base64.StdEncoding.EncodeToString(challenge)); err != nil {
			return errBye("Write error")
		}
		line, err := s.r.ReadLine()
		if err != nil {
			var ce *imapwire.CommandError
			var ne net.Error
			switch {
			case errors.As(err, &ce) && !ce.Fatal:
				return errBad("", ce.Text)
			case s.srv.closing.Load():
				return errBye("Server shutting down")
			case errors.As(err, &ne) && ne.Timeout():
				return errBye("Autologout; idle for too long")
			}
			s.state = stateLogout // the client went away
			return errResponded
		}
		// RFC 9051 6.2.2: "*" cancels the exchange with BAD.
		if bytes.Equal(line, []byte("*")) {
			return errBad("", "Authentication cancelled")
		}
		if resp, err = decodeSASL(string(line)); err != nil {
			return err
		}
	}
}

// decodeSASL decodes a base64 SASL response; "=" (initial response) and an
// empty line (continuation) are the empty response, never nil. Invalid
// base64 is a BAD (RFC 9051 6.2.2).
func decodeSASL(s string) ([]byte, error) {
	if s == "=" || s == "" {
		return []byte{}, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errBad("", "Invalid base64 data")
	}
	return b, nil
}

// cmdEnable: RFC 5161, RFC 9051 6.3.1. Only extensions that change server
// behaviour are enabled; the ENABLED response lists what this command
// newly enabled.
func cmdEnable(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	var names []string
	for {
		if err := d.SP(); err != nil {
			return err
		}
		n, err := d.Atom()
		if err != nil {
			return err
		}
		names = append(names, n)
		if !d.More() {
			break
		}
	}
	var enabled []string
	for _, n := range names {
		switch strings.ToUpper(n) {
		case "IMAP4REV2":
			if !s.rev2 {
				// RFC 9051 implies UTF-8 names (RFC 6855 semantics).
				s.rev2, s.utf8 = true, true
				enabled = append(enabled, "IMAP4rev2")
			}
		case "UTF8=ACCEPT":
			if !s.utf8 {
				s.utf8 = true
				enabled = append(enabled, "UTF8=ACCEPT")
			}
		case "CONDSTORE":
			// RFC 7162 3.1: ENABLE CONDSTORE is a CONDSTORE enabling command.
			if !s.condstore {
				s.enableCondstore()
				enabled = append(enabled, "CONDSTORE")
			}
		case "QRESYNC":
			// RFC 7162 3.2.3: QRESYNC implies CONDSTORE.
			if !s.qresync {
				s.qresync = true
				s.enableCondstore()
				enabled = append(enabled, "QRESYNC")
			}
		case "UIDONLY":
			// RFC 9586 3 (uidonly.go: not while a mailbox is selected).
			if s.enableUIDOnly() {
				enabled = append(enabled, "UIDONLY")
			}
		}
	}
	s.w.UTF8 = s.utf8
	s.w.Untagged().Atom("ENABLED")
	for _, e := range enabled {
		s.w.SP().Atom(e)
	}
	s.w.CRLF()
	return nil
}

// cmdID: RFC 2971.
func cmdID(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	var params []string
	if d.Peek() == '(' {
		n := 0
		err := d.List(func() error {
			if n/2 >= maxIDPairs {
				return errBad("", "Too many ID parameters")
			}
			if n%2 == 0 {
				f, err := d.String()
				if err != nil {
					return err
				}
				if len(f) > maxIDFieldLen {
					return errBad("", "ID field name too long")
				}
				params = append(params, f)
			} else {
				v, _, err := d.NString()
				if err != nil {
					return err
				}
				if len(v) > maxIDValueLen {
					return errBad("", "ID field value too long")
				}
				params = append(params, v)
			}
			n++
			return nil
		})
		if err != nil {
			return err
		}
		if n%2 != 0 {
			return errBad("", "ID field without a value")
		}
	} else {
		_, isNil, err := d.NString()
		if err != nil {
			return err
		}
		if !isNil {
			return errBad("", "Expected a parameter list or NIL")
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	if len(params) > 0 {
		attrs := make([]any, 0, len(params)+4)
		attrs = append(attrs, "remote", s.remote, "user", s.user.Name)
		for i := 0; i+1 < len(params); i += 2 {
			attrs = append(attrs, "id."+strings.ToLower(params[i]), params[i+1])
		}
		s.srv.log.Debug("imap client ID", attrs...)
	}
	s.w.Untagged().Atom("ID").SP().Open().
		String("name").SP().String("Casier").SP().
		String("version").SP().String("0.1").Close().CRLF()
	return nil
}
