package imapserver

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/search"
	"github.com/casier/casier/internal/search/sortthread"
	"github.com/casier/casier/internal/store"
)

// Search result paging (RFC 9394 PARTIAL), search and sort contexts kept
// up to date (RFC 5267 4, CONTEXT=SEARCH and CONTEXT=SORT) and progress
// reports for long searches (RFC 9585 INPROGRESS).

func init() {
	// RFC 5267 4.3: CANCELUPDATE ends the updates of the named searches.
	register("CANCELUPDATE", stateSelected, true, cmdCancelUpdate)
}

// partialRange is a PARTIAL range (RFC 9394 3): positions lo..hi (1-based,
// lo <= hi) in the ascending result, counted from the end when last ("-1"
// is the last result).
type partialRange struct {
	lo, hi uint32
	last   bool
}

// parsePartial reads "n:m" or "-n:-m" (RFC 9394 5 partial-range-first and
// partial-range-last); a reversed range means the same as its ordered form.
func parsePartial(s string) (partialRange, error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return partialRange{}, errBad("", "Invalid PARTIAL range")
	}
	last := strings.HasPrefix(a, "-")
	if last != strings.HasPrefix(b, "-") {
		return partialRange{}, errBad("", "Invalid PARTIAL range")
	}
	lo, err1 := partialNumber(strings.TrimPrefix(a, "-"))
	hi, err2 := partialNumber(strings.TrimPrefix(b, "-"))
	if err1 != nil || err2 != nil {
		return partialRange{}, errBad("", "Invalid PARTIAL range")
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return partialRange{lo: lo, hi: hi, last: last}, nil
}

// partialNumber parses an nz-number (RFC 9051 9).
func partialNumber(s string) (uint32, error) {
	if s == "" || s[0] == '0' || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

func (p partialRange) String() string {
	if p.last {
		return "-" + strconv.FormatUint(uint64(p.lo), 10) + ":-" + strconv.FormatUint(uint64(p.hi), 10)
	}
	return strconv.FormatUint(uint64(p.lo), 10) + ":" + strconv.FormatUint(uint64(p.hi), 10)
}

// bounds returns the half-open index range [i, j) of a result of n
// messages that the range names; i == j when it names none (a range past
// the end is no error, RFC 9394 3.1).
func (p partialRange) bounds(n int) (int, int) {
	lo, hi := int(p.lo), int(p.hi)
	if !p.last {
		if lo > n {
			return n, n
		}
		return lo - 1, min(hi, n)
	}
	if lo > n {
		return 0, 0
	}
	return max(n-hi, 0), n - lo + 1
}

// Progress reports (RFC 9585). Settings are variables so tests can make
// them small.
var (
	// progressEvery is how many messages are examined between two looks at
	// the clock.
	progressEvery = 1000
	// progressInterval is the least time between two reports (and before
	// the first one): a quick search sends none.
	progressInterval = time.Second
)

// progress counts the messages a command has examined and sends "* OK
// [INPROGRESS ("tag" done goal)]" now and then (RFC 9585 2). A nil
// *progress reports nothing.
type progress struct {
	s         *Session
	tag       string
	done      uint32
	goal      uint32 // 0: unknown, sent as NIL
	sinceLook int
	last      time.Time
}

func (s *Session) newProgress(tag string, goal uint32) *progress {
	return &progress{s: s, tag: tag, goal: goal, last: time.Now()}
}

// step records one more message examined.
func (p *progress) step() error {
	if p == nil {
		return nil
	}
	p.done++
	p.sinceLook++
	if p.sinceLook < progressEvery {
		return nil
	}
	p.sinceLook = 0
	now := time.Now()
	if now.Sub(p.last) < progressInterval {
		return nil
	}
	p.last = now
	goal := "NIL"
	if p.goal > 0 {
		goal = strconv.FormatUint(uint64(max(p.goal, p.done)), 10)
	}
	// A tag has no '"' or '\' (RFC 9051 9 tag), so it quotes as is.
	code := `INPROGRESS ("` + p.tag + `" ` + strconv.FormatUint(uint64(p.done), 10) + " " + goal + ")"
	if err := p.s.w.Untagged().Status("OK", code, "Searching").CRLF(); err != nil {
		return err
	}
	// The point is that the client sees it while the search goes on.
	return p.s.w.Flush()
}

// maxSearchContexts bounds the searches and sorts one session keeps up to
// date; more get NOUPDATE (RFC 5267 4.3.1: at least one, more SHOULD).
const maxSearchContexts = 16

// maxSortContextKeys bounds the messages whose sort keys one session keeps
// for all its SORT contexts together (each a sortthread.Fields of about
// 300 bytes, shared with the server's sort cache while it holds them). A
// SORT whose result would pass it is answered once, with NOUPDATE (RFC
// 5267 4.3.1). A variable for tests.
var maxSortContextKeys = 250000

// searchContext is a search or sort kept up to date (RFC 5267 4.1): its
// program and its current result, as UIDs whatever the form of the
// command.
type searchContext struct {
	tag    string
	uid    bool
	prog   *search.Program
	keys   []imapwire.SearchKey
	result []uint32 // SEARCH: ascending UIDs
	// crits makes it a SORT context (CONTEXT=SORT): the result is sorted,
	// each message with its sort keys (Msg.UID names it; Msg.ID is
	// unused), and updates carry positions in that order (RFC 5267
	// 4.3.3, 4.3.4). The Fields are shared and read-only.
	crits  []sortthread.Criterion
	sorted []sortthread.Msg
}

// contextPair is one "context-position SP sequence-set" of an ADDTO or
// REMOVEFROM (RFC 5267 5): a position in the result (0: none, SEARCH
// only) and the messages there, in result order, as UIDs.
type contextPair struct {
	pos  uint32
	uids []uint32
}

// searchContexts are the live contexts of a selection and the UIDs whose
// state changed since they were last brought up to date.
type searchContexts struct {
	list    []*searchContext
	pending map[uint32]bool
}

// addContext starts updates for a search whose result is matches (message
// numbers, or UIDs when uid). It returns false when there are too many.
func (s *Session) addContext(tag string, uid bool, prog *search.Program, keys []imapwire.SearchKey, matches []uint32) bool {
	sel := s.sel
	if sel.contexts == nil {
		sel.contexts = &searchContexts{}
	}
	cs := sel.contexts
	// RFC 5267 4.3: a tag names one context; a new search with the same
	// tag replaces the old one.
	cs.list = slices.DeleteFunc(cs.list, func(c *searchContext) bool { return c.tag == tag })
	if len(cs.list) >= maxSearchContexts {
		return false
	}
	res := make([]uint32, len(matches))
	for i, n := range matches {
		if uid {
			res[i] = n
		} else {
			res[i] = sel.uids[n-1]
		}
	}
	cs.list = append(cs.list, &searchContext{tag: tag, uid: uid, prog: prog, keys: keys, result: res})
	return true
}

// contextTagInUse tells whether tag names a context of the selection: RFC
// 5267 4.3 makes a new UPDATE request under that tag a BAD.
func (s *Session) contextTagInUse(tag string) bool {
	cs := s.sel.contexts
	return cs != nil && slices.ContainsFunc(cs.list, func(c *searchContext) bool { return c.tag == tag })
}

// addSortContext starts updates for a SORT (RFC 5267 4, CONTEXT=SORT)
// whose result, in sort order, is msgs; it keeps msgs. It returns false
// when the session keeps too many contexts or sort keys (NOUPDATE, RFC
// 5267 4.3.1).
func (s *Session) addSortContext(tag string, uid bool, prog *search.Program, keys []imapwire.SearchKey, crits []sortthread.Criterion, msgs []sortthread.Msg) bool {
	sel := s.sel
	if sel.contexts == nil {
		sel.contexts = &searchContexts{}
	}
	cs := sel.contexts
	kept := len(msgs)
	for _, c := range cs.list {
		kept += len(c.sorted)
	}
	if len(cs.list) >= maxSearchContexts || kept > maxSortContextKeys {
		return false
	}
	cs.list = append(cs.list, &searchContext{tag: tag, uid: uid, prog: prog, keys: keys, crits: crits, sorted: msgs})
	return true
}

// cmdCancelUpdate implements CANCELUPDATE tag *(SP tag) (RFC 5267 4.3).
func cmdCancelUpdate(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	var tags []string
	for {
		if err := d.SP(); err != nil {
			return err
		}
		t, err := d.String()
		if err != nil {
			return err
		}
		tags = append(tags, t)
		if !d.PeekSP() {
			break
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	cs := s.sel.contexts
	for _, t := range tags {
		if cs == nil || !slices.ContainsFunc(cs.list, func(c *searchContext) bool { return c.tag == t }) {
			return errBad("", "No search context with tag "+t)
		}
	}
	cs.list = slices.DeleteFunc(cs.list, func(c *searchContext) bool { return slices.Contains(tags, c.tag) })
	return nil
}

// contextNote records the messages a change set touched, for the next
// contextFlush (called by sync).
func (s *Session) contextNote(changed []store.Entry) {
	cs := s.sel.contexts
	if cs == nil || len(cs.list) == 0 {
		return
	}
	if cs.pending == nil {
		cs.pending = make(map[uint32]bool)
	}
	for _, e := range changed {
		cs.pending[e.UID] = true
	}
}

// contextRemoveExpunged sends REMOVEFROM for the results that the pending
// expunges take away; sync calls it just before the EXPUNGE responses, so
// message numbers are still those the client knows (RFC 5267 4.3).
func (s *Session) contextRemoveExpunged() {
	sel := s.sel
	cs := sel.contexts
	if cs == nil {
		return
	}
	for _, c := range cs.list {
		if c.crits != nil {
			s.removeSorted(c, func(m *sortthread.Msg) bool { return sel.expunged[m.UID] })
			continue
		}
		var gone []uint32
		kept := c.result[:0]
		for _, u := range c.result {
			if sel.expunged[u] {
				gone = append(gone, u)
				continue
			}
			kept = append(kept, u)
		}
		c.result = kept
		if len(gone) > 0 {
			s.writeContextUpdate(c, "REMOVEFROM", []contextPair{{uids: gone}})
		}
	}
	for u := range sel.expunged {
		delete(cs.pending, u)
	}
}

// contextFlush re-evaluates the searches for the messages that changed or
// arrived and sends ADDTO and REMOVEFROM (RFC 5267 4.3). Sync calls it
// after EXISTS, so new message numbers are known to the client. Messages
// whose expunge is still held back are left alone until it is sent.
func (s *Session) contextFlush() error {
	sel := s.sel
	cs := sel.contexts
	if cs == nil || len(cs.pending) == 0 {
		return nil
	}
	var uids []uint32
	for u := range cs.pending {
		if sel.expunged[u] {
			continue // contextRemoveExpunged takes it
		}
		delete(cs.pending, u)
		if s.msn(u) != 0 {
			uids = append(uids, u)
		}
	}
	if len(uids) == 0 {
		return nil
	}
	slices.Sort(uids)
	for _, c := range cs.list {
		if c.crits != nil {
			var now []sortthread.Msg
			err := s.matchRecords(sel.mbox.ID, c.prog, c.keys, uids, nil, s.viewEnv(), func(rec *store.Record) {
				now = append(now, sortthread.Msg{ID: rec.UID, Fields: sortthread.NewFields(rec)})
			})
			if err != nil {
				return err
			}
			s.updateSorted(c, uids, now)
			continue
		}
		match, _, err := s.matchUIDs(sel.mbox.ID, c.prog, c.keys, uids, nil, s.viewEnv())
		if err != nil {
			return err
		}
		var add, remove []uint32
		j := 0
		for _, u := range uids {
			matched := j < len(match) && match[j] == u
			if matched {
				j++
			}
			_, in := slices.BinarySearch(c.result, u)
			switch {
			case matched && !in:
				add = append(add, u)
			case !matched && in:
				remove = append(remove, u)
			}
		}
		// RFC 5267 4.3.3, 4.3.4: a SEARCH result is in mailbox order, so
		// the position is 0 and the set is written in mailbox order.
		if len(remove) > 0 {
			c.result = slices.DeleteFunc(c.result, func(u uint32) bool { _, r := slices.BinarySearch(remove, u); return r })
			s.writeContextUpdate(c, "REMOVEFROM", []contextPair{{uids: remove}})
		}
		if len(add) > 0 {
			c.result = append(c.result, add...)
			slices.Sort(c.result)
			s.writeContextUpdate(c, "ADDTO", []contextPair{{uids: add}})
		}
	}
	return nil
}

// updateSorted brings a SORT context up to date for the messages changed
// (ascending UIDs), of which those in now (ascending UIDs, with their sort
// keys) match its search. Results that no longer match, or whose sort keys
// changed, are removed first; then the new matches, and the moved ones at
// their new place, are added (RFC 5267 4.3.2: REMOVEFROM before ADDTO, the
// client applies them in order). Keys of the RFC 5256 criteria come from
// the message itself, so today only matching changes; the check costs
// nothing and keeps the order right for any key.
func (s *Session) updateSorted(c *searchContext, changed []uint32, now []sortthread.Msg) {
	find := func(u uint32) (*sortthread.Msg, bool) {
		i, ok := slices.BinarySearchFunc(now, u, func(m sortthread.Msg, u uint32) int { return cmp.Compare(m.UID, u) })
		if !ok {
			return nil, false
		}
		return &now[i], true
	}
	stay := make(map[uint32]bool)
	s.removeSorted(c, func(m *sortthread.Msg) bool {
		if _, ok := slices.BinarySearch(changed, m.UID); !ok {
			return false
		}
		n, ok := find(m.UID)
		if ok && sortthread.SameKeys(m.Fields, n.Fields, c.crits) {
			stay[m.UID] = true
			return false
		}
		return true
	})
	add := slices.DeleteFunc(now, func(m sortthread.Msg) bool { return stay[m.UID] })
	s.insertSorted(c, add)
}

// removeSorted takes the results gone says from a SORT context and sends
// one REMOVEFROM for them (RFC 5267 4.3.4): a pair per run of adjacent
// results, in result order. The client applies the pairs in order (RFC
// 5267 4.3.2), so each position is counted in the result as the pairs
// before it left it: the number of results kept before the run, plus one.
// Positions are never 0: that is for SEARCH contexts only (RFC 5267
// 4.3.4).
func (s *Session) removeSorted(c *searchContext, gone func(m *sortthread.Msg) bool) {
	var pairs []contextPair
	kept := c.sorted[:0]
	for i := range c.sorted {
		m := &c.sorted[i]
		if !gone(m) {
			kept = append(kept, *m)
			continue
		}
		pos := uint32(len(kept)) + 1
		if n := len(pairs); n > 0 && pairs[n-1].pos == pos {
			// Nothing kept since the last removal: the same run.
			pairs[n-1].uids = append(pairs[n-1].uids, m.UID)
			continue
		}
		pairs = append(pairs, contextPair{pos: pos, uids: []uint32{m.UID}})
	}
	clear(c.sorted[len(kept):]) // drop the strings of the removed
	c.sorted = kept
	s.writeContextUpdate(c, "REMOVEFROM", pairs)
}

// insertSorted adds msgs, which are not in the result, to a SORT context
// and sends one ADDTO for them (RFC 5267 4.3.3): a pair per run of
// adjacent new results, in result order, each position the one its first
// message has in the new result. Applied in order, every pair finds the
// results before it already in place, so that is also where the client
// inserts it. The merge runs from the end, in place.
func (s *Session) insertSorted(c *searchContext, msgs []sortthread.Msg) {
	if len(msgs) == 0 {
		return
	}
	slices.SortFunc(msgs, func(a, b sortthread.Msg) int { return sortthread.Compare(a.Fields, b.Fields, c.crits) })
	i := len(c.sorted) - 1
	c.sorted = append(c.sorted, msgs...)
	var at []int // indexes of the new results, descending
	for j, k := len(msgs)-1, len(c.sorted)-1; j >= 0; k-- {
		if i >= 0 && sortthread.Compare(c.sorted[i].Fields, msgs[j].Fields, c.crits) > 0 {
			c.sorted[k] = c.sorted[i]
			i--
			continue
		}
		c.sorted[k] = msgs[j]
		at = append(at, k)
		j--
	}
	var pairs []contextPair
	for x := len(at) - 1; x >= 0; x-- {
		k := at[x]
		if n := len(pairs); n > 0 && int(pairs[n-1].pos)+len(pairs[n-1].uids) == k+1 {
			pairs[n-1].uids = append(pairs[n-1].uids, c.sorted[k].UID)
			continue
		}
		pairs = append(pairs, contextPair{pos: uint32(k) + 1, uids: []uint32{c.sorted[k].UID}})
	}
	s.writeContextUpdate(c, "ADDTO", pairs)
}

// writeContextUpdate sends "* ESEARCH (TAG "t") [UID] ADDTO (pos set ...)"
// or REMOVEFROM (RFC 5267 4.3.3, 4.3.4, 5), numbers as the context's
// command used them (RFC 5267 4.3.2). A SEARCH context's set is in mailbox
// order and may use ranges; a SORT context's is in sort order, so it is a
// plain list, as ESORT's ALL (RFC 5267 3.2).
func (s *Session) writeContextUpdate(c *searchContext, what string, pairs []contextPair) {
	if len(pairs) == 0 {
		return
	}
	w := s.w.Untagged().Atom("ESEARCH").SP().Open().Atom("TAG").SP().String(c.tag).Close()
	if c.uid {
		w.SP().Atom("UID")
	}
	w.SP().Atom(what).SP().Open()
	for i, p := range pairs {
		nums := p.uids
		if !c.uid {
			nums = make([]uint32, 0, len(p.uids))
			for _, u := range p.uids {
				// Always in the view: additions come after EXISTS,
				// removals before EXPUNGE (RFC 5267 4.3.3, 4.3.4).
				nums = append(nums, s.msn(u))
			}
		}
		if i > 0 {
			w.SP()
		}
		w.Number(p.pos).SP()
		if c.crits == nil {
			w.Atom(imapwire.FormatUIDSet(nums))
		} else {
			w.Atom(string(appendOrdered(nil, nums)))
		}
	}
	w.Close().CRLF()
}

// viewEnv is the search environment of the selected mailbox's view.
func (s *Session) viewEnv() *search.Env {
	sel := s.sel
	env := &search.Env{MaxSeq: uint32(len(sel.uids)), Now: time.Now(), Saved: sel.saved}
	if len(sel.uids) > 0 {
		env.MaxUID = sel.uids[len(sel.uids)-1]
	}
	return env
}

// matchUIDs evaluates prog over the given ascending UIDs of mailbox id and
// returns those that match (with their mod-sequences).
func (s *Session) matchUIDs(id store.MailboxID, prog *search.Program, keys []imapwire.SearchKey, uids []uint32, pr *progress, env *search.Env) ([]uint32, []uint64, error) {
	var out []uint32
	var modseqs []uint64
	err := s.matchRecords(id, prog, keys, uids, pr, env, func(rec *store.Record) {
		out = append(out, rec.UID)
		modseqs = append(modseqs, rec.ModSeq)
	})
	return out, modseqs, err
}

// matchRecords evaluates prog over the given ascending UIDs of mailbox id
// and calls fn with the record of each match, in UID order. Records are
// loaded in batches; a body only when a key needs it. Message numbers and
// \Recent come from the session's view when id is the selected mailbox.
func (s *Session) matchRecords(id store.MailboxID, prog *search.Program, keys []imapwire.SearchKey, uids []uint32, pr *progress, env *search.Env, fn func(rec *store.Record)) error {
	inView := s.sel != nil && s.sel.mbox.ID == id
	for start := 0; start < len(uids); start += fetchBatch {
		part := uids[start:min(start+fetchBatch, len(uids))]
		recs, err := s.acct.Records(s.ctx, id, part)
		if err != nil {
			return errFromStore(err)
		}
		for i := range recs {
			rec := &recs[i]
			if err := pr.step(); err != nil {
				return err
			}
			m := search.Message{Record: rec}
			if inView {
				m.SeqNum, m.Recent = s.msn(rec.UID), s.isRecent(rec.UID)
			}
			if prog.NeedsBody() {
				m.Body = func() ([]byte, error) { return s.loadBody(rec) }
			}
			ok, err := prog.Match(&m, env)
			if err != nil {
				return errFromStore(err)
			}
			if ok {
				fn(rec)
			}
		}
	}
	return nil
}
