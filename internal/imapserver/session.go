package imapserver

import (
	"context"
	"net"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// connState is the IMAP connection state (RFC 9051 3).
type connState uint8

const (
	stateNotAuthenticated connState = 1 << iota
	stateAuthenticated
	stateSelected
	stateLogout

	stateAny    = stateNotAuthenticated | stateAuthenticated | stateSelected
	stateAuthed = stateAuthenticated | stateSelected
)

// handlerFunc runs one command. It reads its arguments from cmd.Args(),
// writes untagged responses through s.w, and returns nil for a tagged OK
// (optionally with s.setOK) or an error (see errors.go) for NO/BAD/BYE.
type handlerFunc func(s *Session, cmd *imapwire.Command) error

// command is an entry of the command table.
type command struct {
	states connState
	// expungeOK is false for FETCH, STORE and SEARCH (non-UID forms) during
	// which EXPUNGE responses must not be sent (RFC 9051 7.5.1).
	expungeOK bool
	handle    handlerFunc
}

// commands is the command table, keyed by upper-case name ("UID FETCH" is
// keyed "UID FETCH"). Each command file registers its commands in init.
var commands = map[string]command{}

func register(name string, states connState, expungeOK bool, h handlerFunc) {
	if _, dup := commands[name]; dup {
		panic("imapserver: command registered twice: " + name)
	}
	commands[name] = command{states: states, expungeOK: expungeOK, handle: h}
}

// Session is one client connection.
type Session struct {
	srv   *Server
	ctx   context.Context // cancelled when the server shuts down hard
	conn  net.Conn
	r     *imapwire.Reader
	w     *imapwire.Writer
	state connState
	tls   bool // connection is TLS (IMAPS or after STARTTLS)

	user store.User
	acct store.Account
	sub  *store.Subscription // the user's change feed, after login

	// Extensions the client enabled (RFC 5161 ENABLE).
	rev2      bool // IMAP4rev2
	utf8      bool // UTF8=ACCEPT (implied by IMAP4rev2)
	condstore bool
	qresync   bool

	sel *selected // nil unless state == stateSelected

	// okCode/okText, when set by a handler, replace the default tagged OK.
	okCode string
	okText string
}

// setOK sets the response code (without brackets) and text of the tagged OK
// that ends the current command.
func (s *Session) setOK(code, text string) { s.okCode, s.okText = code, text }

// selected is the session's view of its selected mailbox: the message
// sequence number of uids[i] is i+1. Changes by other sessions (and by this
// one) are folded in by sync, only where the RFC allows.
type selected struct {
	mbox     store.Mailbox
	readOnly bool

	uids   []uint32 // ascending; msn-1 -> UID
	modseq uint64   // highest modseq folded into the view

	// expunged holds UIDs expunged in the store but not yet reported to the
	// client (EXPUNGE was not allowed at the time); they keep their msn.
	expunged map[uint32]bool
	// own records flag changes this session made and already reported
	// (uid -> modseq) so sync does not report them twice.
	own map[uint32]uint64

	firstRecent uint32 // UIDs >= firstRecent are \Recent in this session (rev1)
	keywords    []string
}
