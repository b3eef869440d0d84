package sortthread

import (
	"cmp"
	"slices"
	"strings"

	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

// Key is one SORT key (RFC 5256 3, RFC 5957 3).
type Key uint8

const (
	Arrival Key = iota + 1
	Cc
	Date
	From
	Size
	Subject
	To
	DisplayFrom
	DisplayTo
)

var keyNames = map[string]Key{
	"ARRIVAL": Arrival, "CC": Cc, "DATE": Date, "FROM": From, "SIZE": Size,
	"SUBJECT": Subject, "TO": To, "DISPLAYFROM": DisplayFrom, "DISPLAYTO": DisplayTo,
}

// ParseKey returns the key named name (case-insensitive), ok false if unknown.
func ParseKey(name string) (Key, bool) {
	k, ok := keyNames[strings.ToUpper(name)]
	return k, ok
}

// Criterion is one sort-criterion: a key, possibly REVERSE.
type Criterion struct {
	Key     Key
	Reverse bool
}

// Msg holds one message's precomputed sort keys. Only the keys that the
// criteria need are filled in.
type Msg struct {
	ID       uint32 // what the response shows: message number or UID
	UID      uint32
	Arrival  int64 // internal date, Unix nanoseconds (UTC)
	Sent     int64 // sent date (Date header, else internal date), Unix nanoseconds
	Size     int64
	Subject  string // folded base subject
	From, To string // folded sort text of the first address
	Cc       string
}

// Keys computes the sort keys of one message for crits (strings only when
// a criterion needs them). For a record without a parsed model, the
// header-derived keys are empty.
func Keys(rec *store.Record, id uint32, crits []Criterion) Msg {
	m := Msg{ID: id, UID: rec.UID, Size: rec.Size, Arrival: rec.InternalDate.UnixNano()}
	m.Sent = m.Arrival
	var env *message.Envelope
	if rec.Parsed != nil {
		env = &rec.Parsed.Envelope
		if !rec.Parsed.Date.IsZero() {
			m.Sent = rec.Parsed.Date.UnixNano()
		}
	}
	if env == nil {
		return m
	}
	for _, c := range crits {
		switch c.Key {
		case Subject:
			b, _ := BaseSubject(env.Subject)
			m.Subject = Fold(b)
		case From:
			m.From = Fold(addrMailbox(env.From))
		case To:
			m.To = Fold(addrMailbox(env.To))
		case Cc:
			m.Cc = Fold(addrMailbox(env.Cc))
		case DisplayFrom:
			m.From = Fold(displayName(env.From))
		case DisplayTo:
			m.To = Fold(displayName(env.To))
		}
	}
	return m
}

// SentDate returns the sent date used by SORT DATE and THREAD (RFC 5256
// 2.2): the Date header, else the internal date, in Unix nanoseconds.
func SentDate(rec *store.Record) int64 {
	if rec.Parsed != nil && !rec.Parsed.Date.IsZero() {
		return rec.Parsed.Date.UnixNano()
	}
	return rec.InternalDate.UnixNano()
}

// firstAddress is the first real address of a list, skipping group
// markers (RFC 3501 7.4.2 group syntax); nil if none.
func firstAddress(list []message.Address) *message.Address {
	for i := range list {
		if !list[i].GroupStart && !list[i].GroupEnd {
			return &list[i]
		}
	}
	return nil
}

// addrMailbox is the CC/FROM/TO sort text: the addr-mailbox of the first
// address (RFC 5256 3).
func addrMailbox(list []message.Address) string {
	if a := firstAddress(list); a != nil {
		return a.Mailbox
	}
	return ""
}

// displayName is the DISPLAYFROM/DISPLAYTO sort text (RFC 5957 2): the
// decoded display name of the first address, or if it has none, the
// address itself.
func displayName(list []message.Address) string {
	a := firstAddress(list)
	if a == nil {
		return ""
	}
	if a.Name != "" {
		if n := strings.TrimSpace(message.DecodeHeaderValue(a.Name)); n != "" {
			return n
		}
	}
	if a.Host == "" {
		return a.Mailbox
	}
	return a.Mailbox + "@" + a.Host
}

// Sort orders msgs (given in ascending message-number order) by crits.
// Messages equal on every criterion keep their order, i.e. sort by
// sequence number (RFC 5256 3). It sorts indexes with the input position
// as the last key, which is stable and cheaper than moving the structs.
func Sort(msgs []Msg, crits []Criterion) {
	idx := make([]int32, len(msgs))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(i, j int32) int {
		a, b := &msgs[i], &msgs[j]
		for _, c := range crits {
			var r int
			switch c.Key {
			case Arrival:
				r = cmp.Compare(a.Arrival, b.Arrival)
			case Date:
				r = cmp.Compare(a.Sent, b.Sent)
			case Size:
				r = cmp.Compare(a.Size, b.Size)
			case Subject:
				r = strings.Compare(a.Subject, b.Subject)
			case From, DisplayFrom:
				r = strings.Compare(a.From, b.From)
			case To, DisplayTo:
				r = strings.Compare(a.To, b.To)
			case Cc:
				r = strings.Compare(a.Cc, b.Cc)
			}
			if r != 0 {
				if c.Reverse {
					return -r
				}
				return r
			}
		}
		return cmp.Compare(i, j)
	})
	sorted := make([]Msg, len(msgs))
	for k, i := range idx {
		sorted[k] = msgs[i]
	}
	copy(msgs, sorted)
}
