package imapserver

import (
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/search"
	"github.com/casier/casier/internal/store"
)

func init() {
	// RFC 9051 7.5.1: no EXPUNGE response during SEARCH, whose results are
	// message numbers; UID SEARCH may have them.
	register("SEARCH", stateSelected, false, cmdSearch)
	register("UID SEARCH", stateSelected, true, cmdSearch)
}

// searchReturn holds the RETURN options of RFC 4731 / RFC 9051 6.4.4,
// and SAVE of RFC 5182 (RFC 9051 6.4.4.1).
type searchReturn struct {
	min, max, all, count, save bool
	// partial pages the result (RFC 9394 PARTIAL); update keeps it up to
	// date (RFC 5267 4.1 UPDATE).
	partial *partialRange
	update  bool
}

// resultOpts tells whether any option asks for result data.
func (r *searchReturn) resultOpts() bool {
	return r.min || r.max || r.all || r.count || r.partial != nil
}

// cmdSearch implements SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501
// 6.4.4). Results go out as "* SEARCH ..." to IMAP4rev1 clients that gave
// no RETURN, and as ESEARCH (RFC 4731, RFC 9051 7.3.4) otherwise.
func cmdSearch(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	ret, err := searchReturnOpts(d)
	if err != nil {
		return err
	}
	prog, keys, err := s.searchProgram(d)
	var matches []uint32
	var modseqs []uint64
	if err == nil {
		matches, modseqs, err = s.runSearchProgress(prog, keys, cmd.UID, usesModSeq(keys), s.newProgress(cmd.Tag, uint32(len(s.sel.uids))))
	}
	if ret != nil && ret.save {
		// RFC 5182 2.1: a SEARCH with SAVE that fails leaves "$" empty.
		s.sel.saved = nil
		if err == nil {
			s.sel.saved = s.savedResult(ret, matches, cmd.UID)
		}
	}
	if err != nil {
		return err
	}
	if ret != nil && ret.update {
		// RFC 5267 4.2: a server that cannot keep one more search up to
		// date says so and runs the search once.
		if !s.addContext(cmd.Tag, cmd.UID, prog, keys, matches) {
			s.w.Untagged().Status("NO", `NOUPDATE "`+cmd.Tag+`"`, "Too many search contexts").CRLF()
		}
		if !ret.resultOpts() {
			// The client needs the starting result to apply updates to.
			ret.all = true
		}
	}
	if ret != nil && ret.save && !ret.resultOpts() {
		// RFC 5182 2.1: SAVE alone returns no ESEARCH response.
		return nil
	}
	if ret == nil && !s.rev2 {
		w := s.w.Untagged().Atom("SEARCH")
		for _, n := range matches {
			w.SP().Number(n)
		}
		if modseqs != nil && len(matches) > 0 {
			// RFC 7162 3.1.5: the highest mod-sequence of the messages
			// returned, when the criteria used MODSEQ.
			w.SP().Open().Atom("MODSEQ").SP().Number64(slices.Max(modseqs)).Close()
		}
		return w.CRLF()
	}
	if ret == nil || !ret.resultOpts() {
		// RFC 4731 3.1: RETURN () means ALL; RFC 9051 6.4.4: so does no
		// RETURN at all in IMAP4rev2.
		ret = &searchReturn{all: true}
	}
	return s.writeESearch(cmd.Tag, cmd.UID, ret, matches, modseqs)
}

// esearchModSeq is the MODSEQ result of an ESEARCH (RFC 7162 3.1.5, 3.1.6
// of RFC 4731's interplay): the highest mod-sequence of the messages the
// response stands for: all matches when ALL or COUNT is returned, else the
// MIN and/or MAX message.
func esearchModSeq(r *searchReturn, modseqs []uint64) uint64 {
	if r.all || r.count {
		return slices.Max(modseqs)
	}
	var m uint64
	if r.partial != nil {
		// RFC 9394 3.1: the messages PARTIAL returns count too.
		if i, j := r.partial.bounds(len(modseqs)); i < j {
			m = slices.Max(modseqs[i:j])
		}
	}
	if r.min {
		m = modseqs[0]
	}
	if r.max {
		m = max(m, modseqs[len(modseqs)-1])
	}
	return m
}

// searchMatches reads "[CHARSET x] keys" and runs the search: the
// matching message numbers (or UIDs), ascending.
// When the keys use MODSEQ it also returns the mod-sequence of each match
// (else nil), and enables CONDSTORE (RFC 7162 3.1).
func (s *Session) searchMatches(d *imapwire.Decoder, uid bool) ([]uint32, []uint64, error) {
	prog, keys, err := s.searchProgram(d)
	if err != nil {
		return nil, nil, err
	}
	return s.runSearch(prog, keys, uid, usesModSeq(keys))
}

// searchProgram reads "[CHARSET x] keys" up to the end of the command and
// compiles them. When the keys use MODSEQ it enables CONDSTORE (RFC 7162
// 3.1).
func (s *Session) searchProgram(d *imapwire.Decoder) (*search.Program, []imapwire.SearchKey, error) {
	dec, err := searchCharset(d, s.utf8 && !s.rev2)
	if err != nil {
		return nil, nil, err
	}
	return s.compileSearchKeys(d, dec)
}

// compileSearchKeys reads the search keys up to the end of the command,
// converts their strings from charset cs (nil: UTF-8) and compiles them;
// the tail shared by SEARCH, SORT and THREAD. When the keys use MODSEQ it
// enables CONDSTORE (RFC 7162 3.1); under UIDONLY a message-number key is
// refused (uidonly.go).
func (s *Session) compileSearchKeys(d *imapwire.Decoder, cs *string) (*search.Program, []imapwire.SearchKey, error) {
	keys, err := d.SearchKeys()
	if err != nil {
		return nil, nil, err
	}
	if err := d.End(); err != nil {
		return nil, nil, err
	}
	if s.uidonly && msnSearchKey(keys) {
		// RFC 9586 3: no message numbers once UIDONLY is enabled, in
		// search keys either; "UID set" and "$" name the same messages.
		return nil, nil, errBad("UIDREQUIRED", "Message numbers are not allowed in search keys with UIDONLY")
	}
	if cs != nil {
		if err := convertSearchKeys(keys, *cs); err != nil {
			return nil, nil, err
		}
	}
	prog, err := search.Compile(keys)
	if err != nil {
		return nil, nil, errBad("", err.Error())
	}
	if usesModSeq(keys) {
		s.enableCondstore()
	}
	return prog, keys, nil
}

// usesModSeq tells whether a MODSEQ key appears anywhere in keys.
func usesModSeq(keys []imapwire.SearchKey) bool {
	for i := range keys {
		if strings.EqualFold(keys[i].Op, "MODSEQ") || usesModSeq(keys[i].Sub) {
			return true
		}
	}
	return false
}

// savedResult is what SAVE stores in "$" (RFC 5182 2.1): with MIN and/or
// MAX as the only other options, just those messages; otherwise the whole
// result. "$" always holds UIDs, so it survives expunges of other
// messages.
func (s *Session) savedResult(r *searchReturn, matches []uint32, uid bool) []uint32 {
	if len(matches) == 0 {
		return nil
	}
	picked := matches
	if r.partial != nil && !r.all && !r.count {
		// Like MIN and MAX (RFC 5182 2.1), PARTIAL saves what it returns.
		i, j := r.partial.bounds(len(matches))
		picked = matches[i:j]
	} else if (r.min || r.max) && !r.all && !r.count {
		picked = nil
		if r.min {
			picked = append(picked, matches[0])
		}
		if r.max && (!r.min || len(matches) > 1) {
			picked = append(picked, matches[len(matches)-1])
		}
	}
	out := make([]uint32, len(picked))
	for i, n := range picked {
		if uid {
			out[i] = n
		} else {
			out[i] = s.sel.uids[n-1]
		}
	}
	return out
}

// peekAtom consumes the next atom if it equals want (case-insensitive) and
// reports whether it did; otherwise the decoder is left where it was.
func peekAtom(d *imapwire.Decoder, want string) bool {
	saved := *d
	a, err := d.Atom()
	if err == nil && strings.EqualFold(a, want) {
		return true
	}
	*d = saved
	return false
}

// searchReturnOpts reads an optional "RETURN (" [option *(SP option)] ")"
// SP (RFC 4731 3.1, RFC 9051 6.4.4, RFC 5182 SAVE, RFC 9394 PARTIAL, RFC
// 5267 4.1 UPDATE). RELEVANCY is not known.
func searchReturnOpts(d *imapwire.Decoder) (*searchReturn, error) {
	if !peekAtom(d, "RETURN") {
		return nil, nil
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	r := &searchReturn{}
	err := d.List(func() error {
		opt, err := d.Atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(opt) {
		case "MIN":
			r.min = true
		case "MAX":
			r.max = true
		case "ALL":
			r.all = true
		case "COUNT":
			r.count = true
		case "SAVE":
			r.save = true
		case "UPDATE":
			r.update = true
		case "CONTEXT":
			// RFC 5267 4.2: a hint that the client will refine the
			// search; servers may ignore it, and we do.
		case "PARTIAL":
			// RFC 9394 3.1: "PARTIAL" SP partial-range.
			if err := d.SP(); err != nil {
				return err
			}
			a, err := d.Atom()
			if err != nil {
				return err
			}
			p, err := parsePartial(a)
			if err != nil {
				return err
			}
			r.partial = &p
		default:
			return errBad("", "Unsupported SEARCH return option "+opt)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, d.SP()
}

// writeESearch writes "* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [ALL set]
// [COUNT n]" (RFC 4731 3.1, RFC 9051 7.3.4). MIN, MAX and ALL are left out
// when nothing matched; COUNT is always sent when asked for.
func (s *Session) writeESearch(tag string, uid bool, r *searchReturn, matches []uint32, modseqs []uint64) error {
	s.w.Untagged().Atom("ESEARCH").SP().Open().Atom("TAG").SP().String(tag).Close()
	return s.writeESearchData(uid, r, matches, modseqs)
}

// writeESearchData writes what follows the correlator of an ESEARCH
// response, and its CRLF.
func (s *Session) writeESearchData(uid bool, r *searchReturn, matches []uint32, modseqs []uint64) error {
	w := s.w
	if uid {
		w.SP().Atom("UID")
	}
	if len(matches) > 0 {
		if r.min {
			w.SP().Atom("MIN").SP().Number(matches[0])
		}
		if r.max {
			w.SP().Atom("MAX").SP().Number(matches[len(matches)-1])
		}
		if r.all {
			w.SP().Atom("ALL").SP().Atom(imapwire.FormatUIDSet(matches))
		}
	}
	if r.count {
		w.SP().Atom("COUNT").SP().Number(uint32(len(matches)))
	}
	if r.partial != nil {
		// RFC 9394 3.1: "PARTIAL (range set)", NIL when the range names
		// no result; sent even when nothing matched.
		w.SP().Atom("PARTIAL").SP().Open().Atom(r.partial.String()).SP()
		if i, j := r.partial.bounds(len(matches)); i < j {
			w.Atom(imapwire.FormatUIDSet(matches[i:j]))
		} else {
			w.Atom("NIL")
		}
		w.Close()
	}
	if modseqs != nil && len(matches) > 0 {
		w.SP().Atom("MODSEQ").SP().Number64(esearchModSeq(r, modseqs))
	}
	return w.CRLF()
}

// entryKeys are the search keys answered from a message's entry alone
// (UID, flags, mod-sequence): a search made only of them scans the
// mailbox's small entry rows instead of loading records.
var entryKeys = map[string]bool{
	"ALL": true, "ANSWERED": true, "DELETED": true, "DRAFT": true, "FLAGGED": true, "SEEN": true,
	"UNANSWERED": true, "UNDELETED": true, "UNDRAFT": true, "UNFLAGGED": true, "UNSEEN": true,
	"KEYWORD": true, "UNKEYWORD": true, "NEW": true, "OLD": true, "RECENT": true,
	"SEQSET": true, "UID": true, "MODSEQ": true, "NOT": true, "OR": true, "AND": true,
}

func entryOnly(keys []imapwire.SearchKey) bool {
	for i := range keys {
		if !entryKeys[strings.ToUpper(keys[i].Op)] || !entryOnly(keys[i].Sub) {
			return false
		}
	}
	return true
}

// candidates returns the indexes (msn-1) of the view that the top-level
// UID, sequence-set and KEYWORD keys allow: those keys are ANDed with the
// rest, so no other message can match and none of them needs loading. A
// top-level KEYWORD reads the store's keyword index (labels), so SEARCH
// KEYWORD costs what the label holds, not what the mailbox holds.
func (s *Session) candidates(keys []imapwire.SearchKey) ([]int, error) {
	uids := s.sel.uids
	var withKeyword []uint32 // nil: no keyword key
	if ki, ok := s.acct.(store.KeywordIndex); ok {
		for k := range keys {
			if !strings.EqualFold(keys[k].Op, "KEYWORD") {
				continue
			}
			got, err := ki.KeywordUIDs(s.ctx, s.sel.mbox.ID, keys[k].Value)
			if err != nil {
				return nil, errFromStore(err)
			}
			if withKeyword == nil {
				withKeyword = got
			} else {
				withKeyword = intersectUIDs(withKeyword, got)
			}
			if withKeyword == nil {
				withKeyword = []uint32{}
			}
		}
	}
	maxSeq := uint32(len(uids))
	var maxUID uint32
	if len(uids) > 0 {
		maxUID = uids[len(uids)-1]
	}
	out := make([]int, 0, len(uids))
	kw := 0
next:
	for i, u := range uids {
		if withKeyword != nil {
			for kw < len(withKeyword) && withKeyword[kw] < u {
				kw++
			}
			if kw == len(withKeyword) {
				break
			}
			if withKeyword[kw] != u {
				continue
			}
		}
		for k := range keys {
			key := &keys[k]
			if key.Seq == nil || key.Seq.Saved {
				continue
			}
			switch strings.ToUpper(key.Op) {
			case "SEQSET":
				if !key.Seq.Contains(uint32(i)+1, maxSeq) {
					continue next
				}
			case "UID":
				if !key.Seq.Contains(u, maxUID) {
					continue next
				}
			}
		}
		out = append(out, i)
	}
	return out, nil
}

// intersectUIDs returns the UIDs in both ascending lists.
func intersectUIDs(a, b []uint32) []uint32 {
	var out []uint32
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// runSearch evaluates the program over the view and returns the matching
// message numbers (or UIDs), ascending. Records are loaded in batches;
// bodies only when a key needs them, one message at a time. Messages
// expunged by another session but not yet reported match nothing.
func (s *Session) runSearch(prog *search.Program, keys []imapwire.SearchKey, uid, wantModSeq bool) ([]uint32, []uint64, error) {
	return s.runSearchProgress(prog, keys, uid, wantModSeq, nil)
}

// runSearchProgress is runSearch that reports its progress through pr
// (RFC 9585) when pr is not nil.
func (s *Session) runSearchProgress(prog *search.Program, keys []imapwire.SearchKey, uid, wantModSeq bool, pr *progress) ([]uint32, []uint64, error) {
	sel := s.sel
	env := &search.Env{
		MaxSeq: uint32(len(sel.uids)),
		Now:    time.Now(),
		// Location nil: internal dates compare in the zone they were
		// appended with, as FETCH INTERNALDATE shows them.
	}
	if len(sel.uids) > 0 {
		env.MaxUID = sel.uids[len(sel.uids)-1]
	}
	env.Saved = sel.saved
	idx, err := s.candidates(keys)
	if err != nil {
		return nil, nil, err
	}
	var out []uint32
	var modseqs []uint64
	if wantModSeq {
		modseqs = []uint64{}
	}
	add := func(i int, ms uint64) {
		if uid {
			out = append(out, sel.uids[i])
		} else {
			out = append(out, uint32(i)+1)
		}
		if wantModSeq {
			modseqs = append(modseqs, ms)
		}
	}
	if entryOnly(keys) && len(idx) >= entriesThreshold {
		entries, err := s.acct.Entries(s.ctx, sel.mbox.ID)
		if err != nil {
			return nil, nil, errFromStore(err)
		}
		var rec store.Record
		m := search.Message{Record: &rec}
		j := 0
		for _, i := range idx {
			u := sel.uids[i]
			for j < len(entries) && entries[j].UID < u {
				j++
			}
			if j == len(entries) || entries[j].UID != u {
				continue
			}
			if err := pr.step(); err != nil {
				return nil, nil, err
			}
			rec.Entry = entries[j]
			m.SeqNum, m.Recent = uint32(i)+1, s.isRecent(u)
			ok, err := prog.Match(&m, env)
			if err != nil {
				return nil, nil, errInternal(err)
			}
			if ok {
				add(i, rec.ModSeq)
			}
		}
		return out, modseqs, nil
	}
	chunk := make([]uint32, 0, fetchBatch)
	for start := 0; start < len(idx); start += fetchBatch {
		part := idx[start:min(start+fetchBatch, len(idx))]
		chunk = chunk[:0]
		for _, i := range part {
			chunk = append(chunk, sel.uids[i])
		}
		recs, err := s.acct.Records(s.ctx, sel.mbox.ID, chunk)
		if err != nil {
			return nil, nil, errFromStore(err)
		}
		j := 0
		for _, i := range part {
			u := sel.uids[i]
			for j < len(recs) && recs[j].UID < u {
				j++
			}
			if j == len(recs) || recs[j].UID != u {
				continue
			}
			if err := pr.step(); err != nil {
				return nil, nil, err
			}
			rec := &recs[j]
			m := search.Message{SeqNum: uint32(i) + 1, Record: rec, Recent: s.isRecent(u)}
			if prog.NeedsBody() {
				m.Body = func() ([]byte, error) { return s.loadBody(rec) }
			}
			ok, err := prog.Match(&m, env)
			if err != nil {
				return nil, nil, errFromStore(err)
			}
			if ok {
				add(i, rec.ModSeq)
			}
		}
	}
	return out, modseqs, nil
}

// loadBody reads a whole message for SEARCH BODY and TEXT.
func (s *Session) loadBody(rec *store.Record) ([]byte, error) {
	b, err := s.acct.OpenBody(s.ctx, rec.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // gone meanwhile: matches no text key
	}
	if err != nil {
		return nil, err
	}
	defer b.Close()
	buf := make([]byte, b.Size())
	if _, err := b.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return buf, nil
}
