package store

import "sync"

// ChangeKind says what a Change is about.
type ChangeKind int

const (
	ChangeMessages     ChangeKind = iota // messages added, flags changed or expunged in Mailbox
	ChangeMailboxes                      // a mailbox was created, deleted or renamed
	ChangeSubscription                   // subscriptions changed
)

// Change tells subscribers that a user's data changed. It carries no data:
// a session that cares asks the store for what changed since the modseq it
// last saw (Account.Changes). That keeps the feed tiny and lets it cross
// process boundaries later (PostgreSQL LISTEN/NOTIFY) without a new format.
type Change struct {
	User    UserID
	Kind    ChangeKind
	Mailbox MailboxID
	ModSeq  uint64
	// Overflow marks the change a subscription's queue collapsed into
	// when it overflowed (a session that cannot keep up): NOTIFY reports
	// it as NOTIFICATIONOVERFLOW (RFC 5465 5.8).
	Overflow bool
}

// Hub fans changes out to the sessions of a user within one process.
// Publish never blocks: each subscription keeps pending changes in a small
// coalescing queue and signals a channel with capacity one, so a slow
// session cannot hold up a writer, and no lock is held while a session
// writes to its socket.
type Hub struct {
	mu   sync.Mutex
	subs map[UserID]map[*Subscription]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: make(map[UserID]map[*Subscription]struct{})} }

// Subscription receives the changes of one user.
type Subscription struct {
	hub     *Hub
	user    UserID
	mu      sync.Mutex
	pending []Change
	ready   chan struct{}
}

// Subscribe registers interest in a user's changes. Call Close when done.
func (h *Hub) Subscribe(user UserID) *Subscription {
	s := &Subscription{hub: h, user: user, ready: make(chan struct{}, 1)}
	h.mu.Lock()
	m := h.subs[user]
	if m == nil {
		m = make(map[*Subscription]struct{})
		h.subs[user] = m
	}
	m[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Publish delivers c to every subscription of c.User.
func (h *Hub) Publish(c Change) {
	h.mu.Lock()
	subs := make([]*Subscription, 0, len(h.subs[c.User]))
	for s := range h.subs[c.User] {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.push(c)
	}
}

// maxPending bounds a subscription's queue; past it, changes of the same
// kind and mailbox are merged (keeping the highest modseq), which loses
// nothing because subscribers re-read state from the store.
const maxPending = 256

func (s *Subscription) push(c Change) {
	s.mu.Lock()
	merged := false
	for i := range s.pending {
		p := &s.pending[i]
		if p.Kind == c.Kind && p.Mailbox == c.Mailbox {
			if c.ModSeq > p.ModSeq {
				p.ModSeq = c.ModSeq
			}
			merged = true
			break
		}
	}
	if !merged && len(s.pending) < maxPending {
		s.pending = append(s.pending, c)
	} else if !merged {
		// Overflow: collapse into a mailbox-list change, which makes the
		// subscriber recheck everything it watches.
		s.pending = append(s.pending[:0], Change{User: s.user, Kind: ChangeMailboxes, ModSeq: c.ModSeq, Overflow: true})
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled when changes are pending.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Take returns and clears the pending changes.
func (s *Subscription) Take() []Change {
	s.mu.Lock()
	p := s.pending
	s.pending = nil
	s.mu.Unlock()
	return p
}

// Close unregisters the subscription.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	if m := h.subs[s.user]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(h.subs, s.user)
		}
	}
	h.mu.Unlock()
}
