package imapserver

import (
	"github.com/casier/casier/internal/imapwire"
)

func init() {
	register("EXPUNGE", stateSelected, true, cmdExpunge)
	register("UID EXPUNGE", stateSelected, true, cmdExpunge)
}

// cmdExpunge implements EXPUNGE (RFC 9051 6.4.3) and UID EXPUNGE (RFC 4315
// 2.1, part of IMAP4rev2, RFC 9051 6.4.9): remove the messages with
// \Deleted (only those of the UID set for UID EXPUNGE). The EXPUNGE
// responses are written by sync, which numbers them as the client's view
// shrinks: expunging messages 2 and 4 of 5 gives "* 2 EXPUNGE" then
// "* 3 EXPUNGE".
func cmdExpunge(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	var uids []uint32
	if cmd.UID {
		if err := d.SP(); err != nil {
			return err
		}
		set, err := d.SeqSet()
		if err != nil {
			return err
		}
		if err := d.End(); err != nil {
			return err
		}
		if uids, err = s.resolveSeq(set, true); err != nil {
			return err
		}
	} else if err := d.End(); err != nil {
		return err
	}
	if s.sel.readOnly {
		return errNo("", "Mailbox is read-only")
	}
	if cmd.UID && len(uids) == 0 {
		// Nothing named; a nil set would mean every \Deleted message.
		return nil
	}
	if _, err := s.acct.Expunge(s.ctx, s.sel.mbox.ID, uids); err != nil {
		return errFromStore(err)
	}
	return s.sync(true)
}
