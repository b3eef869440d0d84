package imapserver

import (
	"strconv"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	register("COPY", stateSelected, true, cmdCopy)
	register("UID COPY", stateSelected, true, cmdCopy)
	// MOVE sends EXPUNGE responses by definition (RFC 6851 3.3).
	register("MOVE", stateSelected, true, cmdMove)
	register("UID MOVE", stateSelected, true, cmdMove)
}

// copyArgs reads: SP sequence-set SP mailbox.
func (s *Session) copyArgs(cmd *imapwire.Command) ([]uint32, store.Mailbox, error) {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return nil, store.Mailbox{}, err
	}
	set, err := d.SeqSet()
	if err != nil {
		return nil, store.Mailbox{}, err
	}
	if err := d.SP(); err != nil {
		return nil, store.Mailbox{}, err
	}
	name, err := d.Mailbox(s.utf8)
	if err != nil {
		return nil, store.Mailbox{}, err
	}
	if err := d.End(); err != nil {
		return nil, store.Mailbox{}, err
	}
	uids, err := s.resolveSeq(set, cmd.UID)
	if err != nil {
		return nil, store.Mailbox{}, err
	}
	dst, err := s.acct.Mailbox(s.ctx, name)
	if err != nil {
		// RFC 9051 6.4.7: a destination that does not exist gets
		// [TRYCREATE].
		return nil, store.Mailbox{}, errFromStoreTarget(err)
	}
	return uids, dst, nil
}

// copyUIDCode is the COPYUID response code of RFC 4315 3: the destination
// UIDVALIDITY, the source UIDs and the destination UIDs, each set in the
// same order so that the n-th UIDs correspond.
func copyUIDCode(r store.CopyResult) string {
	return "COPYUID " + strconv.FormatUint(uint64(r.UIDValidity), 10) + " " +
		imapwire.FormatUIDSet(r.SrcUIDs) + " " + imapwire.FormatUIDSet(r.DstUIDs)
}

// cmdCopy implements COPY and UID COPY (RFC 9051 6.4.7, 6.4.9) with the
// COPYUID response code of RFC 4315 (UIDPLUS, part of IMAP4rev2). Copying
// from a mailbox selected read-only is allowed: the source does not change.
func cmdCopy(s *Session, cmd *imapwire.Command) error {
	uids, dst, err := s.copyArgs(cmd)
	if err != nil {
		return err
	}
	if len(uids) == 0 {
		return nil
	}
	res, err := s.acct.Copy(s.ctx, s.sel.mbox.ID, uids, dst.ID)
	if err != nil {
		return errFromStoreTarget(err)
	}
	if len(res.SrcUIDs) > 0 {
		s.setOK(copyUIDCode(res), "")
	}
	return nil
}

// cmdMove implements MOVE and UID MOVE (RFC 6851): the COPYUID goes in an
// untagged OK before the EXPUNGE responses of the moved messages (RFC 6851
// 4.3), then the tagged OK.
func cmdMove(s *Session, cmd *imapwire.Command) error {
	uids, dst, err := s.copyArgs(cmd)
	if err != nil {
		return err
	}
	if s.sel.readOnly {
		return errNo("", "Mailbox is read-only")
	}
	if len(uids) == 0 {
		return nil
	}
	res, err := s.acct.Move(s.ctx, s.sel.mbox.ID, uids, dst.ID)
	if err != nil {
		return errFromStoreTarget(err)
	}
	if len(res.SrcUIDs) > 0 {
		s.w.Untagged().Status("OK", copyUIDCode(res), "Moved")
		if err := s.w.CRLF(); err != nil {
			return err
		}
	}
	// The expunges of the moved messages (and anything else pending) go
	// out now, before the tagged response.
	return s.sync(true)
}
