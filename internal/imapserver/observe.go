package imapserver

import (
	"errors"
	"net"
	"strings"
	"sync/atomic"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/metrics"
)

// What the operator sees of the server: the byte counts of the
// connection log lines and the values given to the metrics hooks
// (Config.Metrics). Label values stay bounded: command names come from the
// command table, mechanisms from the ones Casier supports.

// unknownCommand is the metric label of a command that is not in the
// table or could not be read whole: its name is the client's text.
const unknownCommand = "unknown"

// countConn counts the bytes read from and written to a connection. It
// wraps the accepted connection, under any TLS layer, so the counts are
// those on the wire. Atomic: IDLE reads DONE in a goroutine of its own.
type countConn struct {
	net.Conn
	in, out atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// connBytes returns the bytes read and written on c if it counts them.
func connBytes(c net.Conn) (in, out int64) {
	if cc, ok := c.(*countConn); ok {
		return cc.in.Load(), cc.out.Load()
	}
	return 0, 0
}

// listenerKind names the listener a connection came from.
func listenerKind(implicitTLS bool) string {
	if implicitTLS {
		return metrics.KindIMAPS
	}
	return metrics.KindIMAP
}

// respondedResult is the result of a command whose handler wrote its own
// tagged response (LOGOUT, STARTTLS, IDLE ...): OK, unless the handler
// ended the session because the client went away or failed the TLS
// handshake, which counts as BYE.
func respondedResult(s *Session, name string) string {
	if s.state == stateLogout && name != "LOGOUT" {
		return "BYE"
	}
	return "OK"
}

// saslMechanisms are the SASL mechanism names (RFC 4422, IANA registry)
// that may appear as a label value; any other name counts as "other", so
// that the client's text never becomes a label value.
var saslMechanisms = map[string]bool{
	"PLAIN": true, "LOGIN": true, "EXTERNAL": true, "ANONYMOUS": true,
	"CRAM-MD5": true, "DIGEST-MD5": true, "GSSAPI": true,
	"SCRAM-SHA-1": true, "SCRAM-SHA-1-PLUS": true,
	"SCRAM-SHA-256": true, "SCRAM-SHA-256-PLUS": true,
	"SCRAM-SHA-512": true, "SCRAM-SHA-512-PLUS": true,
	"OAUTHBEARER": true, "XOAUTH2": true,
}

// loginMechanism is the mechanism label of a LOGIN or AUTHENTICATE
// command: "LOGIN" for the LOGIN command (RFC 9051 6.2.3), the SASL
// mechanism in upper case for AUTHENTICATE, or "other". The SASL LOGIN
// mechanism shares the label of the LOGIN command: both send the
// password as such.
func loginMechanism(cmd *imapwire.Command) string {
	if cmd.Name == "LOGIN" {
		return "LOGIN"
	}
	d := cmd.Args()
	if d.SP() != nil {
		return "other"
	}
	mech, err := d.Atom()
	if mech = strings.ToUpper(mech); err == nil && saslMechanisms[mech] {
		return mech
	}
	return "other"
}

// loginResult classifies the outcome of LOGIN or AUTHENTICATE.
func loginResult(err error) string {
	if err == nil {
		return metrics.LoginSuccess
	}
	if errors.Is(err, errResponded) {
		return metrics.LoginRefused // the client went away mid-exchange
	}
	st := toStatus(err)
	switch {
	case st.cause != nil || st.kind == "BYE":
		return metrics.LoginError
	case st.code == "AUTHENTICATIONFAILED" || st.code == "AUTHORIZATIONFAILED":
		return metrics.LoginFailure
	}
	return metrics.LoginRefused
}
