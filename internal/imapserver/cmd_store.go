package imapserver

import (
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	// RFC 9051 7.5.1: no EXPUNGE response during STORE; UID STORE may have
	// them.
	register("STORE", stateSelected, false, cmdStore)
	register("UID STORE", stateSelected, true, cmdStore)
}

// storeArgs is a parsed STORE command.
type storeArgs struct {
	set            imapwire.SeqSet
	mode           store.FlagMode
	silent         bool
	flags          []string
	unchangedSince uint64
	conditional    bool // UNCHANGEDSINCE given (0 is a valid value)
}

// cmdStore implements STORE and UID STORE (RFC 9051 6.4.6, 6.4.9) and the
// UNCHANGEDSINCE modifier of RFC 7162 3.1.3 once CONDSTORE is enabled.
func cmdStore(s *Session, cmd *imapwire.Command) error {
	a, err := s.parseStore(cmd.Args())
	if err != nil {
		return err
	}
	if s.sel.readOnly {
		// RFC 9051 6.3.3: nothing may change in a mailbox selected with
		// EXAMINE.
		return errNo("", "Mailbox is read-only")
	}
	uids, err := s.resolveSeq(a.set, cmd.UID)
	if err != nil {
		return err
	}
	if len(uids) == 0 {
		return nil
	}
	var res store.StoreResult
	if a.conditional && a.unchangedSince == 0 {
		// RFC 7162 3.1.3: every message has a mod-sequence above 0, so
		// UNCHANGEDSINCE 0 fails for all of them.
		res.Modified = uids
	} else {
		res, err = s.acct.StoreFlags(s.ctx, s.sel.mbox.ID, store.StoreRequest{
			UIDs: uids, Mode: a.mode, Flags: a.flags, UnchangedSince: a.unchangedSince,
		})
		if err != nil {
			return errFromStore(err)
		}
	}
	if len(res.Changed) > 0 {
		s.markOwn(res.Changed)
	}
	// Fold in the store's news now, so that a FLAGS response announcing a
	// new keyword precedes the FETCH responses that use it; the changes
	// just made are marked as this session's own and not repeated.
	if err := s.sync(cmd.UID); err != nil {
		return err
	}
	if err := s.storeReport(uids, &a, &res, cmd.UID); err != nil {
		return err
	}
	if len(res.Modified) > 0 {
		// RFC 7162 3.1.3: the messages that failed the UNCHANGEDSINCE test,
		// as message numbers for STORE and UIDs for UID STORE.
		set := res.Modified
		if !cmd.UID {
			set = make([]uint32, 0, len(res.Modified))
			for _, uid := range res.Modified {
				if n := s.msn(uid); n > 0 {
					set = append(set, n)
				}
			}
		}
		s.setOK("MODIFIED "+imapwire.FormatUIDSet(set), "Conditional STORE failed")
	}
	return nil
}

// parseStore reads: sequence-set [SP "(" store-modifier ")"] SP
// ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / flag *(SP flag)).
func (s *Session) parseStore(d *imapwire.Decoder) (storeArgs, error) {
	var a storeArgs
	var err error
	if err = d.SP(); err != nil {
		return a, err
	}
	if a.set, err = d.SeqSet(); err != nil {
		return a, err
	}
	if err = d.SP(); err != nil {
		return a, err
	}
	if d.Peek() == '(' {
		if err = s.storeModifiers(d, &a); err != nil {
			return a, err
		}
		if err = d.SP(); err != nil {
			return a, err
		}
	}
	item, err := d.Atom()
	if err != nil {
		return a, err
	}
	item = strings.ToUpper(item)
	if rest, ok := strings.CutSuffix(item, ".SILENT"); ok {
		a.silent, item = true, rest
	}
	switch item {
	case "FLAGS":
		a.mode = store.FlagsReplace
	case "+FLAGS":
		a.mode = store.FlagsAdd
	case "-FLAGS":
		a.mode = store.FlagsRemove
	default:
		return a, errBad("", "Unknown STORE item "+item)
	}
	if err = d.SP(); err != nil {
		return a, err
	}
	flags, err := d.FlagList()
	if err != nil {
		return a, err
	}
	if err = d.End(); err != nil {
		return a, err
	}
	a.flags = make([]string, 0, len(flags))
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) {
			a.flags = append(a.flags, f)
			continue
		}
		switch f {
		case store.FlagSeen, store.FlagAnswered, store.FlagFlagged, store.FlagDeleted, store.FlagDraft:
			a.flags = append(a.flags, f)
		case `\Recent`:
			// RFC 3501 2.3.2: \Recent cannot be altered by the client; it is
			// ignored rather than failing the whole command.
		default:
			return a, errBad("", "Invalid system flag "+f)
		}
	}
	return a, nil
}

// storeModifiers parses "(" store-modifier *(SP store-modifier) ")" (RFC
// 4466 2.5); UNCHANGEDSINCE (RFC 7162 3.1.3) is the only one known.
func (s *Session) storeModifiers(d *imapwire.Decoder, a *storeArgs) error {
	return d.List(func() error {
		name, err := d.Atom()
		if err != nil {
			return err
		}
		if !strings.EqualFold(name, "UNCHANGEDSINCE") {
			return errBad("", "Unknown STORE modifier "+name)
		}
		// RFC 7162 3.1: STORE UNCHANGEDSINCE is a CONDSTORE enabling
		// command.
		s.enableCondstore()
		if err := d.SP(); err != nil {
			return err
		}
		n, err := d.Number64()
		if err != nil {
			return err
		}
		a.unchangedSince, a.conditional = n, true
		return nil
	})
}

// storeReport writes the untagged FETCH responses of a STORE. RFC 9051
// 6.4.6: without .SILENT the server returns the updated flags of every
// message of the set (changed or not); with .SILENT it sends nothing,
// except that under CONDSTORE the new MODSEQ of each changed message is
// always sent (RFC 7162 3.1.3). Messages that failed UNCHANGEDSINCE get no
// response; they are listed in [MODIFIED].
func (s *Session) storeReport(uids []uint32, a *storeArgs, res *store.StoreResult, uid bool) error {
	if a.silent {
		if !s.condstore {
			return nil
		}
		for _, e := range res.Changed {
			if err := s.writeStoreFetch(e, uid, false); err != nil {
				return err
			}
		}
		return nil
	}
	skip := make(map[uint32]bool, len(res.Changed)+len(res.Modified))
	for _, u := range res.Modified {
		skip[u] = true
	}
	for _, e := range res.Changed {
		skip[e.UID] = true
	}
	var rest []uint32
	for _, u := range uids {
		if !skip[u] {
			rest = append(rest, u)
		}
	}
	current, err := s.currentEntries(rest)
	if err != nil {
		return err
	}
	// Merge the changed entries and the unchanged ones, ascending UID.
	i, j := 0, 0
	for i < len(res.Changed) || j < len(current) {
		var e store.Entry
		if j == len(current) || i < len(res.Changed) && res.Changed[i].UID < current[j].UID {
			e = res.Changed[i]
			i++
		} else {
			e = current[j]
			j++
		}
		if err := s.writeStoreFetch(e, uid, true); err != nil {
			return err
		}
	}
	return nil
}

// writeStoreFetch writes "* msn FETCH ([UID n] [FLAGS (...)] [MODSEQ (m)])",
// or "* n UIDFETCH ([FLAGS (...)] [MODSEQ (m)])" under UIDONLY (startFetch,
// RFC 9586 3). One of FLAGS and MODSEQ is always there: without FLAGS the
// caller writes only under CONDSTORE.
func (s *Session) writeStoreFetch(e store.Entry, uid, flags bool) error {
	msn := s.msn(e.UID)
	if msn == 0 {
		return nil
	}
	w := s.startFetch(msn, e.UID)
	sep := false
	if (uid || s.condstore) && !s.uidonly {
		// RFC 9051 6.4.9: UID STORE responses include the UID; so does
		// every STORE once CONDSTORE is enabled (RFC 7162 3.1).
		w.Atom("UID").SP().Number(e.UID)
		sep = true
	}
	if flags {
		if sep {
			w.SP()
		}
		w.Atom("FLAGS").SP()
		s.writeFlags(e.UID, e.Flags)
		sep = true
	}
	if s.condstore {
		if sep {
			w.SP()
		}
		w.Atom("MODSEQ").SP().Open().Number64(e.ModSeq).Close()
	}
	w.Close()
	return w.CRLF()
}

// currentEntries returns the current entries of the given UIDs (ascending)
// that still exist: one scan of the mailbox's small entry rows for large
// sets, records by UID for small ones.
func (s *Session) currentEntries(uids []uint32) ([]store.Entry, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	if len(uids) >= entriesThreshold {
		all, err := s.acct.Entries(s.ctx, s.sel.mbox.ID)
		if err != nil {
			return nil, errFromStore(err)
		}
		out := make([]store.Entry, 0, len(uids))
		j := 0
		for _, u := range uids {
			for j < len(all) && all[j].UID < u {
				j++
			}
			if j < len(all) && all[j].UID == u {
				out = append(out, all[j])
			}
		}
		return out, nil
	}
	recs, err := s.acct.Records(s.ctx, s.sel.mbox.ID, uids)
	if err != nil {
		return nil, errFromStore(err)
	}
	out := make([]store.Entry, len(recs))
	for i := range recs {
		out[i] = recs[i].Entry
	}
	return out, nil
}
