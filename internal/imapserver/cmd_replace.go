package imapserver

import (
	"errors"
	"strconv"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	// REPLACE expunges the replaced message by definition (RFC 8508 3.4),
	// so EXPUNGE responses are allowed during it.
	register("REPLACE", stateSelected, true, cmdReplace)
	register("UID REPLACE", stateSelected, true, cmdReplace)
}

// cmdReplace implements REPLACE and UID REPLACE (RFC 8508 3.2, 3.3):
//
//	replace     = "REPLACE" SP seq-number SP mailbox append-message
//	uid-replace = "UID" SP replace   ; seq-number is then a UID
//
// append-message is APPEND's, so it may carry CATENATE (RFC 4469) as in
// APPEND: every part is resolved before the store is touched, so
// a URL may name the very message being replaced (its bytes are read into
// the new message before the old one goes), and a BADURL or TOOBIG leaves
// the old message in place.
//
// The new message is appended to the named mailbox and the old one
// removed from the selected mailbox in one store transaction
// (Account.Replace), so no session sees both or neither, and a failure of
// either half (missing target, over quota, too big, 8-bit header) leaves
// the old message as it was (RFC 8508 3.4). On success the responses are
// (RFC 8508 3.2, 4.3): an untagged OK carrying APPENDUID (UIDPLUS), then
// EXISTS when the target is the selected mailbox and the EXPUNGE (or
// VANISHED with QRESYNC) of the old message, then the tagged OK.
func cmdReplace(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	set, err := d.SeqSet()
	if err != nil {
		return err
	}
	// seq-number: one number or "*", never a range, a list or "$".
	if set.Saved || len(set.Ranges) != 1 || set.Ranges[0].Start != set.Ranges[0].Stop {
		return errBad("", cmd.Name+" takes a single message number")
	}
	if err := d.SP(); err != nil {
		return err
	}
	raw, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	m, err := parseAppendMsg(d, true)
	if m.cat != nil {
		defer m.cat.close()
	}
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}

	if s.sel.readOnly {
		// RFC 8508 3.4: the old message cannot be expunged.
		return errNo("", "Mailbox is read-only")
	}
	uids, err := s.resolveSeq(set, cmd.UID)
	if err != nil {
		return err
	}
	if len(uids) != 1 {
		// RFC 8508 3.3: UID REPLACE of a UID that is not in the mailbox.
		return errNo("NONEXISTENT", "No such message")
	}
	name, err := s.mailboxName(raw)
	if err != nil {
		return err
	}
	dst, err := s.acct.Mailbox(s.ctx, name)
	if err != nil {
		// As APPEND: [TRYCREATE] when the target does not exist.
		return errFromStoreTarget(err)
	}
	limit := s.srv.cfg.MaxMessageSize
	switch {
	case m.cat != nil:
		// RFC 4469 5: every URL resolved and the total size checked
		// before anything is stored.
		if err := s.resolveCatenate(m.cat, limit); err != nil {
			return err
		}
	case m.utf8 && !s.utf8:
		// RFC 6855 4: the UTF8 data item needs ENABLE UTF8=ACCEPT.
		return errNo("", "UTF8 requires ENABLE UTF8=ACCEPT")
	case m.lit.Size == 0:
		return errNo("", "Cannot store an empty message")
	case limit > 0 && m.lit.Size > limit:
		// RFC 7889 4 applies to the message of REPLACE as to APPEND.
		return errNo("TOOBIG", "Message is larger than APPENDLIMIT="+strconv.FormatInt(limit, 10))
	}

	res, err := s.replaceOne(uids[0], dst.ID, m)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// Expunged by another session since this one last synced.
			return errNo("NONEXISTENT", "No such message")
		}
		return err
	}
	// RFC 8508 4.3: APPENDUID in an untagged OK, ahead of the expunge.
	s.w.Untagged().Status("OK", "APPENDUID "+u32str(res.UIDValidity)+" "+u32str(res.UID), "Replacement message ready")
	if err := s.w.CRLF(); err != nil {
		return err
	}
	s.dirty = true
	if dst.ID == s.sel.mbox.ID && !s.condstore {
		// EXISTS first, with the expunge held back; the core's sync
		// before the tagged OK then sends the EXPUNGE (the order of the
		// RFC 8508 3.2 example). With CONDSTORE a held-back expunge
		// would add an "OK [HIGHESTMODSEQ]" (RFC 7162 3.2), so there the
		// core's single sync sends EXPUNGE or VANISHED, then EXISTS.
		return s.sync(false)
	}
	return nil
}

// replaceOne runs the store's Replace with the message's literal or its
// resolved catenation, filtering 8-bit header bytes as APPEND does
// without UTF8=ACCEPT.
func (s *Session) replaceOne(uid uint32, dst store.MailboxID, m appendMsg) (store.AppendResult, error) {
	res, err := s.storeMessage(m, func(req store.AppendRequest) (store.AppendResult, error) {
		return s.acct.Replace(s.ctx, s.sel.mbox.ID, uid, dst, req)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return res, errFromStoreTarget(err)
	}
	return res, err
}
