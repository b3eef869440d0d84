package imapserver

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	register("CREATE", stateAuthed, true, cmdCreate)
	register("DELETE", stateAuthed, true, cmdDelete)
	register("RENAME", stateAuthed, true, cmdRename)
	register("SUBSCRIBE", stateAuthed, true, cmdSubscribe)
	register("UNSUBSCRIBE", stateAuthed, true, cmdUnsubscribe)
	register("STATUS", stateAuthed, true, cmdStatus)
}

// specialUseAttrs are the attributes CREATE (USE (...)) accepts: RFC 6154
// 2 and \Important of RFC 8457, by lower-case name.
var specialUseAttrs = map[string]string{
	`\all`:       `\All`,
	`\archive`:   `\Archive`,
	`\drafts`:    `\Drafts`,
	`\flagged`:   `\Flagged`,
	`\junk`:      `\Junk`,
	`\sent`:      `\Sent`,
	`\trash`:     `\Trash`,
	`\important`: `\Important`,
}

// cmdCreate: RFC 9051 6.3.4, with CREATE-SPECIAL-USE (RFC 6154 3):
//
//	create = "CREATE" SP mailbox [SP "(" "USE" SP "(" [use-attr *(SP use-attr)] ")" ")"]
func cmdCreate(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	raw, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	var uses []string
	if d.More() {
		if err := d.SP(); err != nil {
			return err
		}
		err := d.List(func() error {
			p, err := d.Atom()
			if err != nil {
				return err
			}
			if !strings.EqualFold(p, "USE") {
				// RFC 4466 2.2: unknown create parameters are refused.
				return errBad("", "Unknown CREATE parameter "+p)
			}
			if err := d.SP(); err != nil {
				return err
			}
			return d.List(func() error {
				f, err := d.Flag()
				if err != nil {
					return err
				}
				uses = append(uses, f)
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	if err := d.End(); err != nil {
		return err
	}

	// RFC 9051 6.3.4: a trailing delimiter declares that the client
	// intends to create names under this one; the mailbox is the name
	// without it.
	if len(raw) > 1 && strings.HasSuffix(raw, "/") {
		raw = raw[:len(raw)-1]
	}
	name, err := s.mailboxName(raw)
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return errNo("ALREADYEXISTS", "INBOX always exists")
	}

	// RFC 6154 3: an attribute we do not support, or a combination we
	// cannot store (one special use per mailbox), gets [USEATTR].
	var use string
	for _, u := range uses {
		c, ok := specialUseAttrs[strings.ToLower(u)]
		if !ok {
			return errNo("USEATTR", u+" is not a supported special-use attribute")
		}
		if use != "" && use != c {
			return errNo("USEATTR", "Only one special-use attribute per mailbox")
		}
		use = c
	}

	mb, err := s.acct.CreateMailbox(s.ctx, name, use)
	if err != nil {
		if errors.Is(err, store.ErrUseAttr) {
			return errNo("USEATTR", use+" is not a supported special-use attribute")
		}
		if use == `\All` && errors.Is(err, store.ErrExists) {
			// A second All Mail is refused even under a free name: RFC
			// 6154 3 wants [USEATTR] when the attribute cannot be
			// assigned, and [ALREADYEXISTS] would name the wrong thing.
			if _, lerr := s.acct.Mailbox(s.ctx, name); errors.Is(lerr, store.ErrNoMailbox) {
				return errNo("USEATTR", `Only one mailbox can be All Mail (\All)`)
			}
		}
		return errFromStore(err)
	}
	// RFC 8474 4.1: the tagged OK of a successful CREATE carries the new
	// mailbox's MAILBOXID.
	s.setOK("MAILBOXID ("+mailboxObjectID(mb.ID)+")", "CREATE completed")
	return nil
}

// mailboxObjectID is the RFC 8474 MAILBOXID of a mailbox: its store id,
// never reused (AUTOINCREMENT), so it survives RENAME and a mailbox
// deleted and created again gets a new one. The "F" keeps it from looking
// like a number (objectid = 1*255(ALPHA / DIGIT / "_" / "-")).
func mailboxObjectID(id store.MailboxID) string {
	return "F" + strconv.FormatInt(int64(id), 10)
}

// cmdDelete: RFC 9051 6.3.5. The store refuses INBOX ([CANNOT]) and
// mailboxes with children ([HASCHILDREN]); deleting the selected mailbox
// is allowed and the core's sync deals with the session.
func cmdDelete(s *Session, cmd *imapwire.Command) error {
	name, err := oneMailboxArg(s, cmd)
	if err != nil {
		return err
	}
	if err := s.acct.DeleteMailbox(s.ctx, name); err != nil {
		return errFromStore(err)
	}
	if s.sel != nil {
		s.checkMailbox = true
	}
	return nil
}

// cmdRename: RFC 9051 6.3.6. The store moves the whole subtree, and
// renaming INBOX moves its messages into a new mailbox, leaving INBOX
// empty.
func cmdRename(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	rawFrom, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	rawTo, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	from, err := s.mailboxName(rawFrom)
	if err != nil {
		return err
	}
	to, err := s.mailboxName(rawTo)
	if err != nil {
		return err
	}
	if to == "INBOX" {
		return errNo("ALREADYEXISTS", "INBOX always exists")
	}
	if from != "INBOX" && strings.HasPrefix(to, from+"/") {
		return errNo("CANNOT", "Cannot move a mailbox into itself")
	}
	if err := s.acct.RenameMailbox(s.ctx, from, to); err != nil {
		return errFromStore(err)
	}
	if s.sel != nil {
		// The selected mailbox may have been renamed, or (INBOX) emptied.
		s.checkMailbox = true
		s.dirty = true
	}
	return nil
}

// cmdSubscribe: RFC 9051 6.3.7. Any valid name may be subscribed, even one
// that does not exist (the RFC lets the server choose; Dovecot allows it).
func cmdSubscribe(s *Session, cmd *imapwire.Command) error {
	name, err := oneMailboxArg(s, cmd)
	if err != nil {
		return err
	}
	return errFromStore(s.acct.Subscribe(s.ctx, name, true))
}

// cmdUnsubscribe: RFC 9051 6.3.8. Removing a name that is not subscribed
// succeeds: the end state is what the client asked for.
func cmdUnsubscribe(s *Session, cmd *imapwire.Command) error {
	name, err := oneMailboxArg(s, cmd)
	if err != nil {
		return err
	}
	return errFromStore(s.acct.Subscribe(s.ctx, name, false))
}

// oneMailboxArg reads the single mailbox argument of DELETE, SUBSCRIBE,
// UNSUBSCRIBE and GETQUOTAROOT and validates it.
func oneMailboxArg(s *Session, cmd *imapwire.Command) (string, error) {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return "", err
	}
	raw, err := d.Mailbox(s.utf8)
	if err != nil {
		return "", err
	}
	if err := d.End(); err != nil {
		return "", err
	}
	return s.mailboxName(raw)
}

// cmdStatus: RFC 9051 6.3.11, with STATUS=SIZE (RFC 8438), APPENDLIMIT
// (RFC 7889) and RECENT for rev1 clients (RFC 3501 6.3.10). STATUS of the
// selected mailbox is allowed; the counters come from the store.
//
//	status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
func cmdStatus(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	raw, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	items, err := parseStatusItems(d)
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	if len(items) == 0 {
		return errBad("", "STATUS needs at least one item")
	}
	name, err := s.mailboxName(raw)
	if err != nil {
		return err
	}
	mb, err := s.acct.Mailbox(s.ctx, name)
	if err != nil {
		return errFromStore(err)
	}
	if !mb.Selectable() {
		// The label root is \Noselect (RFC 9051 7.3.1): it has no
		// messages to count, and RFC 5819 2 leaves such mailboxes out
		// of LIST-STATUS for that reason.
		return errFromStore(store.ErrNoSelect)
	}
	st, err := s.acct.Status(s.ctx, mb.ID)
	if err != nil {
		return errFromStore(err)
	}
	if slices.Contains(items, "HIGHESTMODSEQ") {
		// RFC 7162 3.1: STATUS HIGHESTMODSEQ is a CONDSTORE enabling
		// command.
		s.enableCondstore()
	}
	return s.writeStatus(mb.Name, items, st)
}

// statusItems are the STATUS data items we answer.
var statusItems = map[string]bool{
	"MESSAGES":        true,
	"UIDNEXT":         true,
	"UIDVALIDITY":     true,
	"UNSEEN":          true,
	"DELETED":         true, // RFC 9051 6.3.11
	"SIZE":            true, // RFC 8438
	"RECENT":          true, // RFC 3501; gone from rev2, still answered
	"APPENDLIMIT":     true, // RFC 7889
	"HIGHESTMODSEQ":   true, // RFC 7162 3.1.1
	"DELETED-STORAGE": true, // RFC 9208, cmd_quota.go
	"MAILBOXID":       true, // RFC 8474 4.2
}

// parseStatusItems reads "(" status-att *(SP status-att) ")" and returns
// the items upper-cased, in the order given.
func parseStatusItems(d *imapwire.Decoder) ([]string, error) {
	items := []string{}
	err := d.List(func() error {
		a, err := d.Atom()
		if err != nil {
			return err
		}
		a = strings.ToUpper(a)
		if !statusItems[a] {
			return errBad("", "Unknown STATUS item "+a)
		}
		items = append(items, a)
		return nil
	})
	return items, err
}

// writeStatus writes "* STATUS name (item value ...)" with the items in
// the order requested (RFC 9051 7.3.5).
func (s *Session) writeStatus(name string, items []string, st store.MailboxStatus) error {
	delKiB, err := s.deletedStorage(items, st.ID) // before any output
	if err != nil {
		return err
	}
	w := s.w
	w.Untagged().Atom("STATUS").SP().Mailbox(name).SP().Open()
	for i, it := range items {
		if i > 0 {
			w.SP()
		}
		w.Atom(it).SP()
		switch it {
		case "MESSAGES":
			w.Number(st.Messages)
		case "UIDNEXT":
			w.Number(st.UIDNext)
		case "UIDVALIDITY":
			w.Number(st.UIDValidity)
		case "UNSEEN":
			w.Number(st.Unseen)
		case "DELETED":
			w.Number(st.Deleted)
		case "SIZE":
			w.Number64(uint64(max(st.Size, 0)))
		case "RECENT":
			w.Number(st.Recent)
		case "APPENDLIMIT":
			w.Number64(uint64(s.srv.cfg.MaxMessageSize))
		case "HIGHESTMODSEQ":
			w.Number64(st.HighestModSeq)
		case "DELETED-STORAGE":
			w.Number64(delKiB)
		case "MAILBOXID":
			// RFC 8474 4.2: status-att-val =/ "MAILBOXID" SP "(" objectid ")"
			w.Open().Atom(mailboxObjectID(st.ID)).Close()
		}
	}
	w.Close()
	return w.CRLF()
}
