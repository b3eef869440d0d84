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

// Fields is what SORT and THREAD read of one message: every sort key and
// the threading data, computed once from its record (no body is read). A
// message never changes, so its Fields can be kept and shared, read-only,
// by every command that sorts or threads its mailbox. The strings are
// copies: a Fields never holds on to the record's model.
type Fields struct {
	UID        uint32
	Arrival    int64  // internal date, Unix nanoseconds (UTC)
	Sent       int64  // sent date (Date header, else internal date), Unix nanoseconds
	Size       int64  // RFC822.SIZE
	Subject    string // folded base subject (RFC 5256 2.1)
	ReplyOrFwd bool   // the subject marked a reply or forward (RFC 5256 2.1)
	// From, To and Cc are the folded addr-mailbox of the first address
	// (RFC 5256 3); DisplayFrom and DisplayTo the folded display name
	// (RFC 5957 2).
	From, To, Cc           string
	DisplayFrom, DisplayTo string
	// MessageID ("" if none or invalid) and Refs (the References
	// header, else the first id of In-Reply-To) are for THREAD=REFERENCES
	// (RFC 5256 3).
	MessageID string
	Refs      []string
}

// Msg is one message of a sort or thread: what the response shows for it
// (message number or UID) and its fields.
type Msg struct {
	ID uint32
	*Fields
}

// NewFields computes the fields of one message. For a record without a
// parsed model, the header-derived fields are empty.
func NewFields(rec *store.Record) *Fields {
	f := &Fields{UID: rec.UID, Size: rec.Size, Arrival: rec.InternalDate.UnixNano()}
	f.Sent = SentDate(rec)
	if rec.Parsed == nil {
		return f
	}
	env := &rec.Parsed.Envelope
	base, reply := BaseSubject(env.Subject)
	f.Subject, f.ReplyOrFwd = clone(Fold(base)), reply
	f.From = clone(Fold(addrMailbox(env.From)))
	f.To = clone(Fold(addrMailbox(env.To)))
	f.Cc = clone(Fold(addrMailbox(env.Cc)))
	f.DisplayFrom = clone(Fold(displayName(env.From)))
	f.DisplayTo = clone(Fold(displayName(env.To)))
	if ids := MsgIDs(env.MessageID); len(ids) > 0 {
		f.MessageID = clone(ids[0])
	}
	f.Refs = MsgIDs(headerField(rec.Header, "references"))
	if len(f.Refs) == 0 {
		if ids := MsgIDs(env.InReplyTo); len(ids) > 0 {
			f.Refs = ids[:1]
		}
	}
	for i, r := range f.Refs {
		f.Refs[i] = clone(r)
	}
	f.Refs = slices.Clip(f.Refs)
	return f
}

// clone copies s unless it is empty: the folded forms of ASCII text are
// often the model's own strings, which must not be kept alive.
func clone(s string) string {
	if s == "" {
		return ""
	}
	return strings.Clone(s)
}

// Cost estimates the heap a Fields holds, in bytes, for caches.
func (f *Fields) Cost() int {
	n := 208 + len(f.Subject) + len(f.From) + len(f.To) + len(f.Cc) + len(f.DisplayFrom) + len(f.DisplayTo) + len(f.MessageID)
	for _, r := range f.Refs {
		n += 16 + len(r)
	}
	return n
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
		if r := compareKeys(msgs[i].Fields, msgs[j].Fields, crits); r != 0 {
			return r
		}
		return cmp.Compare(i, j)
	})
	sorted := make([]Msg, len(msgs))
	for k, i := range idx {
		sorted[k] = msgs[i]
	}
	copy(msgs, sorted)
}

// Compare orders two messages of one mailbox by crits, then by UID: the
// order of Sort, for messages added to a sorted result one at a time (RFC
// 5267 4.3.3, a SORT context kept up to date). UIDs ascend with message
// numbers, so the last key is RFC 5256 3's sequence-number tie-break.
func Compare(a, b *Fields, crits []Criterion) int {
	if r := compareKeys(a, b, crits); r != 0 {
		return r
	}
	return cmp.Compare(a.UID, b.UID)
}

// SameKeys tells whether a and b have equal values for every key of crits.
func SameKeys(a, b *Fields, crits []Criterion) bool { return compareKeys(a, b, crits) == 0 }

func compareKeys(a, b *Fields, crits []Criterion) int {
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
		case From:
			r = strings.Compare(a.From, b.From)
		case DisplayFrom:
			r = strings.Compare(a.DisplayFrom, b.DisplayFrom)
		case To:
			r = strings.Compare(a.To, b.To)
		case DisplayTo:
			r = strings.Compare(a.DisplayTo, b.DisplayTo)
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
	return 0
}
