package imapserver

import (
	"errors"
	"io"
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

// searchReturn holds the RETURN options of RFC 4731 / RFC 9051 6.4.4.
type searchReturn struct {
	min, max, all, count bool
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
	if err := searchCharset(d); err != nil {
		return err
	}
	keys, err := d.SearchKeys()
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	prog, err := search.Compile(keys)
	if err != nil {
		return errBad("", err.Error())
	}
	matches, err := s.runSearch(prog, keys, cmd.UID)
	if err != nil {
		return err
	}
	if ret == nil && !s.rev2 {
		w := s.w.Untagged().Atom("SEARCH")
		for _, n := range matches {
			w.SP().Number(n)
		}
		return w.CRLF()
	}
	if ret == nil || *ret == (searchReturn{}) {
		// RFC 4731 3.1: RETURN () means ALL; RFC 9051 6.4.4: so does no
		// RETURN at all in IMAP4rev2.
		ret = &searchReturn{all: true}
	}
	return s.writeESearch(cmd.Tag, cmd.UID, ret, matches)
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
// SP (RFC 4731 3.1, RFC 9051 6.4.4). SAVE needs SEARCHRES, which is not
// offered, and the PARTIAL and RELEVANCY options are not known.
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

// searchCharset reads an optional "CHARSET" SP astring SP. Keys are
// matched as UTF-8, which US-ASCII is a subset of; other charsets get NO
// [BADCHARSET] with the list of those supported (RFC 9051 6.4.4, 7.1).
func searchCharset(d *imapwire.Decoder) error {
	if !peekAtom(d, "CHARSET") {
		return nil
	}
	if err := d.SP(); err != nil {
		return err
	}
	cs, err := d.AString()
	if err != nil {
		return err
	}
	if !strings.EqualFold(cs, "UTF-8") && !strings.EqualFold(cs, "US-ASCII") {
		return errNo("BADCHARSET (US-ASCII UTF-8)", "Unsupported charset")
	}
	return d.SP()
}

// writeESearch writes "* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [ALL set]
// [COUNT n]" (RFC 4731 3.1, RFC 9051 7.3.4). MIN, MAX and ALL are left out
// when nothing matched; COUNT is always sent when asked for.
func (s *Session) writeESearch(tag string, uid bool, r *searchReturn, matches []uint32) error {
	w := s.w
	w.Untagged().Atom("ESEARCH").SP().Open().Atom("TAG").SP().String(tag).Close()
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
// UID and sequence-set keys allow: those keys are ANDed with the rest, so
// no other message can match and none of them needs loading.
func (s *Session) candidates(keys []imapwire.SearchKey) []int {
	uids := s.sel.uids
	maxSeq := uint32(len(uids))
	var maxUID uint32
	if len(uids) > 0 {
		maxUID = uids[len(uids)-1]
	}
	out := make([]int, 0, len(uids))
next:
	for i, u := range uids {
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
	return out
}

// runSearch evaluates the program over the view and returns the matching
// message numbers (or UIDs), ascending. Records are loaded in batches;
// bodies only when a key needs them, one message at a time. Messages
// expunged by another session but not yet reported match nothing.
func (s *Session) runSearch(prog *search.Program, keys []imapwire.SearchKey, uid bool) ([]uint32, error) {
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
	idx := s.candidates(keys)
	var out []uint32
	add := func(i int) {
		if uid {
			out = append(out, sel.uids[i])
		} else {
			out = append(out, uint32(i)+1)
		}
	}
	if entryOnly(keys) && len(idx) >= entriesThreshold {
		entries, err := s.acct.Entries(s.ctx, sel.mbox.ID)
		if err != nil {
			return nil, errFromStore(err)
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
			rec.Entry = entries[j]
			m.SeqNum, m.Recent = uint32(i)+1, s.isRecent(u)
			ok, err := prog.Match(&m, env)
			if err != nil {
				return nil, errInternal(err)
			}
			if ok {
				add(i)
			}
		}
		return out, nil
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
			return nil, errFromStore(err)
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
			rec := &recs[j]
			m := search.Message{SeqNum: uint32(i) + 1, Record: rec, Recent: s.isRecent(u)}
			if prog.NeedsBody() {
				m.Body = func() ([]byte, error) { return s.loadBody(rec) }
			}
			ok, err := prog.Match(&m, env)
			if err != nil {
				return nil, errFromStore(err)
			}
			if ok {
				add(i)
			}
		}
	}
	return out, nil
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
