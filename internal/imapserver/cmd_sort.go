package imapserver

import (
	"slices"
	"strconv"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/search"
	"github.com/casier/casier/internal/search/sortthread"
)

func init() {
	// Like SEARCH: message-number results forbid EXPUNGE responses during
	// SORT and THREAD (RFC 9051 7.5.1); their UID forms may have them.
	register("SORT", stateSelected, false, cmdSort)
	register("UID SORT", stateSelected, true, cmdSort)
}

// sortCaps are the SORT and THREAD capabilities (RFC 5256 1, RFC 5957 2,
// RFC 5267 3 and 4), listed after the others.
var sortCaps = []string{"SORT", "SORT=DISPLAY", threadCaps[0], threadCaps[1], "ESORT", "CONTEXT=SORT"}

// cmdSort implements SORT and UID SORT (RFC 5256 3, SORT=DISPLAY keys of
// RFC 5957 3) and their ESORT form with RETURN options (RFC 5267 3):
// MIN, MAX, ALL, COUNT, SAVE (RFC 5182), PARTIAL (RFC 5267 4.4, RFC 9394)
// and UPDATE, which keeps the sorted result up to date (RFC 5267 4,
// CONTEXT=SORT; search_context.go):
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
	if ret != nil && ret.partial != nil && ret.all {
		// RFC 5267 4.4, RFC 9394 3.1: one PARTIAL, one ALL, or neither.
		return errBad("", "PARTIAL and ALL cannot be used together")
	}
	if ret != nil && ret.update && s.contextTagInUse(cmd.Tag) {
		// RFC 5267 4.3: UPDATE under a tag that already names a context
		// SHALL be rejected with BAD.
		return errBad("", "Tag "+cmd.Tag+" already names a search context")
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
		msgs, modseqs, err = s.sortMessages(prog, keys, cmd.UID)
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
	if ret.update {
		// RFC 5267 4.3.1: a server that cannot keep one more context
		// says so with an untagged NO and still honours the other
		// return options.
		if !s.addSortContext(cmd.Tag, cmd.UID, prog, keys, crits, msgs) {
			s.w.Untagged().Status("NO", `NOUPDATE "`+cmd.Tag+`"`, "Too many contexts").CRLF()
		}
		if !ret.resultOpts() {
			// The client needs the starting result to apply updates to.
			ret.all = true
		}
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
// and MAX are the first and last messages in sort order, ALL lists the
// messages in sort order, and PARTIAL the range of positions in sort
// order that it asks for (RFC 5267 4.4, RFC 9394 3.1; "-1" is the last
// message in sort order). Sets are plain lists, no ranges, so the order
// is unambiguous.
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
			w.SP().Atom("ALL").SP().Atom(string(appendOrdered(make([]byte, 0, len(ids)*7), ids)))
		}
	}
	if r.count {
		w.SP().Atom("COUNT").SP().Number(uint32(len(ids)))
	}
	if r.partial != nil {
		// "PARTIAL (range set)", NIL when the range names no result; sent
		// even when nothing matched (RFC 9394 3.1).
		w.SP().Atom("PARTIAL").SP().Open().Atom(r.partial.String()).SP()
		if i, j := r.partial.bounds(len(ids)); i < j {
			w.Atom(string(appendOrdered(nil, ids[i:j])))
		} else {
			w.Atom("NIL")
		}
		w.Close()
	}
	if modseqs != nil && len(ids) > 0 {
		w.SP().Atom("MODSEQ").SP().Number64(esearchModSeq(r, modseqs))
	}
	return w.CRLF()
}

// appendOrdered appends ids to b in their order: the sequence-set of a
// sorted result (RFC 5267 3.2), ranges only for ascending runs.
func appendOrdered(b []byte, ids []uint32) []byte {
	for i := 0; i < len(ids); {
		if i > 0 {
			b = append(b, ',')
		}
		// A run of consecutive ascending numbers is written a:b, which
		// means the same numbers in the same order under any reading;
		// descending runs stay listed, since 5:3 is the set 3:5.
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		b = strconv.AppendUint(b, uint64(ids[i]), 10)
		if j > i {
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(ids[j]), 10)
		}
		i = j + 1
	}
	return b
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

// sortMessages runs the search and returns the matches with their sort
// and thread fields (sortFields), in ascending message-number order,
// numbered by UID when uid. A message expunged meanwhile by another
// session is left out. When the keys use MODSEQ it also returns each
// message's mod-sequence, in the same order.
func (s *Session) sortMessages(prog *search.Program, keys []imapwire.SearchKey, uid bool) ([]sortthread.Msg, []uint64, error) {
	want := usesModSeq(keys)
	matches, ms, err := s.runSearch(prog, keys, false, want)
	if err != nil {
		return nil, nil, err
	}
	fields, err := s.sortFields(matches)
	if err != nil {
		return nil, nil, err
	}
	out := make([]sortthread.Msg, 0, len(matches))
	var modseqs []uint64
	if want {
		modseqs = make([]uint64, 0, len(matches))
	}
	for i, n := range matches {
		f := fields[i]
		if f == nil {
			continue
		}
		id := n
		if uid {
			id = f.UID
		}
		out = append(out, sortthread.Msg{ID: id, Fields: f})
		if want {
			modseqs = append(modseqs, ms[i])
		}
	}
	return out, modseqs, nil
}
