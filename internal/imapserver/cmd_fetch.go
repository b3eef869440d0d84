package imapserver

import (
	"errors"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/search"
	"github.com/casier/casier/internal/store"
)

func init() {
	// RFC 9051 7.5.1: no EXPUNGE response during FETCH, so that sequence
	// numbers in its FETCH responses stay valid; UID FETCH may have them.
	register("FETCH", stateSelected, false, cmdFetch)
	register("UID FETCH", stateSelected, true, cmdFetch)
}

// fetchBatch is how many records are loaded at once: FETCH 1:* over a large
// mailbox keeps a small, bounded amount of memory.
const fetchBatch = 256

// entriesThreshold is the set size from which a FETCH that needs only
// UID, FLAGS and MODSEQ reads the mailbox's entries in one scan instead of
// full records.
const entriesThreshold = 64

// fetchPlan is a validated FETCH request.
type fetchPlan struct {
	items        []imapwire.FetchItem
	addUID       bool   // UID FETCH without UID among the items (RFC 9051 6.4.9: UID is always returned)
	hasFlags     bool   // FLAGS requested
	hasModSeq    bool   // MODSEQ requested or implied
	setsSeen     bool   // some item implicitly sets \Seen (RFC 9051 6.4.5)
	entryOnly    bool   // only UID, FLAGS and MODSEQ: no record needed
	changedSince uint64 // RFC 7162 3.1.4.1 CHANGEDSINCE, 0 if absent

	prep []preparedItem // scratch space of writeFetch, one per item
}

// cmdFetch implements FETCH and UID FETCH (RFC 9051 6.4.5, 6.4.9; RFC 3501
// 6.4.5 for rev1 clients; RFC 3516 BINARY; RFC 8970 PREVIEW; RFC 7162
// MODSEQ and CHANGEDSINCE once CONDSTORE is enabled).
func cmdFetch(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	set, err := d.SeqSet()
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	items, err := d.FetchItems()
	if err != nil {
		return err
	}
	var changedSince uint64
	var vanished bool
	if d.More() {
		if changedSince, vanished, err = s.fetchModifiers(d); err != nil {
			return err
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	if vanished && (!cmd.UID || changedSince == 0) {
		// RFC 7162 3.2.6: VANISHED only in UID FETCH, with CHANGEDSINCE.
		return errBad("", "VANISHED requires UID FETCH and CHANGEDSINCE")
	}
	plan, err := s.newFetchPlan(items, cmd.UID, changedSince)
	if err != nil {
		return err
	}
	uids, err := s.resolveSeq(set, cmd.UID)
	if err != nil {
		return err
	}
	if vanished {
		if err := s.fetchVanished(set, changedSince); err != nil {
			return err
		}
	}
	missing, err := s.fetchUIDs(uids, plan)
	if err != nil {
		return err
	}
	if missing && !cmd.UID {
		// RFC 9051 7.5.1 forbids EXPUNGE here; messages another session
		// expunged keep their number but have no data left. RFC 2180 4.1.2:
		// send what exists and fail the command, so the client knows some
		// data is missing and can NOOP to learn of the expunge (RFC 5530
		// EXPUNGEISSUED).
		return errNo("EXPUNGEISSUED", "Some messages were expunged")
	}
	return nil
}

// fetchModifiers parses SP "(" fetch-modifier *(SP fetch-modifier) ")"
// (RFC 4466 2.4): CHANGEDSINCE (RFC 7162 3.1.4.1, a CONDSTORE enabling
// command) and VANISHED (RFC 7162 3.2.6, once QRESYNC is enabled).
func (s *Session) fetchModifiers(d *imapwire.Decoder) (since uint64, vanished bool, err error) {
	if err := d.SP(); err != nil {
		return 0, false, err
	}
	err = d.List(func() error {
		name, err := d.Atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(name) {
		case "VANISHED":
			if !s.qresync {
				return errBad("", "VANISHED requires QRESYNC")
			}
			vanished = true
			return nil
		case "CHANGEDSINCE":
			if err := d.SP(); err != nil {
				return err
			}
			n, err := d.Number64()
			if err != nil {
				return err
			}
			if n == 0 {
				return errBad("", "CHANGEDSINCE must be positive")
			}
			since = n
			return nil
		}
		return errBad("", "Unknown FETCH modifier "+name)
	})
	if err == nil && since == 0 && !vanished {
		err = errBad("", "Empty FETCH modifier list")
	}
	return since, vanished, err
}

// fetchVanished sends "* VANISHED (EARLIER) uids" for the UIDs of the
// command's set expunged after since (RFC 7162 3.2.6), before the FETCH
// responses; the set is walked as ranges, never expanded.
func (s *Session) fetchVanished(set imapwire.SeqSet, since uint64) error {
	cs, err := s.acct.Changes(s.ctx, s.sel.mbox.ID, since)
	if err != nil {
		return errFromStore(err)
	}
	maxUID := max(cs.UIDNext, s.sel.lastUID()+1) - 1
	var rs []imapwire.SeqRange
	if set.Saved {
		for _, u := range s.sel.saved {
			rs = append(rs, imapwire.SeqRange{Start: u, Stop: u})
		}
	} else {
		rs = set.Normalize(maxUID)
	}
	v, err := s.vanished(since, rs, cs.Expunged)
	if err != nil || v == "" {
		return err
	}
	return s.w.Untagged().Atom("VANISHED").SP().Open().Atom("EARLIER").Close().SP().Atom(v).CRLF()
}

// newFetchPlan validates the items for this session and notes what they
// need.
func (s *Session) newFetchPlan(items []imapwire.FetchItem, uid bool, changedSince uint64) (*fetchPlan, error) {
	p := &fetchPlan{items: items, addUID: uid, changedSince: changedSince, entryOnly: true}
	if changedSince > 0 {
		// RFC 7162 3.1.4.1: CHANGEDSINCE implies MODSEQ, and enables
		// CONDSTORE (3.1).
		p.hasModSeq = true
		s.enableCondstore()
	}
	for i := range items {
		it := &items[i]
		switch it.Name {
		case "UID":
			p.addUID = false
			continue
		case "FLAGS":
			p.hasFlags = true
			continue
		case "MODSEQ":
			// RFC 7162 3.1: FETCH MODSEQ is a CONDSTORE enabling command.
			s.enableCondstore()
			p.hasModSeq = true
			continue
		case "BODY", "BINARY", "BINARY.SIZE":
			if it.Section == nil {
				if it.Name != "BODY" {
					return nil, errBad("", it.Name+" requires a section")
				}
				break
			}
			if it.Name != "BODY" && it.Section.Specifier != "" {
				return nil, errBad("", it.Name+" takes only part numbers")
			}
			if it.Section.Specifier == "MIME" && len(it.Section.Path) == 0 {
				return nil, errBad("", "MIME requires a part number")
			}
			if it.Name != "BINARY.SIZE" && !it.Peek {
				p.setsSeen = true
			}
		case "RFC822", "RFC822.TEXT":
			p.setsSeen = true
		case "ENVELOPE", "BODYSTRUCTURE", "INTERNALDATE", "RFC822.SIZE", "RFC822.HEADER",
			"PREVIEW", "EMAILID", "THREADID", "SAVEDATE":
		default:
			return nil, errBad("", "Unknown FETCH item "+it.Name)
		}
		p.entryOnly = false
	}
	return p, nil
}

// fetchUIDs answers the FETCH for the given UIDs of the view, in batches.
// It reports whether some of them no longer exist in the store.
func (s *Session) fetchUIDs(uids []uint32, p *fetchPlan) (missing bool, err error) {
	if p.entryOnly && !p.hasFlags && !p.hasModSeq && p.changedSince == 0 && !s.cmdUID {
		// UID alone comes from the view, which keeps a message another
		// session expunged until its EXPUNGE may be sent (RFC 9051
		// 7.5.1): such a message is still answered (RFC 2180 4.1.1), so
		// the command needs no NO [EXPUNGEISSUED]. (A UID FETCH may send
		// the EXPUNGE instead.)
		var rec store.Record
		for _, uid := range uids {
			if msn := s.msn(uid); msn != 0 {
				rec.UID = uid
				if err := s.writeFetch(msn, &rec, p, false); err != nil {
					return false, err
				}
			}
		}
		return false, nil
	}
	if p.entryOnly && len(uids) >= entriesThreshold {
		return s.fetchEntries(uids, p)
	}
	mbox := s.sel.mbox.ID
	seen := p.setsSeen && !s.sel.readOnly
	for start := 0; start < len(uids); start += fetchBatch {
		chunk := uids[start:min(start+fetchBatch, len(uids))]
		recs, err := s.acct.Records(s.ctx, mbox, chunk)
		if err != nil {
			return missing, errFromStore(err)
		}
		if len(recs) < len(chunk) {
			missing = true
		}
		if p.changedSince > 0 {
			recs = keepChangedSince(recs, p.changedSince)
		}
		var seenSet map[uint32]bool
		if seen {
			if seenSet, err = s.fetchSetSeen(recs); err != nil {
				return missing, err
			}
		}
		var reported []store.Entry
		for i := range recs {
			rec := &recs[i]
			msn := s.msn(rec.UID)
			if msn == 0 {
				continue
			}
			err := s.writeFetch(msn, rec, p, seenSet[rec.UID])
			if err == errMessageGone {
				missing = true
				continue
			}
			if seenSet[rec.UID] && err == nil {
				reported = append(reported, rec.Entry)
			}
			if err != nil {
				if len(reported) > 0 {
					s.markOwn(reported)
				}
				return missing, err
			}
		}
		if len(reported) > 0 {
			s.markOwn(reported)
		}
	}
	return missing, nil
}

// fetchEntries answers a FETCH of UID, FLAGS and MODSEQ only from the
// mailbox's entries: one scan of small rows, no message record decoded.
func (s *Session) fetchEntries(uids []uint32, p *fetchPlan) (missing bool, err error) {
	entries, err := s.acct.Entries(s.ctx, s.sel.mbox.ID)
	if err != nil {
		return false, errFromStore(err)
	}
	var rec store.Record
	j := 0
	for _, uid := range uids {
		for j < len(entries) && entries[j].UID < uid {
			j++
		}
		if j == len(entries) || entries[j].UID != uid {
			missing = true
			continue
		}
		e := entries[j]
		if p.changedSince > 0 && e.ModSeq <= p.changedSince {
			continue
		}
		msn := s.msn(uid)
		if msn == 0 {
			continue
		}
		rec.Entry = e
		if err := s.writeFetch(msn, &rec, p, false); err != nil {
			return missing, err
		}
	}
	return missing, nil
}

func keepChangedSince(recs []store.Record, since uint64) []store.Record {
	out := recs[:0]
	for _, r := range recs {
		if r.ModSeq > since {
			out = append(out, r)
		}
	}
	return out
}

// fetchSetSeen sets \Seen on the records that lack it, as a non-PEEK body
// fetch does (RFC 9051 6.4.5), updating their flags in place. It returns
// the UIDs whose flags changed.
func (s *Session) fetchSetSeen(recs []store.Record) (map[uint32]bool, error) {
	var need []uint32
	for i := range recs {
		if !hasFlag(recs[i].Flags, store.FlagSeen) {
			need = append(need, recs[i].UID)
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	res, err := s.acct.StoreFlags(s.ctx, s.sel.mbox.ID, store.StoreRequest{
		UIDs: need, Mode: store.FlagsAdd, Flags: []string{store.FlagSeen},
	})
	if err != nil {
		return nil, errFromStore(err)
	}
	changed := make(map[uint32]bool, len(res.Changed))
	j := 0
	for _, e := range res.Changed {
		for j < len(recs) && recs[j].UID < e.UID {
			j++
		}
		if j < len(recs) && recs[j].UID == e.UID {
			recs[j].Entry = e
			changed[e.UID] = true
		}
	}
	return changed, nil
}

func hasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}

// writeFlags writes a flag list; rev1 clients also see \Recent (RFC 3501
// 2.3.2; IMAP4rev2 has no \Recent, RFC 9051 appendix E).
func (s *Session) writeFlags(uid uint32, flags []string) {
	if !s.rev2 && s.isRecent(uid) {
		all := make([]string, 0, len(flags)+1)
		all = append(all, flags...)
		flags = append(all, `\Recent`)
	}
	s.w.Flags(flags)
}

// preparedItem holds what an item needs that may fail, computed before the
// response line starts so that an error never leaves a half-written line.
type preparedItem struct {
	val sectionValue
	bin []byte
	n   int64
}

// writeFetch writes "* msn FETCH (...)" for one message: the items in the
// order requested, UID first for UID FETCH when not requested, and FLAGS
// (with MODSEQ under CONDSTORE) at the end when \Seen was just set and the
// client did not ask for them (RFC 9051 6.4.5: the new flags SHOULD be
// included). Under UIDONLY it is "* uid UIDFETCH (...)" without the UID
// the server would add (startFetch, RFC 9586 3).
func (s *Session) writeFetch(msn uint32, rec *store.Record, p *fetchPlan, seenChanged bool) error {
	src := msgSource{s: s, rec: rec}
	defer src.close()
	if len(p.prep) != len(p.items) {
		p.prep = make([]preparedItem, len(p.items))
	}
	prep := p.prep
	for i := range p.items {
		prep[i] = preparedItem{}
		if err := src.prepare(&p.items[i], &prep[i]); err != nil {
			return err
		}
	}

	w := s.startFetch(msn, rec.UID)
	first := true
	sep := func() {
		if !first {
			w.SP()
		}
		first = false
	}
	if p.addUID && !s.uidonly {
		sep()
		w.Atom("UID").SP().Number(rec.UID)
	}
	for i := range p.items {
		sep()
		s.writeItem(&src, &p.items[i], &prep[i])
	}
	if seenChanged && s.condstore && !p.addUID && !hasItem(p.items, "UID") && !s.uidonly {
		// RFC 7162 3.1: a FETCH that set \Seen reports UID and MODSEQ
		// once CONDSTORE is enabled.
		sep()
		w.Atom("UID").SP().Number(rec.UID)
	}
	if seenChanged && !p.hasFlags {
		sep()
		w.Atom("FLAGS").SP()
		s.writeFlags(rec.UID, rec.Flags)
	}
	if p.hasModSeq && !hasItem(p.items, "MODSEQ") || seenChanged && s.condstore && !p.hasModSeq {
		sep()
		w.Atom("MODSEQ").SP().Open().Number64(rec.ModSeq).Close()
	}
	w.Close()
	return w.CRLF()
}

// rootPart returns the MIME tree of a record (nil if it has no model).
func rootPart(rec *store.Record) *message.Part {
	if rec.Parsed == nil {
		return nil
	}
	return rec.Parsed.Root
}

func hasItem(items []imapwire.FetchItem, name string) bool {
	for i := range items {
		if items[i].Name == name {
			return true
		}
	}
	return false
}

// prepare resolves the section items of one message.
func (m *msgSource) prepare(it *imapwire.FetchItem, out *preparedItem) error {
	var err error
	switch it.Name {
	case "BODY":
		if it.Section == nil {
			return nil
		}
		out.val, err = m.section(it.Section)
		out.val = out.val.applyPartial(it.Partial)
	case "BINARY":
		out.bin, err = m.binary(it.Section)
		if it.Partial != nil && err == nil {
			out.bin = bytesValue(out.bin).applyPartial(it.Partial).data
		}
	case "BINARY.SIZE":
		out.n, err = m.binarySize(it.Section)
	case "RFC822":
		out.val, err = m.section(&imapwire.Section{})
	case "RFC822.HEADER":
		out.val, err = m.section(&imapwire.Section{Specifier: "HEADER"})
	case "RFC822.TEXT":
		out.val, err = m.section(&imapwire.Section{Specifier: "TEXT"})
	}
	switch {
	case err == nil, err == errUnknownCTE:
	case errors.Is(err, store.ErrNotFound):
		// Expunged and removed between loading the record and opening
		// the body: treated like a message already gone.
		err = errMessageGone
	default:
		err = errFromStore(err)
	}
	return err
}

// errMessageGone reports a message whose body vanished during FETCH.
var errMessageGone = errors.New("imapserver: message gone during FETCH")

// writeItem writes one "name value" pair of a FETCH response (RFC 9051
// 7.5.2).
func (s *Session) writeItem(src *msgSource, it *imapwire.FetchItem, prep *preparedItem) {
	w := s.w
	rec := src.rec
	switch it.Name {
	case "UID":
		w.Atom("UID").SP().Number(rec.UID)
	case "FLAGS":
		w.Atom("FLAGS").SP()
		s.writeFlags(rec.UID, rec.Flags)
	case "MODSEQ":
		w.Atom("MODSEQ").SP().Open().Number64(rec.ModSeq).Close()
	case "INTERNALDATE":
		w.Atom("INTERNALDATE").SP().DateTime(rec.InternalDate)
	case "RFC822.SIZE":
		w.Atom("RFC822.SIZE").SP().Number64(uint64(max(rec.Size, 0)))
	case "ENVELOPE":
		w.Atom("ENVELOPE").SP()
		if rec.Parsed != nil {
			writeEnvelope(w, &rec.Parsed.Envelope)
		} else {
			writeEnvelope(w, nil)
		}
	case "BODYSTRUCTURE":
		w.Atom("BODYSTRUCTURE").SP()
		writeBodyStructure(w, rootPart(rec), true)
	case "BODY":
		if it.Section == nil {
			w.Atom("BODY").SP()
			writeBodyStructure(w, rootPart(rec), false)
			return
		}
		writeSectionName(w, "BODY", it.Section)
		if it.Partial != nil {
			// RFC 9051 7.5.2: only the origin octet is echoed.
			w.Atom("<").Number(it.Partial.Offset).Atom(">")
		}
		w.SP()
		src.writeValue(w, prep.val)
	case "BINARY":
		// RFC 9051 9 msg-att-static: "BINARY" section-binary SP (nstring /
		// literal8), without the origin octet (errata 7246).
		writeSectionName(w, "BINARY", it.Section)
		w.SP()
		writeBinaryValue(w, prep.bin)
	case "BINARY.SIZE":
		writeSectionName(w, "BINARY.SIZE", it.Section)
		w.SP().Number64(uint64(prep.n))
	case "RFC822", "RFC822.HEADER", "RFC822.TEXT":
		// RFC 3501 6.4.5: same data as BODY[], BODY.PEEK[HEADER] and
		// BODY[TEXT], under the RFC822 names.
		w.Atom(it.Name).SP()
		src.writeValue(w, prep.val)
	case "PREVIEW":
		// RFC 8970 3: the preview is computed at delivery, so LAZY changes
		// nothing.
		w.Atom("PREVIEW").SP()
		if rec.Parsed == nil {
			w.Atom("NIL")
		} else {
			w.String(rec.Parsed.Preview)
		}
	case "EMAILID":
		// RFC 8474 5.1: the id of the stored body, shared by its copies.
		w.Atom("EMAILID").SP().Open().Atom(search.EmailID(rec.MessageID)).Close()
	case "THREADID":
		// RFC 8474 5.2: the thread computed at delivery (store); NIL for
		// a message without one.
		w.Atom("THREADID").SP()
		if rec.Parsed == nil || rec.Parsed.ThreadID == "" {
			w.Atom("NIL")
		} else {
			w.Open().Atom(rec.Parsed.ThreadID).Close()
		}
	case "SAVEDATE":
		// RFC 8514 4: NIL when the save date is unknown.
		w.Atom("SAVEDATE").SP()
		if rec.SaveDate.IsZero() || rec.SaveDate.Unix() == 0 {
			w.Atom("NIL")
		} else {
			w.DateTime(rec.SaveDate)
		}
	}
}
