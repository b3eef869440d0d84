package imapserver

import (
	"slices"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

func init() {
	register("NOTIFY", stateAuthed, true, cmdNotify)
}

// supportedEvents is the BADEVENT list (RFC 5465 5.9).
const supportedEvents = "BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)"

// cmdNotify: RFC 5465 3.1. "NOTIFY NONE" stops notifications; "NOTIFY SET
// [STATUS] event-group..." replaces what was asked before.
func cmdNotify(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	op, err := d.Atom()
	if err != nil {
		return err
	}
	switch strings.ToUpper(op) {
	case "NONE":
		if err := d.End(); err != nil {
			return err
		}
		s.notify = nil
		return nil
	case "SET":
	default:
		return errBad("", "Expected SET or NONE")
	}
	if err := d.SP(); err != nil {
		return err
	}
	status := false
	if d.Peek() != '(' {
		a, err := d.Atom()
		if err != nil {
			return err
		}
		if !strings.EqualFold(a, "STATUS") {
			return errBad("", "Expected STATUS or an event group")
		}
		status = true
		if err := d.SP(); err != nil {
			return err
		}
	}
	n := &notifyState{}
	unsupported := false
	for {
		g, bad, err := s.parseEventGroup(d)
		if err != nil {
			return err
		}
		unsupported = unsupported || bad
		n.groups = append(n.groups, g)
		if !d.More() {
			break
		}
		if err := d.SP(); err != nil {
			return err
		}
	}
	for i := range n.groups {
		g := &n.groups[i]
		if g.filter == filterSelected || g.filter == filterSelectedDelayed {
			if n.sel != nil {
				return errBad("", "Only one selected filter is allowed")
			}
			n.sel = g
		}
	}
	if unsupported {
		// RFC 5465 3.1: an event the server does not support.
		return errNo(supportedEvents, "Unsupported event")
	}
	// Snapshots the events are computed against.
	s.notify = n
	n.mboxDirty, n.subsDirty = true, true
	if err := s.notifyMailboxes(); err != nil {
		s.notify = nil
		return err
	}
	if status {
		// RFC 5465 3.1: with STATUS, a STATUS response for each mailbox
		// (other than the selected one) with message events enabled.
		ids := make([]store.MailboxID, 0, len(n.names))
		for id := range n.names {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if err := s.notifyStatus(id, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseEventGroup parses "(" filter-mailboxes SP events ")". bad reports
// an event the server does not support.
func (s *Session) parseEventGroup(d *imapwire.Decoder) (g notifyGroup, bad bool, err error) {
	err = d.List(func() error {
		f, err := d.Atom()
		if err != nil {
			return err
		}
		switch strings.ToLower(f) {
		case "selected":
			g.filter = filterSelected
		case "selected-delayed":
			g.filter = filterSelectedDelayed
		case "inboxes":
			g.filter = filterInboxes
		case "personal":
			g.filter = filterPersonal
		case "subscribed":
			g.filter = filterSubscribed
		case "subtree", "mailboxes":
			g.filter = filterMailboxes
			if strings.EqualFold(f, "subtree") {
				g.filter = filterSubtree
			}
			if err := d.SP(); err != nil {
				return err
			}
			if g.names, err = s.oneOrMoreMailbox(d); err != nil {
				return err
			}
		default:
			// RFC 5465 6: other mailbox sets (shared namespaces) are
			// not offered.
			return errBad("", "Unknown mailbox filter "+f)
		}
		if err := d.SP(); err != nil {
			return err
		}
		bad, err = s.parseEvents(d, &g)
		return err
	})
	return g, bad, err
}

// oneOrMoreMailbox parses a mailbox or a parenthesized list of them.
func (s *Session) oneOrMoreMailbox(d *imapwire.Decoder) ([]string, error) {
	if d.Peek() != '(' {
		m, err := d.Mailbox(s.utf8)
		if err != nil {
			return nil, err
		}
		return []string{m}, nil
	}
	var out []string
	err := d.List(func() error {
		m, err := d.Mailbox(s.utf8)
		out = append(out, m)
		return err
	})
	return out, err
}

// parseEvents parses events: "NONE" or a list (RFC 5465 8), and checks
// the rules of RFC 5465 5: MessageNew and MessageExpunge go together,
// FlagChange needs both, the selected filters take message events only,
// and fetch attributes are for the selected filters only.
func (s *Session) parseEvents(d *imapwire.Decoder, g *notifyGroup) (bad bool, err error) {
	selected := g.filter == filterSelected || g.filter == filterSelectedDelayed
	if d.Peek() != '(' {
		a, err := d.Atom()
		if err != nil {
			return false, err
		}
		if !strings.EqualFold(a, "NONE") {
			return false, errBad("", "Expected an event list or NONE")
		}
		return false, nil
	}
	var fetch []imapwire.FetchItem
	err = d.List(func() error {
		for {
			ev, err := d.Atom()
			if err != nil {
				return err
			}
			switch strings.ToLower(ev) {
			case "messagenew":
				g.events |= evMessageNew
			case "messageexpunge":
				g.events |= evMessageExpunge
			case "flagchange":
				g.events |= evFlagChange
			case "mailboxname":
				g.events |= evMailboxName
			case "subscriptionchange":
				g.events |= evSubscriptionChange
			case "annotationchange", "mailboxmetadatachange", "servermetadatachange":
				bad = true
			default:
				bad = true
			}
			if !strings.EqualFold(ev, "MessageNew") || !d.PeekSP() {
				return nil
			}
			// MessageNew [SP "(" fetch-att *(SP fetch-att) ")"]: the SP
			// is consumed either way; without a list, the next event
			// follows it in this same list item.
			if err := d.SP(); err != nil {
				return err
			}
			if d.Peek() == '(' {
				if fetch, err = d.FetchItems(); err != nil {
					return err
				}
				return nil
			}
		}
	})
	if err != nil {
		return false, err
	}
	switch {
	case selected && g.events&(evMailboxName|evSubscriptionChange) != 0:
		return false, errBad("", "Only message events are allowed with the selected filters")
	case (g.events&evMessageNew != 0) != (g.events&evMessageExpunge != 0):
		return false, errBad("", "MessageNew and MessageExpunge must be specified together")
	case g.events&evFlagChange != 0 && g.events&evMessageNew == 0:
		return false, errBad("", "FlagChange requires MessageNew and MessageExpunge")
	case fetch != nil && !selected:
		return false, errBad("", "Fetch attributes are allowed with the selected filters only")
	}
	if fetch != nil {
		if g.fetch, err = s.newFetchPlan(fetch, false, 0); err != nil {
			return false, err
		}
	}
	return bad, nil
}
