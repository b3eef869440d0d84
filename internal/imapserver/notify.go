package imapserver

// NOTIFY (RFC 5465) delivery. The session keeps what the client asked for
// (notifyState) and, while it is set, three places deliver events:
//
//   - between commands: readCommand reads the next command in a goroutine
//     and, meanwhile, writes events as the change feed signals them. The
//     only other writer then is the codec's continuation request (cont),
//     so both take s.wmu; everything else (view, store, notifyState) is
//     touched by the command goroutine alone.
//   - during IDLE (cmd_idle.go: idleSync).
//   - before every tagged response (conn.go: execute).
//
// The change feed carries only kind, mailbox and modseq: details are read
// from the store. Mailbox creations, deletions and renames are found by
// comparing the mailbox list with a snapshot (same ID, new name: renamed),
// subscription changes by comparing the subscription set, so coalesced
// or cross-process changes lose nothing.

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// notifyFilter is a filter-mailboxes of RFC 5465 6.
type notifyFilter uint8

const (
	filterSelected notifyFilter = iota
	filterSelectedDelayed
	filterInboxes
	filterPersonal
	filterSubscribed
	filterSubtree
	filterMailboxes
)

// notifyEvents is a set of events.
type notifyEvents uint8

const (
	evMessageNew notifyEvents = 1 << iota
	evMessageExpunge
	evFlagChange
	evMailboxName
	evSubscriptionChange

	evMessage = evMessageNew | evMessageExpunge | evFlagChange
)

// notifyGroup is one event-group: a filter and its events.
type notifyGroup struct {
	filter notifyFilter
	names  []string // subtree and mailboxes filters
	events notifyEvents
	fetch  *fetchPlan // MessageNew fetch-att (selected filters only)
}

// mboxCounts is the last state reported for a non-selected mailbox, to
// tell a message event from a flag change.
type mboxCounts struct {
	messages, uidNext, unseen uint32
	modseq                    uint64
}

// notifyState is what NOTIFY SET asked for, and the snapshots events are
// computed against.
type notifyState struct {
	groups []notifyGroup
	sel    *notifyGroup // the selected or selected-delayed group, nil if none

	names   map[store.MailboxID]string // mailbox list snapshot
	subs    map[string]bool            // subscription snapshot
	counts  map[store.MailboxID]mboxCounts
	pending map[store.MailboxID]bool // non-selected mailboxes with message changes

	mboxDirty, subsDirty, overflow bool
}

// delayed tells whether expunges in the selected mailbox wait for a
// command that allows them (RFC 5465 6, selected-delayed).
func (n *notifyState) delayed() bool { return n.sel != nil && n.sel.filter == filterSelectedDelayed }

// notifyFlagChanges tells whether flag changes of the selected mailbox
// made elsewhere are reported (sync). RFC 5465 6: the selected mailbox is
// named by the "selected" and "selected-delayed" filters only. When the
// client gave one, its events decide (RFC 5465 5.1: without FlagChange, no
// FETCH for flag changes; "selected NONE" asks for none either, while
// EXISTS and EXPUNGE still go out where the base protocol needs them to
// keep message numbers in step). Without NOTIFY, or with a NOTIFY that
// names no selected filter, the base protocol applies to the selected
// mailbox (RFC 9051 5.2: the server SHOULD send flag updates without
// being asked), and they are reported.
func (s *Session) notifyFlagChanges() bool {
	n := s.notify
	return n == nil || n.sel == nil || n.sel.events&evFlagChange != 0
}

// notifyFlagChangeAsked tells whether NOTIFY asked for FlagChange in the
// selected mailbox, whose FETCH responses then carry the UID (RFC 5465
// 5.1).
func (s *Session) notifyFlagChangeAsked() bool {
	n := s.notify
	return n != nil && n.sel != nil && n.sel.events&evFlagChange != 0
}

// match returns the first group (RFC 5465 3.1: groups are considered in
// order) whose filter covers the non-selected mailbox name.
func (n *notifyState) match(name string) *notifyGroup {
	for i := range n.groups {
		g := &n.groups[i]
		switch g.filter {
		case filterInboxes:
			// Mail is delivered to INBOX only (internal/delivery).
			if name == "INBOX" {
				return g
			}
		case filterPersonal:
			return g
		case filterSubscribed:
			if n.subs[name] {
				return g
			}
		case filterMailboxes:
			if slices.Contains(g.names, name) {
				return g
			}
		case filterSubtree:
			for _, p := range g.names {
				if name == p || strings.HasPrefix(name, p+"/") {
					return g
				}
			}
		}
	}
	return nil
}

// wants tells whether any group asks for one of ev.
func (n *notifyState) wants(ev notifyEvents) bool {
	for _, g := range n.groups {
		if g.events&ev != 0 {
			return true
		}
	}
	return false
}

// note records one change of the feed that is not the selected mailbox's
// business (sync handles that one).
func (n *notifyState) note(s *Session, c store.Change) {
	if c.Overflow {
		n.overflow = true
	}
	switch c.Kind {
	case store.ChangeMessages:
		if s.sel != nil && c.Mailbox == s.sel.mbox.ID {
			return
		}
		if n.pending == nil {
			n.pending = make(map[store.MailboxID]bool)
		}
		n.pending[c.Mailbox] = true
	case store.ChangeMailboxes:
		n.mboxDirty = true
	case store.ChangeSubscription:
		n.subsDirty = true
	}
}

// takeChanges drains the feed into the notify state; changes of the
// selected mailbox are left for the next sync through s.dirty.
func (s *Session) takeChanges() {
	for _, c := range s.sub.Take() {
		s.notify.note(s, c)
		switch {
		case c.Kind == store.ChangeMessages && s.sel != nil && c.Mailbox == s.sel.mbox.ID:
			s.dirty = true
		case c.Kind == store.ChangeMailboxes:
			s.checkMailbox, s.dirty = true, true
		}
	}
}

// notifyDeliver writes the pending events. selectedNow says whether the
// selected mailbox's changes go out too (else they wait for the next
// command); expungeOK whether EXPUNGE may be among them.
func (s *Session) notifyDeliver(expungeOK, selectedNow bool) error {
	n := s.notify
	if s.sel != nil && selectedNow {
		before := s.sel.lastUID()
		if err := s.sync(expungeOK); err != nil {
			return err
		}
		// RFC 5465 5.2: MessageNew with fetch attributes: a FETCH for
		// each new message after its EXISTS.
		if n.sel != nil && n.sel.fetch != nil && s.sel.lastUID() > before {
			i, _ := slices.BinarySearch(s.sel.uids, before+1)
			uids := slices.Clone(s.sel.uids[i:])
			if _, err := s.fetchUIDs(uids, n.sel.fetch); err != nil {
				return err
			}
		}
	} else {
		s.takeChanges()
	}
	if n.overflow {
		// RFC 5465 5.8: tell the client, then behave as NOTIFY NONE.
		// The selected mailbox is rechecked by the base protocol.
		s.notify = nil
		s.checkMailbox, s.dirty = s.sel != nil, s.sel != nil
		return s.w.Untagged().Status("OK", "NOTIFICATIONOVERFLOW", "Too many events; NOTIFY is now NONE").CRLF()
	}
	if n.mboxDirty || n.subsDirty {
		if err := s.notifyMailboxes(); err != nil {
			return err
		}
	}
	if len(n.pending) > 0 {
		ids := make([]store.MailboxID, 0, len(n.pending))
		for id := range n.pending {
			ids = append(ids, id)
		}
		clear(n.pending)
		slices.Sort(ids)
		for _, id := range ids {
			if err := s.notifyStatus(id, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// notifyStatusItems are the STATUS items NOTIFY sends for another
// mailbox: MESSAGES and UIDNEXT (RFC 5465 5.2, 5.3), UNSEEN for the unread
// counts clients display, UIDVALIDITY in the initial STATUS of NOTIFY SET
// STATUS (3.1: the client learns the state it will be told changes to),
// and HIGHESTMODSEQ when the client uses CONDSTORE or asked for
// FlagChange (5.1: a flag change elsewhere shows only there).
func (s *Session) notifyStatusItems(events notifyEvents, initial bool) []string {
	items := []string{"MESSAGES", "UIDNEXT"}
	if initial {
		items = append(items, "UIDVALIDITY")
	}
	items = append(items, "UNSEEN")
	if s.condstore || events&evFlagChange != 0 {
		items = append(items, "HIGHESTMODSEQ")
	}
	return items
}

// notifyStatus sends STATUS for mailbox id if a group asks for the kind
// of change it had (always when initial: NOTIFY SET STATUS).
func (s *Session) notifyStatus(id store.MailboxID, initial bool) error {
	n := s.notify
	if s.sel != nil && id == s.sel.mbox.ID {
		return nil
	}
	name, ok := n.names[id]
	if !ok {
		return nil // created since the snapshot: its LIST comes first
	}
	g := n.match(name)
	if g == nil || g.events&evMessage == 0 {
		return nil
	}
	st, err := s.acct.Status(s.ctx, id)
	if errors.Is(err, store.ErrNoMailbox) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrNoSelect) {
		return nil
	}
	if err != nil {
		return errFromStore(err)
	}
	if !st.Selectable() {
		// The label root holds no messages: no STATUS for it, as in
		// LIST-STATUS (RFC 5819 2).
		return nil
	}
	now := mboxCounts{st.Messages, st.UIDNext, st.Unseen, st.HighestModSeq}
	old, known := n.counts[id]
	if n.counts == nil {
		n.counts = make(map[store.MailboxID]mboxCounts)
	}
	n.counts[id] = now
	if !initial {
		switch {
		case known && old == now:
			return nil
		case known && old.messages == now.messages && old.uidNext == now.uidNext:
			// Only flags changed (RFC 5465 5.1).
			if g.events&evFlagChange == 0 {
				return nil
			}
		default:
			if g.events&(evMessageNew|evMessageExpunge) == 0 {
				return nil
			}
		}
	}
	return s.writeStatus(st.Name, s.notifyStatusItems(g.events, initial), st)
}

// notifyMailboxes compares the mailbox list and the subscriptions with the
// snapshots and sends LIST responses: RFC 5465 5.4 (MailboxName: a new
// name, a rename with OLDNAME, a deletion with \NonExistent) and 5.5
// (SubscriptionChange: LIST with or without \Subscribed).
func (s *Session) notifyMailboxes() error {
	n := s.notify
	n.mboxDirty = false
	mbs, err := s.acct.Mailboxes(s.ctx)
	if err != nil {
		return errFromStore(err)
	}
	tree := newMailboxTree(mbs)
	var subs map[string]bool
	if n.subsDirty || n.subs != nil {
		n.subsDirty = false
		names, err := s.acct.Subscriptions(s.ctx)
		if err != nil {
			return errFromStore(err)
		}
		subs = make(map[string]bool, len(names))
		for _, nm := range names {
			subs[nm] = true
		}
	}
	if n.names != nil {
		byID := make(map[store.MailboxID]bool, len(mbs))
		var gone []string
		for _, mb := range mbs {
			byID[mb.ID] = true
		}
		for id, nm := range n.names {
			if !byID[id] {
				gone = append(gone, nm)
			}
		}
		sortMailboxNames(gone)
		for _, nm := range gone {
			if g := n.match(nm); g != nil && g.events&evMailboxName != 0 {
				if err := s.writeNotifyList(nm, store.Mailbox{}, false, tree, nil, ""); err != nil {
					return err
				}
			}
		}
		for _, mb := range mbs {
			old, had := n.names[mb.ID]
			if had && old == mb.Name {
				continue
			}
			g := n.match(mb.Name)
			if g == nil && had {
				g = n.match(old)
			}
			if g == nil || g.events&evMailboxName == 0 {
				continue
			}
			oldName := ""
			if had {
				oldName = old
			}
			if err := s.writeNotifyList(mb.Name, mb, true, tree, nil, oldName); err != nil {
				return err
			}
		}
	}
	names := make(map[store.MailboxID]string, len(mbs))
	for _, mb := range mbs {
		names[mb.ID] = mb.Name
	}
	n.names = names
	if subs == nil {
		return nil
	}
	if n.subs != nil {
		var changed []string
		for nm := range subs {
			if !n.subs[nm] {
				changed = append(changed, nm)
			}
		}
		for nm := range n.subs {
			if !subs[nm] {
				changed = append(changed, nm)
			}
		}
		sortMailboxNames(changed)
		for _, nm := range changed {
			// Either set may hold the name: an unsubscribed mailbox
			// no longer matches "subscribed" in the new set.
			g := n.match(nm)
			if g == nil {
				old := n.subs
				n.subs = subs
				g = n.match(nm)
				n.subs = old
			}
			if g == nil || g.events&evSubscriptionChange == 0 {
				continue
			}
			mb, exists := tree.byName[nm]
			if err := s.writeNotifyList(nm, mb, exists, tree, subs, ""); err != nil {
				return err
			}
		}
	}
	n.subs = subs
	return nil
}

// writeNotifyList writes one LIST response of a mailbox event; subs, when
// not nil, adds \Subscribed; oldName adds the OLDNAME extended item (RFC
// 9051 7.3.1, RFC 5465 5.4).
func (s *Session) writeNotifyList(name string, mb store.Mailbox, exists bool, tree *mailboxTree, subs map[string]bool, oldName string) error {
	w := s.w
	w.Untagged().Atom("LIST").SP().Open()
	for i, a := range listAttributes(name, mb, exists, tree, subs, subs != nil, true) {
		if i > 0 {
			w.SP()
		}
		w.Atom(a)
	}
	w.Close().SP().String("/").SP().Mailbox(name)
	if oldName != "" {
		w.SP().Open().String("OLDNAME").SP().Open().Mailbox(oldName).Close().Close()
	}
	return w.CRLF()
}

// notifyIdle delivers events between commands and flushes them. Called
// with s.wmu held.
func (s *Session) notifyIdle() error {
	// Unsolicited FETCH responses between commands belong to no command.
	s.cmdName, s.cmdUID = "", false
	n := s.notify
	selectedNow := n.sel != nil && n.sel.events != 0
	if err := s.notifyDeliver(!n.delayed(), selectedNow); err != nil {
		return err
	}
	s.rawConn.SetWriteDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
	if err := s.w.Flush(); err != nil {
		return errBye("Write error")
	}
	return nil
}

// errPushFailed ends the command loop after a failed delivery between
// commands (the BYE, if any, was written).
var errPushFailed = errors.New("imapserver: notification delivery failed")

// readResult is what the command reader goroutine got.
type readResult struct {
	cmd *imapwire.Command
	err error
}

// readCommand reads the next command. Without NOTIFY it simply reads;
// with NOTIFY a goroutine reads while this one waits on both the command
// and the change feed, writing events as they come (RFC 5465 1: the
// server may send them at any time no command is in progress). The
// goroutine is over when readCommand returns, so the command loop never
// shares the reader.
func (s *Session) readCommand() (*imapwire.Command, error) {
	if s.notify == nil || s.sub == nil {
		return s.r.ReadCommand(s.cont)
	}
	// Events that arrived during the last command go out first.
	s.wmu.Lock()
	err := s.notifyIdle()
	s.wmu.Unlock()
	if err != nil {
		return nil, s.pushFailed(err)
	}
	ch := make(chan readResult, 1)
	go func() {
		defer func() {
			// The core's recover does not cover this goroutine.
			if r := recover(); r != nil {
				s.srv.panics.Add(1)
				s.srv.log.Error("imap command reader panic", "remote", s.remote, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				ch <- readResult{err: errors.New("panic reading command")}
			}
		}()
		cmd, err := s.r.ReadCommand(s.cont)
		ch <- readResult{cmd, err}
	}()
	for {
		select {
		case r := <-ch:
			return r.cmd, r.err
		case <-s.sub.Ready():
			if s.notify == nil {
				s.sub.Take() // after an overflow: the next command syncs
				continue
			}
			s.wmu.Lock()
			err := s.notifyIdle()
			s.wmu.Unlock()
			if err != nil {
				// Stop the reader before writing BYE.
				s.rawConn.SetReadDeadline(time.Unix(1, 0))
				if r := <-ch; r.cmd != nil {
					r.cmd.Close()
				}
				return nil, s.pushFailed(err)
			}
		}
	}
}

// pushFailed writes the BYE of a failed delivery and returns errPushFailed.
func (s *Session) pushFailed(err error) error {
	if st := toStatus(err); st != nil && st.kind == "BYE" && st.text != "Write error" {
		s.bye(st.text)
	} else if st != nil && st.cause != nil {
		s.srv.log.Error("imap notify failed", "remote", s.remote, "user", s.user.Name, "err", st.cause)
		s.bye("Internal error")
	}
	s.state = stateLogout
	return errPushFailed
}

// syncOrNotify runs before a tagged response: the selected mailbox's
// changes, and with NOTIFY the other events too.
func (s *Session) syncOrNotify(expungeOK bool) error {
	if s.notify != nil {
		return s.notifyDeliver(expungeOK, true)
	}
	return s.sync(expungeOK)
}
