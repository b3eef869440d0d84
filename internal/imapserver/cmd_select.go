package imapserver

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	register("SELECT", stateAuthed, true, cmdSelect)
	register("EXAMINE", stateAuthed, true, cmdExamine)
	register("CLOSE", stateSelected, true, cmdClose)
	register("UNSELECT", stateSelected, true, cmdUnselect)
	register("CHECK", stateSelected, true, cmdCheck)
}

// cmdSelect: RFC 9051 6.3.2, RFC 3501 6.3.1.
func cmdSelect(s *Session, cmd *imapwire.Command) error { return s.selectMailbox(cmd, false) }

// cmdExamine: RFC 9051 6.3.3, RFC 3501 6.3.2.
func cmdExamine(s *Session, cmd *imapwire.Command) error { return s.selectMailbox(cmd, true) }

func (s *Session) selectMailbox(cmd *imapwire.Command, readOnly bool) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	raw, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	if d.More() {
		if err := d.SP(); err != nil {
			return err
		}
		if d.Peek() == '(' {
			// CONDSTORE/QRESYNC select parameters (RFC 7162) are not
			// offered.
			return errBad("", "SELECT parameters are not supported")
		}
		return d.End()
	}
	// RFC 9051 6.3.2: SELECT first deselects the current mailbox, so a
	// failing SELECT leaves none selected, and [CLOSED] marks the switch.
	if s.sel != nil {
		s.deselect()
		s.w.Untagged().Status("OK", "CLOSED", "Previous mailbox is now closed").CRLF()
	}
	name, err := s.mailboxName(raw)
	if err != nil {
		return err
	}
	mb, err := s.acct.Mailbox(s.ctx, name)
	if err != nil {
		return errFromStore(err)
	}
	// Changes queued so far are older than the state read below.
	s.sub.Take()
	s.dirty, s.checkMailbox = false, false
	// Status before Entries: a change landing between the two is pulled
	// again by the next sync (its modseq is above sel.modseq).
	st, err := s.acct.Status(s.ctx, mb.ID)
	if err != nil {
		return errFromStore(err)
	}
	entries, err := s.acct.Entries(s.ctx, mb.ID)
	if err != nil {
		return errFromStore(err)
	}
	sel := &selected{
		mbox:     st.Mailbox,
		readOnly: readOnly,
		uids:     make([]uint32, len(entries)),
		modseq:   st.HighestModSeq,
	}
	s.sel = sel
	for _, k := range st.Keywords {
		s.learnKeywords([]string{k})
	}
	unseen := uint32(0)
	for i, e := range entries {
		sel.uids[i] = e.UID
		if unseen == 0 && !slices.Contains(e.Flags, store.FlagSeen) {
			unseen = uint32(i) + 1
		}
		s.learnKeywords(e.Flags)
	}
	uidNext := max(st.UIDNext, sel.lastUID()+1)

	var listAttrs []string
	if s.rev2 {
		if listAttrs, err = s.selectListAttrs(sel.mbox); err != nil {
			s.deselect()
			return errFromStore(err)
		}
	}
	if !readOnly && !s.rev2 && len(sel.uids) > 0 {
		// RFC 3501 2.3.2: this session now owns \Recent of the messages
		// no other session has seen.
		if err := s.claimRecent(sel.uids[0], sel.lastUID()); err != nil {
			s.deselect()
			return errFromStore(err)
		}
	}
	if readOnly && !s.rev2 && len(sel.uids) > 0 && st.FirstRecentUID != 0 && st.FirstRecentUID <= sel.lastUID() {
		// RFC 3501 6.3.2: EXAMINE must not take \Recent away, yet its
		// RECENT counts the messages that have it; this session shows
		// them without claiming them.
		sel.recent = []recentRange{{max(sel.uids[0], st.FirstRecentUID), sel.lastUID()}}
		sel.firstRecent = sel.recent[0].lo
	}
	s.state = stateSelected

	s.writeFlagsResponse()
	if readOnly {
		s.w.Untagged().Status("OK", "PERMANENTFLAGS ()", "No permanent flags permitted").CRLF()
	} else {
		s.writePermanentFlags()
	}
	s.w.Untagged().Number(uint32(len(sel.uids))).SP().Atom("EXISTS").CRLF()
	if !s.rev2 {
		// IMAP4rev1 only: RFC 9051 removed RECENT and [UNSEEN].
		s.w.Untagged().Number(s.recentCount()).SP().Atom("RECENT").CRLF()
		if unseen > 0 {
			s.w.Untagged().Status("OK", "UNSEEN "+u32str(unseen), "First unseen.").CRLF()
		}
	}
	s.w.Untagged().Status("OK", "UIDVALIDITY "+u32str(sel.mbox.UIDValidity), "UIDs valid").CRLF()
	s.w.Untagged().Status("OK", "UIDNEXT "+u32str(uidNext), "Predicted next UID").CRLF()
	if s.rev2 {
		// RFC 9051 6.3.2: a LIST response with accurate attributes.
		w := s.w.Untagged().Atom("LIST").SP().Open()
		for i, a := range listAttrs {
			if i > 0 {
				w.SP()
			}
			w.Atom(a)
		}
		w.Close().SP().String("/").SP().Mailbox(sel.mbox.Name).CRLF()
	}
	if readOnly {
		s.setOK("READ-ONLY", "EXAMINE completed")
	} else {
		s.setOK("READ-WRITE", "SELECT completed")
	}
	return nil
}

// selectListAttrs returns the mailbox attributes of mb for the LIST
// response of SELECT: \HasChildren or \HasNoChildren (RFC 9051 7.3.1) and
// its special use (RFC 6154).
func (s *Session) selectListAttrs(mb store.Mailbox) ([]string, error) {
	all, err := s.acct.Mailboxes(s.ctx)
	if err != nil {
		return nil, err
	}
	prefix := mb.Name + "/"
	attr := `\HasNoChildren`
	for _, m := range all {
		if strings.HasPrefix(m.Name, prefix) {
			attr = `\HasChildren`
			break
		}
	}
	attrs := []string{attr}
	if mb.SpecialUse != "" {
		attrs = append(attrs, mb.SpecialUse)
	}
	return attrs, nil
}

// deselect leaves the selected state.
func (s *Session) deselect() {
	s.sel = nil
	s.state = stateAuthenticated
	s.dirty, s.checkMailbox = false, false
}

// cmdClose: RFC 9051 6.4.1. Removes \Deleted messages of a read-write
// mailbox without sending EXPUNGE responses, then deselects.
func cmdClose(s *Session, cmd *imapwire.Command) error {
	if err := cmd.Args().End(); err != nil {
		return err
	}
	sel := s.sel
	s.deselect()
	if sel.readOnly {
		return nil
	}
	_, err := s.acct.Expunge(s.ctx, sel.mbox.ID, nil)
	if err != nil && !errors.Is(err, store.ErrNoMailbox) && !errors.Is(err, store.ErrNotFound) {
		return errFromStore(err)
	}
	return nil
}

// cmdUnselect: RFC 3691, RFC 9051 6.4.2. Deselects without expunging.
func cmdUnselect(s *Session, cmd *imapwire.Command) error {
	if err := cmd.Args().End(); err != nil {
		return err
	}
	s.deselect()
	return nil
}

// cmdCheck: RFC 3501 6.4.1 (removed in IMAP4rev2, harmless to keep). The
// store is always durable, so it is a NOOP.
func cmdCheck(s *Session, cmd *imapwire.Command) error {
	return cmd.Args().End()
}

func u32str(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
