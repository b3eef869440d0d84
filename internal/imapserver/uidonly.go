package imapserver

// UIDONLY (RFC 9586). Once the client has enabled it, the selected state
// speaks UIDs only: the server sends no message sequence number and
// refuses every command that carries one. The numbers still exist inside
// the session (the view's order, EXISTS counts), so the rules live at the
// few places where a number would reach the wire or come from it:
//
//   - commands whose arguments or results are message numbers (FETCH,
//     STORE, SEARCH, COPY, MOVE, SORT, THREAD, REPLACE) are wrapped at
//     registration (requireUID): BAD [UIDREQUIRED] before any argument is
//     read; their UID forms run unchanged.
//   - a message-number key in the search keys of any command (compileSearchKeys)
//     and QRESYNC's seq-match-data (cmd_select.go) get the same BAD.
//   - every untagged FETCH starts with startFetch: "* uid UIDFETCH (" instead
//     of "* msn FETCH (".
//   - expunges go out as "* VANISHED uids" (flushExpunges, as for QRESYNC).
//   - SELECT leaves out [UNSEEN n], a message number.

import (
	"strings"

	"github.com/casier/casier/internal/imapwire"
)

// msnCommands are the commands whose non-UID form takes or returns message
// sequence numbers (RFC 9586 3: the client must use their UID forms).
// EXPUNGE takes no number and reports VANISHED, so it stays allowed.
var msnCommands = map[string]bool{
	"FETCH": true, "STORE": true, "SEARCH": true, "COPY": true, "MOVE": true,
	"SORT": true, "THREAD": true, "REPLACE": true,
}

// requireUID wraps the handler of a command of msnCommands: once UIDONLY is
// enabled it is refused with BAD [UIDREQUIRED] (RFC 9586 3) before its
// arguments are read; the state check of the table has run already.
func requireUID(name string, h handlerFunc) handlerFunc {
	return func(s *Session, cmd *imapwire.Command) error {
		if s.uidonly {
			return errBad("UIDREQUIRED", name+" with message numbers is not allowed with UIDONLY; use UID "+name)
		}
		return h(s, cmd)
	}
}

// enableUIDOnly turns UIDONLY on and reports whether it did. RFC 5161 3.1
// (and RFC 9051 6.3.1) allow ENABLE in the authenticated state only; this
// server accepts ENABLE while a mailbox is selected for the other
// extensions, but not for UIDONLY: the client already holds message
// numbers for the selected mailbox (pending expunges, search contexts),
// and switching them off mid-selection would leave them dangling. Not
// enabling an extension is what RFC 5161 3.1 lets a server do: it is left
// out of the ENABLED response.
func (s *Session) enableUIDOnly() bool {
	if s.uidonly || s.sel != nil {
		return false
	}
	s.uidonly = true
	return true
}

// startFetch starts an untagged FETCH response for the message uid, whose
// message number in the view is msn: "* msn FETCH (" or, once UIDONLY is
// enabled, "* uid UIDFETCH (" (RFC 9586 3, the UIDFETCH response). Under UIDONLY the callers
// leave out the UID data item they would add on their own (UID FETCH,
// CONDSTORE, NOTIFY FlagChange): the response's number already is the UID. A UID item the client asked for is still returned: it
// is a valid msg-att, and "UID FETCH n (UID)" must not give an empty list,
// which msg-att's grammar (RFC 9051 9) forbids.
func (s *Session) startFetch(msn, uid uint32) *imapwire.Writer {
	if s.uidonly {
		return s.w.Untagged().Number(uid).SP().Atom("UIDFETCH").SP().Open()
	}
	return s.w.Untagged().Number(msn).SP().Atom("FETCH").SP().Open()
}

// msnSearchKey tells whether the keys hold a message-number sequence set
// (the "sequence-set" search key, RFC 9051 6.4.4), anywhere in the tree.
// "$" names a saved result, kept as UIDs (RFC 5182), and is no message
// number.
func msnSearchKey(keys []imapwire.SearchKey) bool {
	for i := range keys {
		k := &keys[i]
		if strings.EqualFold(k.Op, "SEQSET") && (k.Seq == nil || !k.Seq.Saved) || msnSearchKey(k.Sub) {
			return true
		}
	}
	return false
}
