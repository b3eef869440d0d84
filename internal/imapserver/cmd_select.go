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
	var params selectParams
	if d.More() {
		if err := d.SP(); err != nil {
			return err
		}
		if params, err = s.parseSelectParams(d); err != nil {
			return err
		}
	}
	if err := d.End(); err != nil {
		return err
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
	if !mb.Selectable() {
		// RFC 9051 7.3.1: a \Noselect name (the label root) cannot be
		// selected; NO [CANNOT] (RFC 5530) since it never can.
		return errFromStore(store.ErrNoSelect)
	}
	if params.condstore {
		// RFC 7162 3.1.8: SELECT/EXAMINE (CONDSTORE) enables CONDSTORE;
		// s.sel is nil here, so no extra HIGHESTMODSEQ response.
		s.enableCondstore()
	}
	// Changes queued so far are older than the state read below.
	s.sub.Take()
	s.dirty, s.checkMailbox = false, false
	// Status before the UIDs: a change landing between the two is pulled
	// again by the next sync (its modseq is above sel.modseq).
	st, err := s.acct.Status(s.ctx, mb.ID)
	if err != nil {
		return errFromStore(err)
	}
	sel := &selected{
		mbox:     st.Mailbox,
		readOnly: readOnly,
		modseq:   st.HighestModSeq,
	}
	s.sel = sel
	for _, k := range st.Keywords {
		s.learnKeywords([]string{k})
	}
	unseen, err := s.loadView(sel)
	if err != nil {
		s.deselect()
		return errFromStore(err)
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
		if unseen > 0 && !s.uidonly { // a message number: none under UIDONLY (RFC 9586 3)
			s.w.Untagged().Status("OK", "UNSEEN "+u32str(unseen), "First unseen.").CRLF()
		}
	}
	s.w.Untagged().Status("OK", "UIDVALIDITY "+u32str(sel.mbox.UIDValidity), "UIDs valid").CRLF()
	s.w.Untagged().Status("OK", "UIDNEXT "+u32str(uidNext), "Predicted next UID").CRLF()
	// RFC 7162 3.1.2.1: a server that stores mod-sequences for the
	// mailbox MUST send HIGHESTMODSEQ "with every successful SELECT or
	// EXAMINE command", whether or not the client has issued a CONDSTORE
	// enabling command (those govern MODSEQ in FETCH responses, 3.1);
	// clients ignore a response code they do not know (RFC 9051 7.1).
	// NOMODSEQ (3.1.2.2) is never sent: every mailbox has mod-sequences.
	s.w.Untagged().Status("OK", "HIGHESTMODSEQ "+strconv.FormatUint(sel.modseq, 10), "Highest").CRLF()
	// RFC 8474 4.3: the MAILBOXID of the selected mailbox.
	s.w.Untagged().Status("OK", "MAILBOXID ("+mailboxObjectID(sel.mbox.ID)+")", "Ok").CRLF()
	s.writeURLMech() // RFC 4467 (cmd_urlauth.go)
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
	if params.qresync && params.uidValidity == sel.mbox.UIDValidity {
		// RFC 7162 3.2.5: only when the client's UIDVALIDITY is still
		// the mailbox's; otherwise its cache is void and it gets a plain
		// SELECT.
		if err := s.qresyncSelect(&params); err != nil {
			return err
		}
	}
	if readOnly {
		s.setOK("READ-ONLY", "EXAMINE completed")
	} else {
		s.setOK("READ-WRITE", "SELECT completed")
	}
	return nil
}

// loadView fills sel.uids and returns the message number of the first
// unseen message (0 if none, or for IMAP4rev2 sessions, which are not told
// it: RFC 9051 removed [UNSEEN]). An engine that implements
// store.UIDLister hands out its cached UID array, shared until this view
// changes (ownUIDs), so SELECT does no per-message work; the keywords come
// from Status, which lists every keyword used in the mailbox. Otherwise
// every entry is read.
func (s *Session) loadView(sel *selected) (uint32, error) {
	if ul, ok := s.acct.(store.UIDLister); ok {
		l, err := ul.UIDList(s.ctx, sel.mbox.ID, !s.rev2)
		if err != nil {
			return 0, err
		}
		sel.uids, sel.shared = l.UIDs, true
		if l.FirstUnseen == 0 {
			return 0, nil
		}
		i, found := slices.BinarySearch(sel.uids, l.FirstUnseen)
		if !found {
			return 0, nil
		}
		return uint32(i) + 1, nil
	}
	entries, err := s.acct.Entries(s.ctx, sel.mbox.ID)
	if err != nil {
		return 0, err
	}
	sel.uids = make([]uint32, len(entries))
	unseen := uint32(0)
	for i, e := range entries {
		sel.uids[i] = e.UID
		if unseen == 0 && !slices.Contains(e.Flags, store.FlagSeen) {
			unseen = uint32(i) + 1
		}
		s.learnKeywords(e.Flags)
	}
	return unseen, nil
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

// selectParams are the SELECT/EXAMINE parameters of RFC 7162 (RFC 4466 2.1
// syntax): CONDSTORE, and QRESYNC with the client's cached state.
type selectParams struct {
	condstore bool
	qresync   bool

	uidValidity uint32
	modseq      uint64
	known       imapwire.SeqSet // known-uids; no Ranges: all UIDs
	// seq-match-data: message numbers and the UIDs the client had for
	// them, pairwise.
	matchSeqs, matchUIDs []uint32
}

// maxSeqMatch bounds the seq-match-data pairs a client may send.
const maxSeqMatch = 100_000

// parseSelectParams reads:
//
//	"(" select-param *(SP select-param) ")"
//	select-param = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP
//	               mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
//	seq-match-data = "(" known-sequence-set SP known-uid-set ")"
func (s *Session) parseSelectParams(d *imapwire.Decoder) (selectParams, error) {
	var p selectParams
	err := d.List(func() error {
		name, err := d.Atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(name) {
		case "CONDSTORE":
			p.condstore = true
			return nil
		case "QRESYNC":
			// RFC 7162 3.2.5: BAD unless ENABLE QRESYNC came first.
			if !s.qresync {
				return errBad("", "QRESYNC must be enabled first")
			}
			if p.qresync {
				return errBad("", "QRESYNC given twice")
			}
			p.qresync = true
			if err := d.SP(); err != nil {
				return err
			}
			return s.parseQresyncParam(d, &p)
		}
		// RFC 4466 2.1: unknown parameters are refused.
		return errBad("", "Unknown SELECT parameter "+name)
	})
	if err == nil && !p.condstore && !p.qresync {
		err = errBad("", "Empty SELECT parameter list")
	}
	return p, err
}

func (s *Session) parseQresyncParam(d *imapwire.Decoder, p *selectParams) error {
	n := 0
	return d.List(func() error {
		n++
		switch n {
		case 1:
			v, err := d.Number()
			if err != nil {
				return err
			}
			if v == 0 {
				return errBad("", "Invalid UIDVALIDITY")
			}
			p.uidValidity = v
		case 2:
			v, err := d.Number64()
			if err != nil {
				return err
			}
			// mod-sequence-value: positive, 63 bits (RFC 7162 7).
			if v == 0 || v > 1<<63-1 {
				return errBad("", "Invalid mod-sequence")
			}
			p.modseq = v
		case 3:
			if d.Peek() == '(' {
				n++
				return s.parseSeqMatch(d, p)
			}
			set, err := d.SeqSet()
			if err != nil {
				return err
			}
			if set.Saved {
				return errBad("", "Invalid known-uids")
			}
			p.known = set
		case 4:
			return s.parseSeqMatch(d, p)
		default:
			return errBad("", "Too many QRESYNC arguments")
		}
		return nil
	})
}

// parseSeqMatch reads seq-match-data; both sets must name as many messages
// (RFC 7162 3.2.5: the n-th number pairs with the n-th UID).
func (s *Session) parseSeqMatch(d *imapwire.Decoder, p *selectParams) error {
	if d.Peek() != '(' {
		return errBad("", "Expected seq-match-data")
	}
	if s.uidonly {
		// Its first set is message numbers, which a UIDONLY client
		// may not send (RFC 9586 3); known-uids does the same job.
		return errBad("UIDREQUIRED", "seq-match-data holds message numbers, not allowed with UIDONLY")
	}
	var sets []imapwire.SeqSet
	err := d.List(func() error {
		if len(sets) == 2 {
			return errBad("", "Invalid seq-match-data")
		}
		set, err := d.SeqSet()
		if err != nil {
			return err
		}
		if set.Saved {
			return errBad("", "Invalid seq-match-data")
		}
		sets = append(sets, set)
		return nil
	})
	if err != nil {
		return err
	}
	if len(sets) != 2 {
		return errBad("", "Invalid seq-match-data")
	}
	var seqs, uids []uint32
	for i, set := range sets {
		total := uint64(0)
		for _, r := range set.Ranges {
			lo, hi := min(r.Start, r.Stop), max(r.Start, r.Stop)
			if lo == 0 {
				return errBad("", "Invalid seq-match-data")
			}
			total += uint64(hi-lo) + 1
		}
		if total > maxSeqMatch {
			return errBad("", "seq-match-data too long")
		}
		// The client's order is kept: the sets pair up positionally.
		var out []uint32
		for _, r := range set.Ranges {
			lo, hi := min(r.Start, r.Stop), max(r.Start, r.Stop)
			for v := uint64(lo); v <= uint64(hi); v++ {
				out = append(out, uint32(v))
			}
		}
		if i == 0 {
			seqs = out
		} else {
			uids = out
		}
	}
	if len(seqs) != len(uids) {
		return errBad("", "seq-match-data sets differ in size")
	}
	p.matchSeqs, p.matchUIDs = seqs, uids
	return nil
}

// qresyncSelect sends what changed since the client's mod-sequence, after
// the usual SELECT responses (RFC 7162 3.2.5): "* VANISHED (EARLIER)" for
// the known UIDs expunged since, then "* n FETCH (UID u FLAGS (...) MODSEQ
// (m))" for every message changed or added since. Both come from the
// modseq indexes, so the cost follows the size of the change.
func (s *Session) qresyncSelect(p *selectParams) error {
	sel := s.sel
	cs, err := s.acct.Changes(s.ctx, sel.mbox.ID, p.modseq)
	if err != nil {
		return errFromStore(err)
	}
	// RFC 7162 3.2.5.2: a message number that still holds the UID the
	// client had for it proves that no message below that UID was
	// expunged (UIDs only grow), so only UIDs above it are reported.
	var floorUID uint32
	for i := len(p.matchSeqs) - 1; i >= 0; i-- {
		if n := p.matchSeqs[i]; n >= 1 && int(n) <= len(sel.uids) && sel.uids[n-1] == p.matchUIDs[i] {
			floorUID = p.matchUIDs[i]
			break
		}
	}
	maxUID := max(cs.UIDNext, sel.mbox.UIDNext, sel.lastUID()+1) - 1
	var known []imapwire.SeqRange
	if len(p.known.Ranges) > 0 {
		known = p.known.Normalize(maxUID)
	} else if maxUID > 0 {
		known = []imapwire.SeqRange{{Start: 1, Stop: maxUID}}
	}
	known = rangesAbove(known, floorUID)
	vanished, err := s.vanished(p.modseq, known, cs.Expunged)
	if err != nil {
		return err
	}
	if vanished != "" {
		s.w.Untagged().Atom("VANISHED").SP().Open().Atom("EARLIER").Close().SP().Atom(vanished).CRLF()
	}
	for _, e := range cs.Changed {
		if e.ModSeq > sel.modseq {
			continue // after the state SELECT reported: the next sync sends it
		}
		n := s.msn(e.UID)
		if n == 0 {
			continue
		}
		w := s.startFetch(n, e.UID) // UIDFETCH under UIDONLY, which carries the UID
		if !s.uidonly {
			w.Atom("UID").SP().Number(e.UID).SP()
		}
		w.Atom("FLAGS").SP().Flags(s.flagsOf(e.UID, e.Flags)).SP().
			Atom("MODSEQ").SP().Open().Number64(e.ModSeq).Close().Close().CRLF()
	}
	return nil
}

// vanished returns, as a UID set ("" for none), the UIDs of the ranges
// known (normalized, ascending) that were expunged after since. expunged
// are the tombstones after since. When the store has pruned tombstones
// newer than since, the exact answer is lost and every UID of the ranges
// that is not in the mailbox now is reported instead, which RFC 7162
// 3.2.5.1 allows ("the server MAY ... include UIDs that ... never
// existed"); docs/sync.md explains the rule.
func (s *Session) vanished(since uint64, known []imapwire.SeqRange, expunged []uint32) (string, error) {
	if len(known) == 0 {
		return "", nil
	}
	if ts, ok := s.acct.(store.Tombstones); ok {
		floor, err := ts.TombstoneFloor(s.ctx, s.sel.mbox.ID)
		if err != nil {
			return "", errFromStore(err)
		}
		if since < floor {
			return formatRanges(absentRanges(known, s.sel.uids, s.sel.expunged)), nil
		}
	}
	var out []uint32
	k := 0
	for _, u := range expunged {
		for k < len(known) && known[k].Stop < u {
			k++
		}
		if k == len(known) {
			break
		}
		if u >= known[k].Start {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return "", nil
	}
	return imapwire.FormatUIDSet(out), nil
}

// rangesAbove clips ascending ranges to the numbers above floor.
func rangesAbove(rs []imapwire.SeqRange, floor uint32) []imapwire.SeqRange {
	if floor == 0 {
		return rs
	}
	out := rs[:0:0]
	for _, r := range rs {
		if r.Stop <= floor {
			continue
		}
		r.Start = max(r.Start, floor+1)
		out = append(out, r)
	}
	return out
}

// absentRanges returns the parts of the ascending ranges rs holding no UID
// of the view (uids, ascending) other than pending-expunged ones: a walk
// over the view's UIDs inside the ranges, never over the numbers of the
// ranges themselves (1:4294967295 costs the size of the view).
func absentRanges(rs []imapwire.SeqRange, uids []uint32, pending map[uint32]bool) []imapwire.SeqRange {
	var out []imapwire.SeqRange
	for _, r := range rs {
		next := uint64(r.Start) // first number not yet placed
		i, _ := slices.BinarySearch(uids, r.Start)
		for ; i < len(uids) && uids[i] <= r.Stop; i++ {
			u := uids[i]
			if pending[u] {
				continue
			}
			if uint64(u) > next {
				out = append(out, imapwire.SeqRange{Start: uint32(next), Stop: u - 1})
			}
			next = uint64(u) + 1
		}
		if next <= uint64(r.Stop) {
			out = append(out, imapwire.SeqRange{Start: uint32(next), Stop: r.Stop})
		}
	}
	return out
}

// formatRanges writes ascending, disjoint ranges as a sequence set.
func formatRanges(rs []imapwire.SeqRange) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(u32str(r.Start))
		if r.Stop != r.Start {
			b.WriteByte(':')
			b.WriteString(u32str(r.Stop))
		}
	}
	return b.String()
}
