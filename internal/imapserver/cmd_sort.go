package imapserver

import (
	"slices"
	"strconv"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/search"
	"github.com/casier/casier/internal/search/sortthread"
	"github.com/casier/casier/internal/store"
)

func init() {
	// Like SEARCH: message-number results forbid EXPUNGE responses during
	// SORT and THREAD (RFC 9051 7.5.1); their UID forms may have them.
	register("SORT", stateSelected, false, cmdSort)
	register("UID SORT", stateSelected, true, cmdSort)
}

// sortCaps are the SORT and THREAD capabilities (RFC 5256 1, RFC 5957 2,
// RFC 5267 3), listed after the others.
var sortCaps = []string{"SORT", "SORT=DISPLAY", threadCaps[0], threadCaps[1], "ESORT"}

// cmdSort implements SORT and UID SORT (RFC 5256 3, SORT=DISPLAY keys of
// RFC 5957 3) and their ESORT form with RETURN options (RFC 5267 3):
//
//	sort = ["UID" SP] "SORT" [SP "RETURN" SP "(" opts ")"] SP sort-criteria SP charset 1*(SP search-key)
func cmdSort(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	ret, err := searchReturnOpts(d)
	if err != nil {
		return err
	}
	if ret != nil && (ret.partial != nil || ret.update) {
		// CONTEXT=SORT (RFC 5267 4) and PARTIAL (RFC 9394) are not offered.
		return errBad("", "Unsupported SORT return option")
	}
	crits, err := sortCriteria(d)
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	prog, keys, err := s.sortProgram(d)
	var msgs []sortthread.Msg
	var modseqs []uint64
	wantModSeq := err == nil && usesModSeq(keys)
	if err == nil {
		msgs, err = s.sortMessages(prog, keys, cmd.UID, crits, &modseqs)
	}
	var ids []uint32
	if err == nil {
		ids = make([]uint32, len(msgs))
		if wantModSeq {
			byID := make(map[uint32]uint64, len(msgs))
			for i, m := range msgs {
				byID[m.ID] = modseqs[i]
			}
			sortthread.Sort(msgs, crits)
			for i, m := range msgs {
				modseqs[i] = byID[m.ID]
			}
		} else {
			sortthread.Sort(msgs, crits)
			modseqs = nil
		}
		for i, m := range msgs {
			ids[i] = m.ID
		}
	}
	if ret != nil && ret.save {
		// RFC 5182 2.1: a failed command leaves "$" empty. "$" is a set:
		// the sort order is not kept.
		s.sel.saved = nil
		if err == nil {
			saved := s.savedResult(ret, ids, cmd.UID)
			slices.Sort(saved)
			s.sel.saved = saved
		}
	}
	if err != nil {
		return err
	}
	if ret == nil {
		w := s.w.Untagged().Atom("SORT")
		for _, n := range ids {
			w.SP().Number(n)
		}
		if modseqs != nil && len(ids) > 0 {
			// RFC 7162 3.1.5: "(MODSEQ n)" after SORT results too.
			w.SP().Open().Atom("MODSEQ").SP().Number64(slices.Max(modseqs)).Close()
		}
		return w.CRLF()
	}
	if ret.save && !ret.resultOpts() {
		return nil // RFC 5182 2.1: SAVE alone returns nothing
	}
	if !ret.resultOpts() {
		ret.all = true // RFC 4731 3.1: RETURN () means ALL
	}
	return s.writeESort(cmd.Tag, cmd.UID, ret, ids, modseqs)
}

// writeESort writes the ESEARCH response of an ESORT (RFC 5267 3.2): MIN
// and MAX are the first and last messages in sort order, and ALL lists
// the messages in sort order (no ranges, so the order is unambiguous).
func (s *Session) writeESort(tag string, uid bool, r *searchReturn, ids []uint32, modseqs []uint64) error {
	w := s.w.Untagged().Atom("ESEARCH").SP().Open().Atom("TAG").SP().String(tag).Close()
	if uid {
		w.SP().Atom("UID")
	}
	if len(ids) > 0 {
		if r.min {
			w.SP().Atom("MIN").SP().Number(ids[0])
		}
		if r.max {
			w.SP().Atom("MAX").SP().Number(ids[len(ids)-1])
		}
		if r.all {
			b := make([]byte, 0, len(ids)*7)
			for i, n := range ids {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendUint(b, uint64(n), 10)
			}
			w.SP().Atom("ALL").SP().Atom(string(b))
		}
	}
	if r.count {
		w.SP().Atom("COUNT").SP().Number(uint32(len(ids)))
	}
	if modseqs != nil && len(ids) > 0 {
		w.SP().Atom("MODSEQ").SP().Number64(esearchModSeq(r, modseqs))
	}
	return w.CRLF()
}

// maxSortCriteria bounds the sort-criterion list.
const maxSortCriteria = 32

// sortCriteria reads sort-criteria (RFC 5256 4):
//
//	sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
//	sort-criterion = ["REVERSE" SP] sort-key
func sortCriteria(d *imapwire.Decoder) ([]sortthread.Criterion, error) {
	var crits []sortthread.Criterion
	err := d.List(func() error {
		a, err := d.Atom()
		if err != nil {
			return err
		}
		var c sortthread.Criterion
		if strings.EqualFold(a, "REVERSE") {
			c.Reverse = true
			if err := d.SP(); err != nil {
				return err
			}
			if a, err = d.Atom(); err != nil {
				return err
			}
		}
		k, ok := sortthread.ParseKey(a)
		if !ok {
			return errBad("", "Unknown sort key "+a)
		}
		c.Key = k
		if len(crits) == maxSortCriteria {
			return errBad("", "Too many sort criteria")
		}
		crits = append(crits, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(crits) == 0 {
		return nil, errBad("", "Empty sort criteria")
	}
	return crits, nil
}

// sortProgram reads "charset 1*(SP search-key)" of SORT and THREAD (RFC
// 5256 4: the charset is required and has no "CHARSET" label), with the
// charset rules of SEARCH, and compiles the keys.
func (s *Session) sortProgram(d *imapwire.Decoder) (*search.Program, []imapwire.SearchKey, error) {
	name, err := d.AString()
	if err != nil {
		return nil, nil, err
	}
	cs, err := checkCharset(name, s.utf8 && !s.rev2)
	if err != nil {
		return nil, nil, err
	}
	return s.compileSearchKeys(d, cs)
}

// sortMessages runs the search and computes the sort keys of every match
// once, from the stored records (no body is read). The result is in
// ascending message-number order; with modseqs non-nil it also collects
// each message's mod-sequence, in the same order.
func (s *Session) sortMessages(prog *search.Program, keys []imapwire.SearchKey, uid bool, crits []sortthread.Criterion, modseqs *[]uint64) ([]sortthread.Msg, error) {
	out := []sortthread.Msg{}
	want := usesModSeq(keys)
	err := s.matchedRecords(prog, keys, func(rec *store.Record, msn uint32) {
		id := msn
		if uid {
			id = rec.UID
		}
		out = append(out, sortthread.Keys(rec, id, crits))
		if want {
			*modseqs = append(*modseqs, rec.ModSeq)
		}
	})
	return out, err
}

// matchedRecords runs the search and calls fn with the record and message
// number of each match, in ascending order. Records are loaded in batches;
// a message expunged meanwhile by another session is skipped.
func (s *Session) matchedRecords(prog *search.Program, keys []imapwire.SearchKey, fn func(rec *store.Record, msn uint32)) error {
	matches, _, err := s.runSearch(prog, keys, false, false)
	if err != nil {
		return err
	}
	sel := s.sel
	chunk := make([]uint32, 0, fetchBatch)
	for start := 0; start < len(matches); start += fetchBatch {
		part := matches[start:min(start+fetchBatch, len(matches))]
		chunk = chunk[:0]
		for _, n := range part {
			chunk = append(chunk, sel.uids[n-1])
		}
		recs, err := s.acct.Records(s.ctx, sel.mbox.ID, chunk)
		if err != nil {
			return errFromStore(err)
		}
		j := 0
		for _, n := range part {
			u := sel.uids[n-1]
			for j < len(recs) && recs[j].UID < u {
				j++
			}
			if j == len(recs) || recs[j].UID != u {
				continue
			}
			fn(&recs[j], n)
		}
	}
	return nil
}
