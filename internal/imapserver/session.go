package imapserver

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

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
	if msnCommands[name] {
		h = requireUID(name, h) // RFC 9586 3: BAD [UIDREQUIRED] under UIDONLY
	}
	commands[name] = command{states: states, expungeOK: expungeOK, handle: h}
}

// Session is one client connection.
type Session struct {
	srv   *Server
	ctx   context.Context // cancelled when the server shuts down hard
	conn  net.Conn        // the connection in use (a *tls.Conn after STARTTLS)
	r     *imapwire.Reader
	w     *imapwire.Writer
	state connState
	tls   bool // connection is TLS (IMAPS or after STARTTLS)

	rawConn net.Conn   // the accepted connection, for deadlines and forced close
	remote  netip.Addr // client address (zero for non-IP connections)
	br      *bufio.Reader
	bw      *bufio.Writer
	cw      countWriter // under bw: counts bytes sent, to tell whether a panicking handler wrote anything
	started time.Time

	// The command being run: its table key ("UID FETCH") and whether it is
	// a UID command (sync then adds UID to unsolicited FETCH responses).
	cmdName string
	cmdUID  bool

	// dirty asks the next sync to pull changes from the store even if the
	// change feed signalled nothing (handlers set it after changing the
	// store themselves; the feed sets it for the selected mailbox).
	dirty bool
	// checkMailbox asks the next sync to verify that the selected mailbox
	// still exists (after a mailbox was deleted or renamed anywhere).
	checkMailbox bool

	user store.User
	acct store.Account
	sub  *store.Subscription // the user's change feed, after login

	// Extensions the client enabled (RFC 5161 ENABLE).
	rev2      bool // IMAP4rev2
	utf8      bool // UTF8=ACCEPT (implied by IMAP4rev2)
	condstore bool
	qresync   bool
	uidonly   bool // RFC 9586: no message numbers in the selected state (uidonly.go)

	sel *selected // nil unless state == stateSelected

	// notify is what NOTIFY SET asked for (RFC 5465), nil without it.
	notify *notifyState
	// wmu serializes writes while a NOTIFY session waits for its next
	// command: the reader goroutine's continuation requests and the
	// events written meanwhile (notify.go).
	wmu sync.Mutex

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

	uids []uint32 // ascending; msn-1 -> UID
	// shared tells that uids is the store's cached array (store.UIDLister),
	// shared with other sessions: read-only; writers call ownUIDs first.
	shared bool
	modseq uint64 // highest modseq folded into the view

	// expunged holds UIDs expunged in the store but not yet reported to the
	// client (EXPUNGE was not allowed at the time); they keep their msn.
	expunged map[uint32]bool
	// own records flag changes this session made and already reported
	// (uid -> modseq) so sync does not report them twice.
	own map[uint32]uint64

	firstRecent uint32 // first UID this session claimed as \Recent (rev1), 0 for none; isRecent checks recent
	// recent lists the UID ranges this session claimed as \Recent (rev1,
	// read-write only): one from SELECT, then the new messages sync
	// claimed; another session may have claimed some in between, so there
	// can be gaps. Usually one range.
	recent   []recentRange
	keywords []string        // keywords announced in FLAGS, in order
	kwset    map[string]bool // lower-cased keywords, for lookups

	// pendingModSeq is the view's modseq before the oldest expunge still
	// held back (see sel.expunged); pendingSent tells that the client was
	// sent it as HIGHESTMODSEQ (RFC 7162 3.2).
	pendingModSeq uint64
	pendingSent   bool

	// saved is the search result variable "$" (RFC 5182, part of RFC
	// 9051 6.4.4.1): UIDs, ascending. It lives with the selection, so
	// SELECT, EXAMINE, CLOSE and UNSELECT reset it to empty.
	saved []uint32

	// contexts are the searches this session asked to keep up to date
	// (RFC 5267 4, RETURN (UPDATE)); they end with the selection.
	contexts *searchContexts
}

// recentRange is an inclusive range of UIDs.
type recentRange struct{ lo, hi uint32 }
