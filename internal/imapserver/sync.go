package imapserver

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// selectSystemFlags are the flags every mailbox supports (RFC 9051 2.3.2), in
// the order FLAGS lists them.
var selectSystemFlags = []string{store.FlagAnswered, store.FlagFlagged, store.FlagDeleted, store.FlagSeen, store.FlagDraft}

// maxMailboxNameLen bounds a mailbox name in bytes.
const maxMailboxNameLen = 1000

// sync folds the store's changes into the session's view of the selected
// mailbox and tells the client: EXPUNGE (only when expungeOK, RFC 9051
// 7.5.1; otherwise they wait in sel.expunged), EXISTS and, for IMAP4rev1,
// RECENT for new messages, FETCH FLAGS for flag changes made elsewhere
// (unless NOTIFY left them out, notifyFlagChanges), and a new
// FLAGS/PERMANENTFLAGS when the keyword set grows. It asks the store only
// when the change feed signalled this mailbox or s.dirty is set. IDLE,
// NOTIFY and the end of every command all report the selected mailbox's
// changes through it, so they share its rules (UIDONLY included:
// flushExpunges, writeFetchFlags).
func (s *Session) sync(expungeOK bool) error {
	sel := s.sel
	if sel == nil {
		return nil
	}
	if s.sub != nil {
		for _, c := range s.sub.Take() {
			if s.notify != nil {
				s.notify.note(s, c) // other mailboxes: RFC 5465
			}
			switch c.Kind {
			case store.ChangeMessages:
				if c.Mailbox == sel.mbox.ID && c.ModSeq > sel.modseq {
					s.dirty = true
				}
			case store.ChangeMailboxes:
				// A deletion or rename anywhere, or an overflowed queue:
				// recheck the mailbox and its messages.
				s.checkMailbox, s.dirty = true, true
			}
		}
	}
	if s.checkMailbox {
		st, err := s.acct.Status(s.ctx, sel.mbox.ID)
		if errors.Is(err, store.ErrNoMailbox) || errors.Is(err, store.ErrNotFound) ||
			(err == nil && st.UIDValidity != sel.mbox.UIDValidity) {
			return errBye("Selected mailbox was deleted")
		}
		if err != nil {
			return err
		}
		sel.mbox.Name = st.Name // renamed under us
		s.checkMailbox = false
	}
	var (
		added   []uint32
		changed []store.Entry
		newKw   bool
	)
	if s.dirty {
		cs, err := s.acct.Changes(s.ctx, sel.mbox.ID, sel.modseq)
		if errors.Is(err, store.ErrNoMailbox) || errors.Is(err, store.ErrNotFound) {
			return errBye("Selected mailbox was deleted")
		}
		if err != nil {
			return err
		}
		last := sel.lastUID()
		for _, e := range cs.Changed {
			if s.learnKeywords(e.Flags) {
				newKw = true
			}
			if e.UID > last {
				added = append(added, e.UID)
				continue
			}
			if sel.expunged[e.UID] {
				continue
			}
			if m, ok := sel.own[e.UID]; ok && m >= e.ModSeq {
				continue // this session already reported it
			}
			if s.msn(e.UID) == 0 {
				continue
			}
			changed = append(changed, e)
		}
		for _, u := range cs.Expunged {
			if u <= last && !sel.expunged[u] && s.msn(u) != 0 {
				if sel.expunged == nil {
					sel.expunged = make(map[uint32]bool)
				}
				if len(sel.expunged) == 0 {
					// The state the client may safely resync from
					// while this expunge waits (RFC 7162 3.2).
					sel.pendingModSeq, sel.pendingSent = sel.modseq, false
				}
				sel.expunged[u] = true
			}
		}
		if cs.HighestModSeq > sel.modseq {
			sel.modseq = cs.HighestModSeq
		}
		for uid, m := range sel.own {
			if m <= sel.modseq {
				delete(sel.own, uid)
			}
		}
		s.contextNote(cs.Changed) // RFC 5267 4.3, search_context.go
		s.dirty = false
	}

	if newKw {
		s.writeFlagsResponse()
		if !sel.readOnly {
			s.writePermanentFlags()
		}
	}
	if expungeOK && len(sel.expunged) > 0 {
		s.contextRemoveExpunged() // REMOVEFROM before EXPUNGE, RFC 5267 4.3
		s.flushExpunges()
	}
	if len(sel.expunged) > 0 && s.condstore && !sel.pendingSent {
		// RFC 7162 3.2: MODSEQ values sent while an expunge is held back
		// are above the expunge's; a client that kept the highest one and
		// lost the connection would never learn of the expunge, so it is
		// told the mod-sequence it may resync from.
		s.w.Untagged().Status("OK", "HIGHESTMODSEQ "+strconv.FormatUint(sel.pendingModSeq, 10), "Expunges pending").CRLF()
		sel.pendingSent = true
	}
	if len(added) > 0 {
		sel.ownUIDs()
		sel.uids = append(sel.uids, added...)
		s.w.Untagged().Number(uint32(len(sel.uids))).SP().Atom("EXISTS").CRLF()
		if !s.rev2 {
			if err := s.claimRecent(added[0], added[len(added)-1]); err != nil {
				return err
			}
			s.w.Untagged().Number(s.recentCount()).SP().Atom("RECENT").CRLF()
		}
	}
	if !s.notifyFlagChanges() {
		// RFC 5465 5.1: the client asked for the selected mailbox's
		// events without FlagChange. The view needs nothing from them
		// (it holds UIDs, not flags), and the client reads flags when
		// it wants them.
		changed = nil
	}
	for _, e := range changed {
		n := s.msn(e.UID)
		if n == 0 || sel.expunged[e.UID] {
			continue
		}
		s.writeFetchFlags(n, e)
	}
	// ADDTO/REMOVEFROM after EXISTS and FETCH (RFC 5267 4.3).
	return s.contextFlush()
}

// flushExpunges sends EXPUNGE for every pending expunged UID, ascending,
// each with its message sequence number at the time it is sent, and
// removes them from the view in one pass. Once QRESYNC is enabled a single
// "* VANISHED uids" replaces them (RFC 7162 3.2.10); so once UIDONLY is,
// which sends no message number (RFC 9586 3: VANISHED as QRESYNC defines
// it, without EARLIER).
func (s *Session) flushExpunges() {
	sel := s.sel
	if s.qresync || s.uidonly {
		gone := make([]uint32, 0, len(sel.expunged))
		sel.ownUIDs()
		kept := sel.uids[:0]
		for _, u := range sel.uids {
			if sel.expunged[u] {
				gone = append(gone, u)
				delete(sel.own, u)
				continue
			}
			kept = append(kept, u)
		}
		sel.uids = kept
		clear(sel.expunged)
		if len(gone) > 0 {
			s.w.Untagged().Atom("VANISHED").SP().Atom(imapwire.FormatUIDSet(gone)).CRLF()
		}
		return
	}
	removed := uint32(0)
	sel.ownUIDs()
	kept := sel.uids[:0]
	for i, u := range sel.uids {
		if sel.expunged[u] {
			s.w.Untagged().Number(uint32(i) + 1 - removed).SP().Atom("EXPUNGE").CRLF()
			removed++
			delete(sel.own, u)
			continue
		}
		kept = append(kept, u)
	}
	sel.uids = kept
	clear(sel.expunged)
}

// writeFetchFlags sends an unsolicited "* n FETCH (FLAGS (...))". UID is
// added during UID commands, as the client then tracks messages by UID
// (RFC 9051 7.5.2 allows it always), always once CONDSTORE is enabled,
// with the MODSEQ (RFC 7162 3.1), and when NOTIFY asked for FlagChange in
// the selected mailbox (RFC 5465 5.1: the FETCH MUST include UID and
// FLAGS). Under UIDONLY it is "* uid UIDFETCH (FLAGS (...))" (startFetch).
func (s *Session) writeFetchFlags(n uint32, e store.Entry) {
	w := s.startFetch(n, e.UID).Atom("FLAGS").SP().Flags(s.flagsOf(e.UID, e.Flags))
	if (s.cmdUID || s.condstore || s.notifyFlagChangeAsked()) && !s.uidonly {
		w.SP().Atom("UID").SP().Number(e.UID)
	}
	if s.condstore {
		w.SP().Atom("MODSEQ").SP().Open().Number64(e.ModSeq).Close()
	}
	w.Close().CRLF()
}

// flagsOf returns the flags to show for uid: the stored ones plus \Recent
// for IMAP4rev1 sessions that own it.
func (s *Session) flagsOf(uid uint32, flags []string) []string {
	if s.isRecent(uid) {
		out := make([]string, 0, len(flags)+1)
		out = append(out, flags...)
		return append(out, `\Recent`)
	}
	return flags
}

// writeFlagsResponse sends "* FLAGS (...)": system flags then the mailbox's
// keywords (RFC 9051 7.3.5).
func (s *Session) writeFlagsResponse() {
	s.w.Untagged().Atom("FLAGS").SP().Flags(s.definedFlags()).CRLF()
}

// writePermanentFlags sends the PERMANENTFLAGS response code: every defined
// flag, and \* since clients may create keywords (RFC 9051 7.1).
func (s *Session) writePermanentFlags() {
	s.w.Untagged().Status("OK", "PERMANENTFLAGS ("+strings.Join(append(s.definedFlags(), `\*`), " ")+")", "Flags permitted.").CRLF()
}

func (s *Session) definedFlags() []string {
	out := make([]string, 0, len(selectSystemFlags)+len(s.sel.keywords))
	out = append(out, selectSystemFlags...)
	return append(out, s.sel.keywords...)
}

// learnKeywords adds the keywords of flags that the view does not know yet
// and reports whether there were any.
func (s *Session) learnKeywords(flags []string) bool {
	sel := s.sel
	grew := false
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) {
			continue
		}
		k := strings.ToLower(f)
		if sel.kwset[k] {
			continue
		}
		if sel.kwset == nil {
			sel.kwset = make(map[string]bool)
		}
		sel.kwset[k] = true
		sel.keywords = append(sel.keywords, f)
		grew = true
	}
	return grew
}

// claimRecent claims \Recent for the new UIDs lo..hi of a read-write
// IMAP4rev1 session (RFC 3501 2.3.2: a message is recent in one session
// only). Messages another session claimed first stay non-recent here.
func (s *Session) claimRecent(lo, hi uint32) error {
	sel := s.sel
	if sel.readOnly || s.rev2 {
		return nil
	}
	first, err := s.acct.ClaimRecent(s.ctx, sel.mbox.ID)
	if err != nil {
		return err
	}
	if first == 0 || first > hi {
		return nil
	}
	lo = max(lo, first)
	if n := len(sel.recent); n > 0 && sel.recent[n-1].hi+1 >= lo {
		sel.recent[n-1].hi = max(sel.recent[n-1].hi, hi)
	} else {
		sel.recent = append(sel.recent, recentRange{lo, hi})
	}
	if sel.firstRecent == 0 {
		sel.firstRecent = sel.recent[0].lo
	}
	return nil
}

// recentCount is the number of messages of the view that are \Recent in
// this session.
func (s *Session) recentCount() uint32 {
	sel := s.sel
	n := 0
	for _, r := range sel.recent {
		i, _ := slices.BinarySearch(sel.uids, r.lo)
		j, found := slices.BinarySearch(sel.uids, r.hi)
		if found {
			j++
		}
		n += j - i
	}
	return uint32(n)
}

// isRecent tells whether uid is \Recent in this session (IMAP4rev1; a
// read-only session shows what it found recent at EXAMINE).
func (s *Session) isRecent(uid uint32) bool {
	sel := s.sel
	if sel == nil || s.rev2 || uid < sel.firstRecent || sel.firstRecent == 0 {
		return false
	}
	for _, r := range sel.recent {
		if uid >= r.lo && uid <= r.hi {
			return true
		}
	}
	return false
}

// msn returns the message sequence number of uid in the view, 0 if absent.
func (s *Session) msn(uid uint32) uint32 {
	if s.sel == nil {
		return 0
	}
	i, found := slices.BinarySearch(s.sel.uids, uid)
	if !found {
		return 0
	}
	return uint32(i) + 1
}

// lastUID is the highest UID of the view, 0 if empty.
func (sel *selected) lastUID() uint32 {
	if len(sel.uids) == 0 {
		return 0
	}
	return sel.uids[len(sel.uids)-1]
}

// ownUIDs makes sel.uids the session's own copy before it is changed in
// place or appended to: until then it may be the store's array, shared by
// every session that selected the mailbox (one copy per view, made on its
// first change, instead of one per SELECT).
func (sel *selected) ownUIDs() {
	if sel.shared {
		sel.uids = slices.Clone(sel.uids)
		sel.shared = false
	}
}

// markOwn records flag changes this session has reported itself, so sync
// does not report them again when the change feed echoes them.
func (s *Session) markOwn(entries []store.Entry) {
	sel := s.sel
	if sel == nil {
		return
	}
	if sel.own == nil {
		sel.own = make(map[uint32]uint64, len(entries))
	}
	for _, e := range entries {
		if e.ModSeq > sel.own[e.UID] {
			sel.own[e.UID] = e.ModSeq
		}
	}
}

// resolveSeq turns a sequence set into the ascending UIDs of the view it
// names. Message sequence numbers must exist (RFC 9051 6.4.5 "*" is the
// last message; a number past it is an error); a UID set names whatever
// UIDs of the view fall in its ranges, "*" being the highest UID (RFC 9051
// 6.4.9: "559:*" includes the last message even if its UID is below 559).
func (s *Session) resolveSeq(set imapwire.SeqSet, uid bool) ([]uint32, error) {
	sel := s.sel
	if sel == nil {
		return nil, errBad("", "No mailbox selected")
	}
	uids := sel.uids
	if set.Saved {
		// RFC 5182 2.1: "$" names the messages of the last saved search
		// that still exist; an empty result names none, which is no error.
		var out []uint32
		for _, u := range sel.saved {
			if _, ok := slices.BinarySearch(uids, u); ok {
				out = append(out, u)
			}
		}
		return out, nil
	}
	n := uint32(len(uids))
	var out []uint32
	for _, r := range set.Ranges {
		if uid {
			if n == 0 {
				return nil, nil
			}
			a, b := r.Start, r.Stop
			if a == 0 {
				a = uids[n-1]
			}
			if b == 0 {
				b = uids[n-1]
			}
			if a > b {
				a, b = b, a
			}
			i := sort.Search(len(uids), func(k int) bool { return uids[k] >= a })
			j := sort.Search(len(uids), func(k int) bool { return uids[k] > b })
			out = append(out, uids[i:j]...)
			continue
		}
		a, b := r.Start, r.Stop
		if a == 0 {
			a = n
		}
		if b == 0 {
			b = n
		}
		if a > b {
			a, b = b, a
		}
		if a == 0 || b > n {
			return nil, errBad("", "Invalid message sequence number")
		}
		out = append(out, uids[a-1:b]...)
	}
	if len(set.Ranges) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out, nil
}

// mailboxName validates a decoded client mailbox name (RFC 9051 5.1): not
// empty, valid UTF-8 without control characters, no empty hierarchy level,
// no wildcard ('%' and '*' are legal in names, but they cannot be told
// apart from LIST patterns, so they are refused as Dovecot does). INBOX is
// case-insensitive, also as the first level of a child name. A trailing
// separator is an empty level too: CREATE, which must accept "foo/" (RFC
// 9051 6.3.4), strips it before calling this.
func (s *Session) mailboxName(name string) (string, error) {
	switch {
	case name == "":
		return "", errNo("CANNOT", "Empty mailbox name")
	case len(name) > maxMailboxNameLen:
		return "", errNo("CANNOT", "Mailbox name too long")
	case !utf8.ValidString(name):
		return "", errNo("CANNOT", "Mailbox name is not valid UTF-8")
	case strings.ContainsAny(name, "%*"):
		return "", errNo("CANNOT", "Mailbox name contains a wildcard")
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//"):
		return "", errNo("CANNOT", "Mailbox name has an empty hierarchy level")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "", errNo("CANNOT", "Mailbox name contains a control character")
		}
	}
	if len(name) >= 5 && strings.EqualFold(name[:5], "INBOX") && (len(name) == 5 || name[5] == '/') {
		name = "INBOX" + name[5:]
	}
	return name, nil
}

// enableCondstore turns CONDSTORE on for the rest of the connection on the
// first CONDSTORE enabling command (RFC 7162 3.1: ENABLE, SELECT/EXAMINE
// (CONDSTORE), STATUS HIGHESTMODSEQ, FETCH/SEARCH MODSEQ, FETCH
// CHANGEDSINCE, STORE UNCHANGEDSINCE). When a mailbox is already selected
// the HIGHESTMODSEQ sent at SELECT may be stale (flag changes reached the
// client since, without their MODSEQ), so the current one is sent now
// (RFC 7162 3.1.2.1: the client needs it to resynchronize later).
func (s *Session) enableCondstore() {
	if s.condstore {
		return
	}
	s.condstore = true
	if s.sel != nil {
		s.w.Untagged().Status("OK", "HIGHESTMODSEQ "+strconv.FormatUint(s.sel.modseq, 10), "Highest").CRLF()
	}
}
