package imapserver

import (
	"sort"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	register("LIST", stateAuthed, true, cmdList)
	register("LSUB", stateAuthed, true, cmdLsub)
}

// listOptions are the parsed selection and return options of an extended
// LIST (RFC 5258 3, RFC 9051 6.3.9), with SPECIAL-USE (RFC 6154) and
// LIST-STATUS (RFC 5819).
type listOptions struct {
	extended bool // any extended syntax was used (RFC 5258 3)

	selSubscribed bool
	selSpecialUse bool
	recursive     bool // RECURSIVEMATCH

	retSubscribed bool
	retStatus     []string // STATUS items, nil when not requested
}

// cmdList: RFC 9051 6.3.9, RFC 5258 (LIST-EXTENDED), RFC 5819
// (LIST-STATUS), RFC 6154 (SPECIAL-USE), RFC 3348 (CHILDREN).
//
//	list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
func cmdList(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	var opt listOptions
	if err := d.SP(); err != nil {
		return err
	}
	if d.Peek() == '(' {
		opt.extended = true
		if err := parseListSelect(d, &opt); err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
	}
	ref, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	var pats []string
	if d.Peek() == '(' {
		// RFC 5258 3: several patterns in parentheses.
		opt.extended = true
		err = d.List(func() error {
			p, err := d.ListMailbox(s.utf8)
			pats = append(pats, p)
			return err
		})
		if err != nil {
			return err
		}
		if len(pats) == 0 {
			return errBad("", "LIST expects at least one mailbox pattern")
		}
	} else {
		p, err := d.ListMailbox(s.utf8)
		if err != nil {
			return err
		}
		pats = append(pats, p)
	}
	if d.More() {
		opt.extended = true
		if err := d.SP(); err != nil {
			return err
		}
		if err := parseListReturn(d, &opt); err != nil {
			return err
		}
	}
	if err := d.End(); err != nil {
		return err
	}

	// RFC 9051 6.3.9: an empty mailbox argument of a basic LIST asks for
	// the hierarchy delimiter and the root name; our single namespace has
	// the root "". RFC 5258 3: an extended LIST never treats it so.
	if !opt.extended && pats[0] == "" {
		s.w.Untagged().Atom("LIST").SP().Open().Atom(`\Noselect`).Close().
			SP().String("/").SP().Mailbox("").CRLF()
		return nil
	}

	var set patternSet
	for _, p := range pats {
		if p == "" {
			// RFC 5258 3: "the empty string MUST be ignored for the
			// purpose of matching".
			continue
		}
		set = append(set, compilePattern(canonicalPattern(ref, p)))
	}
	return s.listMailboxes(set, &opt)
}

// parseListSelect reads list-select-opts.
func parseListSelect(d *imapwire.Decoder, opt *listOptions) error {
	err := d.List(func() error {
		a, err := d.Atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(a) {
		case "SUBSCRIBED":
			opt.selSubscribed = true
		case "REMOTE":
			// RFC 5258 3.1: we have no remote mailboxes, so REMOTE
			// changes nothing.
		case "RECURSIVEMATCH":
			opt.recursive = true
		case "SPECIAL-USE":
			opt.selSpecialUse = true
		default:
			// RFC 5258 3: unknown options get BAD.
			return errBad("", "Unknown LIST selection option "+a)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// RFC 5258 3.1: RECURSIVEMATCH needs a base option. SPECIAL-USE is an
	// independent option (RFC 6154 6), so only SUBSCRIBED qualifies.
	if opt.recursive && !opt.selSubscribed {
		return errBad("", "RECURSIVEMATCH must be used with SUBSCRIBED")
	}
	if opt.selSubscribed {
		opt.retSubscribed = true // RFC 5258 3.1: SUBSCRIBED implies the return option
	}
	return nil
}

// parseListReturn reads list-return-opts: "RETURN" SP "(" [opt *(SP opt)] ")".
func parseListReturn(d *imapwire.Decoder, opt *listOptions) error {
	a, err := d.Atom()
	if err != nil {
		return err
	}
	if !strings.EqualFold(a, "RETURN") {
		return errBad("", "Expected RETURN")
	}
	if err := d.SP(); err != nil {
		return err
	}
	return d.List(func() error {
		a, err := d.Atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(a) {
		case "SUBSCRIBED":
			opt.retSubscribed = true
		case "CHILDREN", "SPECIAL-USE":
			// RFC 3348, RFC 6154: we always return both kinds of
			// attributes, so these change nothing.
		case "STATUS":
			// RFC 5819 2.
			if err := d.SP(); err != nil {
				return err
			}
			items, err := parseStatusItems(d)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				return errBad("", "STATUS return option needs at least one item")
			}
			opt.retStatus = items
		default:
			return errBad("", "Unknown LIST return option "+a)
		}
		return nil
	})
}

// mailboxTree is what LIST needs to know about the user's mailboxes.
type mailboxTree struct {
	byName   map[string]store.Mailbox
	children map[string]bool // names (existing or not) with at least one existing descendant
	order    []string        // existing names, store order
}

func newMailboxTree(mbs []store.Mailbox) *mailboxTree {
	t := &mailboxTree{
		byName:   make(map[string]store.Mailbox, len(mbs)),
		children: make(map[string]bool),
		order:    make([]string, 0, len(mbs)),
	}
	for _, mb := range mbs {
		t.byName[mb.Name] = mb
		t.order = append(t.order, mb.Name)
		for _, p := range parentNames(mb.Name) {
			t.children[p] = true
		}
	}
	return t
}

// listEntry is one line of a LIST response.
type listEntry struct {
	name      string
	satisfies bool // meets the selection criteria (else listed for CHILDINFO only)
	childInfo bool // RECURSIVEMATCH: a descendant meets them but is not listed
}

// listMailboxes computes and writes the LIST (and LIST-STATUS) responses.
func (s *Session) listMailboxes(set patternSet, opt *listOptions) error {
	if len(set) == 0 {
		return nil
	}
	mbs, err := s.acct.Mailboxes(s.ctx)
	if err != nil {
		return errFromStore(err)
	}
	tree := newMailboxTree(mbs)
	var subs map[string]bool
	if opt.retSubscribed || opt.selSubscribed {
		names, err := s.acct.Subscriptions(s.ctx)
		if err != nil {
			return errFromStore(err)
		}
		subs = make(map[string]bool, len(names))
		for _, n := range names {
			subs[n] = true
		}
	}

	// The names that meet every selection option (RFC 5258 3).
	var satisfying []string
	if opt.selSubscribed {
		for n := range subs {
			if opt.selSpecialUse && tree.byName[n].SpecialUse == "" {
				continue
			}
			satisfying = append(satisfying, n)
		}
	} else {
		for _, n := range tree.order {
			if opt.selSpecialUse && tree.byName[n].SpecialUse == "" {
				continue
			}
			satisfying = append(satisfying, n)
		}
	}

	entries := make(map[string]*listEntry)
	for _, n := range satisfying {
		if set.match(n) {
			entries[n] = &listEntry{name: n, satisfies: true}
		}
	}
	// Names that match a pattern and have a descendant that meets the
	// selection criteria without matching itself.
	hiddenParents := make(map[string]bool)
	for _, n := range satisfying {
		if set.match(n) {
			continue
		}
		for _, p := range parentNames(n) {
			if set.match(p) {
				hiddenParents[p] = true
			}
		}
	}
	for p := range hiddenParents {
		switch {
		case opt.recursive:
			// RFC 5258 3.5: a matching name gets CHILDINFO when a
			// descendant meets the selection criteria without being
			// listed itself; a name that does not meet them is listed
			// only for that reason.
			e := entries[p]
			if e == nil {
				e = &listEntry{name: p}
				entries[p] = e
			}
			e.childInfo = true
		case !opt.selSubscribed && !opt.selSpecialUse && entries[p] == nil:
			// RFC 9051 6.3.9: with "%", a level that exists only as the
			// parent of hidden names is listed as not selectable. Our
			// store creates parents, so this only covers legacy data.
			if _, ok := tree.byName[p]; !ok {
				entries[p] = &listEntry{name: p}
			}
		}
	}

	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sortMailboxNames(names)

	for _, n := range names {
		e := entries[n]
		mb, exists := tree.byName[n]
		s.w.Untagged().Atom("LIST").SP().Open()
		attrs := listAttributes(n, mb, exists, tree, subs, opt.retSubscribed, opt.extended || s.rev2)
		for i, a := range attrs {
			if i > 0 {
				s.w.SP()
			}
			s.w.Atom(a)
		}
		s.w.Close().SP().String("/").SP().Mailbox(n)
		if e.childInfo {
			// RFC 5258 3.5: childinfo-extended-item.
			s.w.SP().Open().String("CHILDINFO").SP().Open().String("SUBSCRIBED").Close().Close()
		}
		if err := s.w.CRLF(); err != nil {
			return err
		}
		// RFC 5819 2: STATUS follows the LIST response of each selectable
		// mailbox that meets the selection criteria; never of a
		// \Noselect one (the label root).
		if opt.retStatus != nil && exists && e.satisfies && mb.Selectable() {
			st, err := s.acct.Status(s.ctx, mb.ID)
			if err != nil {
				// RFC 5819 2: a STATUS that fails may be left out.
				continue
			}
			if err := s.writeStatus(n, opt.retStatus, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// listAttributes returns the mailbox attributes of a LIST response, in a
// fixed order: existence or selectability, subscription, children,
// special use.
func listAttributes(name string, mb store.Mailbox, exists bool, tree *mailboxTree, subs map[string]bool, retSubscribed, nonExistent bool) []string {
	attrs := make([]string, 0, 4)
	switch {
	case !exists && nonExistent:
		// RFC 5258 3: \NonExistent implies \Noselect; a basic rev1 LIST
		// uses the RFC 3501 attribute.
		attrs = append(attrs, `\NonExistent`)
	case !exists, !mb.Selectable():
		// RFC 9051 7.3.1: the label root exists (it has children and
		// can be subscribed) but holds no messages.
		attrs = append(attrs, `\Noselect`)
	}
	if retSubscribed && subs[name] {
		attrs = append(attrs, `\Subscribed`)
	}
	// RFC 3348 / RFC 9051 7.3.1: always tell whether children exist.
	switch {
	case tree.children[name]:
		attrs = append(attrs, `\HasChildren`)
	case exists:
		attrs = append(attrs, `\HasNoChildren`)
	}
	// RFC 6154 2: special-use attributes may be sent on any LIST, and
	// RFC 9051 7.3.1 lists them among the rev2 attributes.
	if exists && mb.SpecialUse != "" {
		attrs = append(attrs, mb.SpecialUse)
	}
	return attrs
}

// sortMailboxNames sorts names with INBOX and its children first, then by
// name (Dovecot and most clients expect INBOX on top).
func sortMailboxNames(names []string) {
	rank := func(n string) int {
		if n == "INBOX" || strings.HasPrefix(n, "INBOX/") {
			return 0
		}
		return 1
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
}

// cmdLsub: RFC 3501 6.3.9 (IMAP4rev1; RFC 9051 replaces it with LIST
// (SUBSCRIBED) but we keep it for rev1 clients).
func cmdLsub(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	ref, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	pat, err := d.ListMailbox(s.utf8)
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	if pat == "" {
		return nil
	}
	lp := patternSet{compilePattern(canonicalPattern(ref, pat))}

	names, err := s.acct.Subscriptions(s.ctx)
	if err != nil {
		return errFromStore(err)
	}
	mbs, err := s.acct.Mailboxes(s.ctx)
	if err != nil {
		return errFromStore(err)
	}
	tree := newMailboxTree(mbs)

	subs := make(map[string]bool, len(names))
	for _, n := range names {
		subs[n] = true
	}
	// entries: name -> listed only as the \Noselect parent of a subscribed
	// name that "%" hides (RFC 3501 6.3.9: "foo/bar" subscribed, "foo"
	// not, LSUB "" "%" returns "foo" with \Noselect).
	entries := make(map[string]bool)
	for _, n := range names {
		if lp.match(n) {
			entries[n] = false
			continue
		}
		for _, p := range parentNames(n) {
			if !subs[p] && lp.match(p) {
				if _, ok := entries[p]; !ok {
					entries[p] = true
				}
			}
		}
	}
	out := make([]string, 0, len(entries))
	for n := range entries {
		out = append(out, n)
	}
	sortMailboxNames(out)
	for _, n := range out {
		mb, exists := tree.byName[n]
		s.w.Untagged().Atom("LSUB").SP().Open()
		var attrs []string
		if entries[n] || !exists || !mb.Selectable() {
			attrs = append(attrs, `\Noselect`)
		}
		switch {
		case tree.children[n]:
			attrs = append(attrs, `\HasChildren`)
		case exists:
			attrs = append(attrs, `\HasNoChildren`)
		}
		for i, a := range attrs {
			if i > 0 {
				s.w.SP()
			}
			s.w.Atom(a)
		}
		s.w.Close().SP().String("/").SP().Mailbox(n)
		if err := s.w.CRLF(); err != nil {
			return err
		}
	}
	return nil
}
