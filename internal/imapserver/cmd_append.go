package imapserver

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	register("APPEND", stateAuthed, true, cmdAppend)
}

// appendMsg is one message of an APPEND command.
type appendMsg struct {
	flags []string
	date  time.Time
	lit   *imapwire.Literal
	utf8  bool        // sent as UTF8 (~{n}) (RFC 6855 4)
	cat   *catenation // CATENATE (RFC 4469, catenate.go) instead of lit
}

// cmdAppend: RFC 9051 6.3.12, with MULTIAPPEND (RFC 3502), UIDPLUS
// APPENDUID (RFC 4315), BINARY literal8 (RFC 3516 4.4), APPENDLIMIT (RFC
// 7889) and the UTF8 data item of RFC 6855 4.
//
//	append         = "APPEND" SP mailbox 1*append-message
//	append-message = [SP flag-list] [SP date-time] SP append-data
//	append-data    = literal / literal8 / "UTF8" SP "(" literal8 ")"
//
// MULTIAPPEND is all or nothing (RFC 3502 3). Every message is checked
// before the first is stored; if storing one fails after others were
// stored, those are flagged \Deleted and expunged again before the NO. A
// concurrent session may briefly see them (EXISTS then EXPUNGE); their
// UIDs are never reused.
func cmdAppend(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	raw, err := d.Mailbox(s.utf8)
	if err != nil {
		return err
	}
	var msgs []appendMsg
	for {
		m, err := parseAppendMsg(d, true)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
		if !d.More() {
			break
		}
	}
	if err := d.End(); err != nil {
		return err
	}

	name, err := s.mailboxName(raw)
	if err != nil {
		return err
	}
	mb, err := s.acct.Mailbox(s.ctx, name)
	if err != nil {
		// RFC 9051 6.3.12: [TRYCREATE] when the mailbox does not exist.
		return errFromStoreTarget(err)
	}
	if !mb.Selectable() {
		// The label root holds no messages: NO [CANNOT], not
		// [TRYCREATE], so the client does not try to create it.
		return errFromStoreTarget(store.ErrNoSelect)
	}

	limit := s.srv.cfg.MaxMessageSize
	defer closeCatenations(msgs)
	for _, m := range msgs {
		if m.cat != nil {
			// RFC 4469 5: every URL is resolved (and the total size
			// checked) before the first message is stored.
			if err := s.resolveCatenate(m.cat, limit); err != nil {
				return err
			}
			continue
		}
		if m.utf8 && !s.utf8 {
			// RFC 6855 4: the UTF8 data item needs ENABLE UTF8=ACCEPT.
			return errNo("", "APPEND UTF8 requires ENABLE UTF8=ACCEPT")
		}
		if m.lit.Size == 0 {
			return errNo("", "Cannot store an empty message")
		}
		if limit > 0 && m.lit.Size > limit {
			// RFC 7889 4: [TOOBIG] for a message over APPENDLIMIT.
			return errNo("TOOBIG", "Message is larger than APPENDLIMIT="+strconv.FormatInt(limit, 10))
		}
	}

	var uids []uint32
	var uidValidity uint32
	for _, m := range msgs {
		res, err := s.appendOne(mb.ID, m)
		if err != nil {
			s.rollbackAppend(mb, uids)
			return err
		}
		uids = append(uids, res.UID)
		uidValidity = res.UIDValidity
	}
	if s.sel != nil && s.sel.mbox.ID == mb.ID {
		// RFC 9051 6.3.12: the client should learn of the new messages
		// (EXISTS) before the tagged OK; the core's sync sends it.
		s.dirty = true
	}
	// RFC 4315 3: APPENDUID; for MULTIAPPEND the UIDs in message order,
	// which are ascending since UIDs only grow.
	s.setOK("APPENDUID "+strconv.FormatUint(uint64(uidValidity), 10)+" "+imapwire.FormatUIDSet(uids), "APPEND completed")
	return nil
}

// parseAppendMessage reads one append-message (with its leading SP),
// without CATENATE.
func parseAppendMessage(d *imapwire.Decoder) (appendMsg, error) { return parseAppendMsg(d, false) }

// parseAppendMsg reads one append-message; catenate allows the CATENATE
// data item (RFC 4469), whose m.cat the caller must resolve and close.
func parseAppendMsg(d *imapwire.Decoder, catenate bool) (appendMsg, error) {
	var m appendMsg
	if err := d.SP(); err != nil {
		return m, err
	}
	if d.Peek() == '(' {
		flags, err := d.FlagList()
		if err != nil {
			return m, err
		}
		for _, f := range flags {
			// \Recent is set by the server only; Dovecot ignores it in
			// APPEND, and so do we. "\*" never parses as a flag.
			if f != `\Recent` {
				m.flags = append(m.flags, f)
			}
		}
		if err := d.SP(); err != nil {
			return m, err
		}
	}
	if d.Peek() == '"' {
		t, err := d.DateTime()
		if err != nil {
			return m, err
		}
		m.date = t
		if err := d.SP(); err != nil {
			return m, err
		}
	}
	if c := d.Peek(); catenate && (c == 'C' || c == 'c') {
		a, err := d.Atom()
		if err != nil {
			return m, err
		}
		if !strings.EqualFold(a, "CATENATE") {
			return m, errBad("", "Expected message literal")
		}
		m.cat, err = parseCatenate(d)
		return m, err
	}
	if c := d.Peek(); c == 'U' || c == 'u' {
		a, err := d.Atom()
		if err != nil {
			return m, err
		}
		if !strings.EqualFold(a, "UTF8") {
			return m, errBad("", "Expected message literal")
		}
		if err := d.SP(); err != nil {
			return m, err
		}
		m.utf8 = true
		err = d.List(func() error {
			if m.lit != nil {
				return errBad("", "UTF8 takes exactly one literal8")
			}
			lit, err := d.Literal()
			if err != nil {
				return err
			}
			if !lit.Binary {
				return errBad("", "UTF8 takes a literal8 (~{n})")
			}
			m.lit = lit
			return nil
		})
		if err != nil {
			return m, err
		}
		if m.lit == nil {
			return m, errBad("", "UTF8 takes exactly one literal8")
		}
		return m, nil
	}
	lit, err := d.Literal()
	if err != nil {
		return m, err
	}
	m.lit = lit
	return m, nil
}

// appendOne stores one message. The codec already refused NUL bytes in a
// non-binary literal (RFC 9051 4.3: CHAR8 excludes NUL; RFC 3516 4.4
// allows them only in literal8).
func (s *Session) appendOne(id store.MailboxID, m appendMsg) (store.AppendResult, error) {
	res, err := s.storeMessage(m, func(req store.AppendRequest) (store.AppendResult, error) {
		return s.acct.Append(s.ctx, id, req)
	})
	if err != nil {
		return res, errFromStoreTarget(err)
	}
	return res, nil
}

// storeMessage hands the message of an APPEND or REPLACE (its literal or
// its resolved catenation) to put, the store call. Without UTF8=ACCEPT a
// message with 8-bit header fields is refused with NO (RFC 6855 3, 4).
// Store errors come back as they are, for the caller to map.
func (s *Session) storeMessage(m appendMsg, put func(store.AppendRequest) (store.AppendResult, error)) (store.AppendResult, error) {
	var rc io.Reader
	var size int64
	if m.cat != nil {
		rc, size = m.cat.reader(), m.cat.size
	} else {
		lr, err := m.lit.Open()
		if err != nil {
			return store.AppendResult{}, errInternal(err)
		}
		defer lr.Close()
		rc, size = lr, m.lit.Size
	}
	var body io.Reader = rc
	var chk *headerCheck
	if !s.utf8 {
		chk = &headerCheck{r: rc}
		body = chk
	}
	res, err := put(store.AppendRequest{Body: body, Size: size, Flags: m.flags, InternalDate: m.date})
	if err != nil && chk != nil && chk.bad {
		return res, errNo("", "Message has 8-bit header fields; ENABLE UTF8=ACCEPT first")
	}
	return res, err
}

// rollbackAppend removes the messages a failed MULTIAPPEND already stored
// in mb (RFC 3502 3: all or nothing). It runs even if the session's
// context is cancelled; failures are logged, the client gets the original
// error.
func (s *Session) rollbackAppend(mb store.Mailbox, uids []uint32) {
	if len(uids) == 0 {
		return
	}
	ctx := context.WithoutCancel(s.ctx)
	id := mb.ID
	var err error
	if mb.Virtual() {
		// Appended to All Mail or a label folder, the messages were
		// stored in Archive: expunging them here would only take the
		// label away, or move them to Trash (docs/labels.md).
		id, uids, err = s.appendedFolderUIDs(ctx, mb.ID, uids)
	}
	if err == nil && len(uids) > 0 {
		_, err = s.acct.StoreFlags(ctx, id, store.StoreRequest{UIDs: uids, Mode: store.FlagsAdd, Flags: []string{store.FlagDeleted}})
		if err == nil {
			_, err = s.acct.Expunge(ctx, id, uids)
		}
	}
	if err != nil {
		s.srv.log.Error("imap APPEND rollback failed", "user", s.user.Name, "mailbox", id, "uids", uids, "err", err)
	}
	if s.sel != nil && (s.sel.mbox.ID == id || s.sel.mbox.ID == mb.ID) {
		s.dirty = true
	}
}

// appendedFolderUIDs finds the folder entries behind messages just
// appended to the virtual mailbox id: the newest entries of the user's
// Archive with the same EMAILIDs (the appended ones have the highest UIDs
// there, but for concurrent deliveries). It returns Archive's id and their
// UIDs, ascending.
func (s *Session) appendedFolderUIDs(ctx context.Context, id store.MailboxID, uids []uint32) (store.MailboxID, []uint32, error) {
	recs, err := s.acct.Records(ctx, id, uids)
	if err != nil {
		return 0, nil, err
	}
	want := make(map[store.MessageID]int, len(recs))
	for _, r := range recs {
		want[r.MessageID]++
	}
	mbs, err := s.acct.Mailboxes(ctx)
	if err != nil {
		return 0, nil, err
	}
	// The engine's choice of Archive: the oldest \Archive folder, else
	// the folder named Archive.
	var archive store.Mailbox
	for _, m := range mbs {
		if m.Kind == store.KindFolder && m.SpecialUse == `\Archive` && (archive.ID == 0 || m.ID < archive.ID) {
			archive = m
		}
	}
	for _, m := range mbs {
		if archive.ID == 0 && m.Kind == store.KindFolder && m.Name == "Archive" {
			archive = m
		}
	}
	if archive.ID == 0 {
		return 0, nil, errors.New("imapserver: no Archive folder holds the appended messages")
	}
	ents, err := s.acct.Entries(ctx, archive.ID)
	if err != nil {
		return 0, nil, err
	}
	const batch = 64
	var out []uint32
	for end := len(ents); end > 0 && len(out) < len(recs); end -= batch {
		var batchUIDs []uint32
		for _, e := range ents[max(end-batch, 0):end] {
			batchUIDs = append(batchUIDs, e.UID)
		}
		found, err := s.acct.Records(ctx, archive.ID, batchUIDs)
		if err != nil {
			return 0, nil, err
		}
		for i := len(found) - 1; i >= 0; i-- {
			if r := found[i]; want[r.MessageID] > 0 {
				want[r.MessageID]--
				out = append(out, r.UID)
			}
		}
	}
	slices.Sort(out)
	return archive.ID, out, nil
}

// errHeader8Bit stops an APPEND whose header has 8-bit bytes.
var errHeader8Bit = errors.New("imapserver: 8-bit byte in message header")

// headerCheck passes a message through, failing the read if a byte >= 0x80
// occurs before the end of the header section (the first empty line). It
// looks at each byte once, so the message is still streamed.
type headerCheck struct {
	r         io.Reader
	done      bool // past the header
	lineStart bool // at the start of a line (ignoring CR)
	started   bool
	bad       bool
}

func (h *headerCheck) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if !h.done && n > 0 {
		if !h.started {
			h.started, h.lineStart = true, true
		}
		for _, c := range p[:n] {
			switch {
			case c == '\n':
				if h.lineStart {
					h.done = true
				}
				h.lineStart = true
			case c == '\r':
			case c >= 0x80:
				h.bad = true
				return 0, errHeader8Bit
			default:
				h.lineStart = false
			}
			if h.done {
				break
			}
		}
	}
	return n, err
}
