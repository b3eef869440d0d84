package imapserver

import (
	"slices"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// QUOTA (RFC 9208) with the STORAGE and MESSAGE resources. Each user has
// one quota root, named "", holding every mailbox of the user; it exists
// while the administrator has set at least one limit (casier user quota),
// since a QUOTA response must list at least one resource (RFC 9208
// formal syntax: quota-list = "(" quota-resource *(SP quota-resource) ")"). Limits are
// set from the command line only: SETQUOTA is refused and QUOTASET not
// advertised (RFC 9208 4.1.3 makes SETQUOTA optional). Enforcement ([OVERQUOTA] on APPEND, COPY
// and MOVE) is the store's: it returns store.ErrOverQuota.

func init() {
	register("GETQUOTA", stateAuthed, true, cmdGetQuota)
	register("GETQUOTAROOT", stateAuthed, true, cmdGetQuotaRoot)
	register("SETQUOTA", stateAuthed, true, cmdSetQuota)
}

// quotaCaps are advertised after authentication: one QUOTA=RES-<name>
// per resource (RFC 9208 1).
var quotaCaps = []string{"QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"}

// kib converts octets to the 1024-octet units of the STORAGE resource and
// of STATUS DELETED-STORAGE, rounding up (RFC 9208 5.1: a message of one
// octet uses one unit).
func kib(n int64) uint64 {
	if n <= 0 {
		return 0
	}
	return uint64((n + 1023) / 1024)
}

// hasQuotaRoot tells whether the user's quota root exists: some limit set.
func hasQuotaRoot(q store.Quota) bool { return q.StorageLimit > 0 || q.MessageLimit > 0 }

// writeQuota writes "* QUOTA "" (resource usage limit ...)" with the
// resources that have a limit, STORAGE first (RFC 9208 4.2.1).
func (s *Session) writeQuota(q store.Quota) error {
	w := s.w
	w.Untagged().Atom("QUOTA").SP().String("").SP().Open()
	sep := false
	if q.StorageLimit > 0 {
		// The limit is rounded down: usage shown at or under it was
		// accepted, and one unit more never is.
		w.Atom("STORAGE").SP().Number64(kib(q.StorageUsed)).SP().Number64(uint64(q.StorageLimit / 1024))
		sep = true
	}
	if q.MessageLimit > 0 {
		if sep {
			w.SP()
		}
		w.Atom("MESSAGE").SP().Number64(uint64(max(q.MessagesUsed, 0))).SP().Number64(uint64(q.MessageLimit))
	}
	w.Close()
	return w.CRLF()
}

// cmdGetQuota: RFC 9208 4.1.1.
//
//	getquota = "GETQUOTA" SP quota-root-name
func cmdGetQuota(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	root, err := d.AString()
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	q, err := s.acct.Quota(s.ctx)
	if err != nil {
		return errFromStore(err)
	}
	if root != "" || !hasQuotaRoot(q) {
		return errNo("", "No such quota root")
	}
	return s.writeQuota(q)
}

// cmdGetQuotaRoot: RFC 9208 4.1.2. The QUOTAROOT response names the
// mailbox and its root (none when the user has no limit), then a QUOTA
// response follows for the root.
//
//	getquotaroot = "GETQUOTAROOT" SP mailbox
func cmdGetQuotaRoot(s *Session, cmd *imapwire.Command) error {
	name, err := oneMailboxArg(s, cmd)
	if err != nil {
		return err
	}
	mb, err := s.acct.Mailbox(s.ctx, name)
	if err != nil {
		return errFromStore(err)
	}
	q, err := s.acct.Quota(s.ctx)
	if err != nil {
		return errFromStore(err)
	}
	w := s.w
	// quotaroot-response = "QUOTAROOT" SP mailbox *(SP quota-root-name)
	w.Untagged().Atom("QUOTAROOT").SP().Mailbox(mb.Name)
	if !hasQuotaRoot(q) {
		return w.CRLF()
	}
	if err := w.SP().String("").CRLF(); err != nil {
		return err
	}
	return s.writeQuota(q)
}

// cmdSetQuota: RFC 9208 4.1.3. Limits are the administrator's (casier
// user quota), so a syntactically valid SETQUOTA gets NO; QUOTASET is not
// advertised.
//
//	setquota          = "SETQUOTA" SP quota-root-name SP setquota-list
//	setquota-list     = "(" [setquota-resource *(SP setquota-resource)] ")"
//	setquota-resource = resource-name SP resource-limit
func cmdSetQuota(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	if _, err := d.AString(); err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	err := d.List(func() error {
		if _, err := d.Atom(); err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		_, err := d.Number64()
		return err
	})
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	// RFC 5530 3: NOPERM, the user may not change the limits.
	return errNo("NOPERM", "Quota limits are set by the administrator")
}

// deletedStorage returns the value of STATUS DELETED-STORAGE (RFC 9208,
// with QUOTA=RES-STORAGE: the storage EXPUNGE would free, in 1024-octet units) when items
// asks for it, else 0 without touching the store.
func (s *Session) deletedStorage(items []string, id store.MailboxID) (uint64, error) {
	if !slices.ContainsFunc(items, func(it string) bool { return strings.EqualFold(it, "DELETED-STORAGE") }) {
		return 0, nil
	}
	n, err := s.acct.DeletedSize(s.ctx, id)
	if err != nil {
		return 0, errFromStore(err)
	}
	return kib(n), nil
}
