package imapserver

import (
	"strings"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/search"
	"github.com/casier/casier/internal/store"
)

func init() {
	// RFC 7377 2: ESEARCH runs in the authenticated and selected states;
	// its results are UIDs, so expunges may be sent meanwhile.
	register("ESEARCH", stateAuthed, true, cmdESearch)
}

// mailboxSource is what "IN (...)" names (RFC 7377 2, with the filters of
// RFC 5465 6).
type mailboxSource struct {
	selected, inboxes, personal, subscribed bool
	subtree, subtreeOne, names              []string
}

// cmdESearch implements the multimailbox search (RFC 7377 2):
//
//	ESEARCH [IN (filters)] [RETURN (...)] [CHARSET x] keys
//
// Each mailbox with results gets "* ESEARCH (TAG "t" MAILBOX m UIDVALIDITY
// n) UID ...". Without IN the selected mailbox is searched (RFC 7377 2).
func cmdESearch(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	src := &mailboxSource{selected: true}
	if peekAtom(d, "IN") {
		var err error
		if src, err = s.readSource(d); err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
	}
	ret, err := searchReturnOpts(d)
	if err != nil {
		return err
	}
	if ret != nil && (ret.save || ret.update) {
		// RFC 7377 2: "$" is per mailbox and updates need a selected
		// mailbox: neither makes sense across mailboxes.
		return errBad("", "SAVE and UPDATE are not allowed in ESEARCH")
	}
	if ret == nil || !ret.resultOpts() {
		ret = &searchReturn{all: true} // RFC 4731 3.1
	}
	prog, keys, err := s.searchProgram(d)
	if err != nil {
		return err
	}
	if multiSearchBadKey(keys) {
		// RFC 7377 2: message numbers and "$" mean nothing across
		// mailboxes.
		return errBad("", "Message sequence numbers and $ are not allowed in ESEARCH")
	}
	mboxes, err := s.sourceMailboxes(src)
	if err != nil {
		return err
	}
	var goal uint32
	for _, mb := range mboxes {
		st, err := s.acct.Status(s.ctx, mb.ID)
		if err != nil {
			continue // deleted meanwhile
		}
		goal += st.Messages
	}
	pr := s.newProgress(cmd.Tag, goal)
	for _, mb := range mboxes {
		entries, err := s.acct.Entries(s.ctx, mb.ID)
		if err != nil {
			continue // deleted meanwhile: nothing to report
		}
		uids := make([]uint32, len(entries))
		for i, e := range entries {
			uids[i] = e.UID
		}
		env := s.viewEnvFor(uids)
		matches, modseqs, err := s.matchUIDs(mb.ID, prog, keys, uids, pr, env)
		if err != nil {
			return err
		}
		if len(matches) == 0 {
			continue // RFC 7377 2: no response for a mailbox without results
		}
		if !usesModSeq(keys) {
			modseqs = nil
		}
		w := s.w.Untagged().Atom("ESEARCH").SP().Open().Atom("TAG").SP().String(cmd.Tag)
		w.SP().Atom("MAILBOX").SP().Mailbox(mb.Name).SP().Atom("UIDVALIDITY").SP().Number(mb.UIDValidity).Close()
		if err := s.writeESearchData(true, ret, matches, modseqs); err != nil {
			return err
		}
	}
	return nil
}

// viewEnvFor is the search environment of a mailbox whose ascending UIDs
// are uids (no message numbers, no saved result).
func (s *Session) viewEnvFor(uids []uint32) *search.Env {
	env := &search.Env{Now: time.Now()}
	if len(uids) > 0 {
		env.MaxUID = uids[len(uids)-1]
	}
	return env
}

// multiSearchBadKey tells whether keys use a message sequence set or "$".
func multiSearchBadKey(keys []imapwire.SearchKey) bool {
	for i := range keys {
		k := &keys[i]
		if strings.EqualFold(k.Op, "SEQSET") || (k.Seq != nil && k.Seq.Saved) || multiSearchBadKey(k.Sub) {
			return true
		}
	}
	return false
}

// readSource reads SP "(" filter *(SP filter) ")" after IN (RFC 7377 2,
// RFC 5465 6 filter-mailboxes; "subtree-one" is RFC 7377's). Scope
// options are not defined by any extension we know, so they get BAD.
func (s *Session) readSource(d *imapwire.Decoder) (*mailboxSource, error) {
	if err := d.SP(); err != nil {
		return nil, err
	}
	src := &mailboxSource{}
	err := d.List(func() error {
		if d.Peek() == '(' {
			return errBad("", "Unsupported ESEARCH scope options")
		}
		f, err := d.Atom()
		if err != nil {
			return err
		}
		switch strings.ToLower(f) {
		case "selected", "selected-delayed":
			src.selected = true
		case "inboxes":
			src.inboxes = true
		case "personal":
			src.personal = true
		case "subscribed":
			src.subscribed = true
		case "subtree", "subtree-one", "mailboxes":
			names, err := s.readMailboxes(d)
			if err != nil {
				return err
			}
			switch strings.ToLower(f) {
			case "subtree":
				src.subtree = append(src.subtree, names...)
			case "subtree-one":
				src.subtreeOne = append(src.subtreeOne, names...)
			default:
				src.names = append(src.names, names...)
			}
		default:
			return errBad("", "Unknown ESEARCH source "+f)
		}
		return nil
	})
	if err == nil && src.empty() {
		return nil, errBad("", "Empty ESEARCH source") // RFC 7377 2: one or more
	}
	return src, err
}

func (src *mailboxSource) empty() bool {
	return !src.selected && !src.inboxes && !src.personal && !src.subscribed &&
		len(src.subtree) == 0 && len(src.subtreeOne) == 0 && len(src.names) == 0
}

// readMailboxes reads SP one-or-more-mailbox (RFC 5465 8): a mailbox or a
// parenthesized list of them.
func (s *Session) readMailboxes(d *imapwire.Decoder) ([]string, error) {
	if err := d.SP(); err != nil {
		return nil, err
	}
	var names []string
	one := func() error {
		raw, err := d.Mailbox(s.utf8)
		if err != nil {
			return err
		}
		name, err := s.mailboxName(raw)
		if err != nil {
			return err
		}
		names = append(names, name)
		return nil
	}
	if d.Peek() == '(' {
		if err := d.List(one); err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, errBad("", "Empty mailbox list")
		}
		return names, nil
	}
	return names, one()
}

// sourceMailboxes lists the existing mailboxes src names, in name order,
// each once. Named mailboxes that do not exist are skipped.
func (s *Session) sourceMailboxes(src *mailboxSource) ([]store.Mailbox, error) {
	all, err := s.acct.Mailboxes(s.ctx)
	if err != nil {
		return nil, errFromStore(err)
	}
	var out []store.Mailbox
	for _, mb := range all {
		if src.wants(mb, s.sel) {
			out = append(out, mb)
		}
	}
	return out, nil
}

func (src *mailboxSource) wants(mb store.Mailbox, sel *selected) bool {
	switch {
	case src.personal, // one personal namespace holds every mailbox
		src.selected && sel != nil && sel.mbox.ID == mb.ID,
		src.inboxes && mb.Name == "INBOX", // only INBOX receives mail
		src.subscribed && mb.Subscribed:
		return true
	}
	for _, n := range src.names {
		if mb.Name == n {
			return true
		}
	}
	for _, n := range src.subtree {
		if mb.Name == n || strings.HasPrefix(mb.Name, n+"/") {
			return true
		}
	}
	for _, n := range src.subtreeOne {
		// RFC 7377 2: the mailbox and its immediate children.
		if mb.Name == n || (strings.HasPrefix(mb.Name, n+"/") && !strings.Contains(mb.Name[len(n)+1:], "/")) {
			return true
		}
	}
	return false
}
