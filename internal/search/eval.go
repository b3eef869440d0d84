package search

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// errNoRecord is returned for a candidate without metadata.
var errNoRecord = errors.New("search: message has no record")

// ctxPool recycles evaluation scratch space (header field index, unfolded
// and folded header text) between Match calls.
var ctxPool = sync.Pool{New: func() any { return new(evalCtx) }}

// maxPooledArena bounds the scratch kept in the pool so one huge header
// does not pin memory.
const maxPooledArena = 64 << 10

// Match evaluates p against one message.
func (p *Program) Match(m *Message, env *Env) (bool, error) {
	if m == nil || m.Record == nil {
		return false, errNoRecord
	}
	if env == nil {
		env = &Env{}
	}
	// Fast path: programs of metadata keys only need no scratch space.
	if p.root.cost == costMeta {
		c := evalCtx{m: m, env: env}
		return c.eval(&p.root)
	}
	c := ctxPool.Get().(*evalCtx)
	c.m, c.env = m, env
	ok, err := c.eval(&p.root)
	c.reset()
	ctxPool.Put(c)
	return ok, err
}

// evalCtx holds what one Match call has learned about its message; every
// part of it is computed at most once and only when a key asks.
type evalCtx struct {
	m   *Message
	env *Env

	hdrIndexed bool
	fields     []hfield // top-level header fields, in order
	arena      []byte   // unfolded / folded field values, referenced by offsets

	hdrText    textSeg // top-level header as "Name: value" lines, for TEXT
	hdrTextSet bool

	bodyLoaded bool
	bodyTexts  []textSeg // decoded text parts and nested headers, for BODY/TEXT
	partHdrRaw [][]byte  // MIME headers of body parts (slices of the body), for TEXT only
	partHdrs   []textSeg // partHdrRaw in comparison form, built on first use
}

func (c *evalCtx) reset() {
	c.m, c.env = nil, nil
	c.hdrIndexed = false
	c.fields = c.fields[:0]
	if cap(c.arena) > maxPooledArena {
		c.arena = nil
	} else {
		c.arena = c.arena[:0]
	}
	c.hdrText, c.hdrTextSet = textSeg{}, false
	c.bodyLoaded = false
	c.bodyTexts = nil
	c.partHdrRaw, c.partHdrs = nil, nil
}

func (c *evalCtx) eval(n *node) (bool, error) {
	r := c.m.Record
	switch n.op {
	case opAll:
		return true, nil
	case opNone:
		return false, nil
	case opFlag:
		return hasFlag(r.Flags, n.str), nil
	case opNotFlag:
		return !hasFlag(r.Flags, n.str), nil
	case opKeyword:
		return hasKeyword(r.Flags, n.str), nil
	case opNotKeyword:
		return !hasKeyword(r.Flags, n.str), nil
	case opRecent:
		return c.m.Recent, nil
	case opNew:
		// RFC 3501 6.4.4: NEW is (RECENT UNSEEN).
		return c.m.Recent && !hasFlag(r.Flags, store.FlagSeen), nil
	case opOld:
		return !c.m.Recent, nil
	case opSeqSet:
		if n.saved {
			// RFC 5182 2.1: "$" names the saved UIDs, whatever the form.
			return c.inSaved(r.UID), nil
		}
		return inRanges(n.ranges, c.m.SeqNum, c.env.MaxSeq), nil
	case opUIDSet:
		if n.saved {
			return c.inSaved(r.UID), nil
		}
		return inRanges(n.ranges, r.UID, c.env.MaxUID), nil
	case opLarger:
		return r.Size >= 0 && uint64(r.Size) > n.num, nil
	case opSmaller:
		return r.Size >= 0 && uint64(r.Size) < n.num, nil
	case opModSeq:
		// RFC 7162 3.1.5: mod-sequence greater than or equal to the value.
		return r.ModSeq >= n.num, nil
	case opBefore:
		return c.internalDay() < n.day, nil
	case opOn:
		return c.internalDay() == n.day, nil
	case opSince:
		return c.internalDay() >= n.day, nil
	case opSentBefore:
		return c.sentDay() < n.day, nil
	case opSentOn:
		return c.sentDay() == n.day, nil
	case opSentSince:
		return c.sentDay() >= n.day, nil
	case opSavedBefore:
		return c.savedDay() < n.day, nil
	case opSavedOn:
		return c.savedDay() == n.day, nil
	case opSavedSince:
		return c.savedDay() >= n.day, nil
	case opOlder:
		// RFC 5032 2: internal date older than Now minus the interval.
		return r.InternalDate.Before(c.threshold(n.num)), nil
	case opYounger:
		// RFC 5032 2: internal date within the interval (the complement of OLDER).
		return !r.InternalDate.Before(c.threshold(n.num)), nil
	case opEmailID:
		return uint64(r.MessageID) == n.num, nil
	case opThreadID:
		return r.Parsed != nil && r.Parsed.ThreadID != "" && r.Parsed.ThreadID == n.str, nil
	case opHeader:
		return c.matchHeader(n.field, n.str) || (n.addr && c.matchAddresses(n.field, n.str)), nil
	case opText:
		// RFC 9051 6.4.4: TEXT is "in the header or body of the
		// message"; the MIME headers of the parts count as header text.
		if c.matchHeaderText(n.str) {
			return true, nil
		}
		if ok, err := c.matchBody(n.str); ok || err != nil {
			return ok, err
		}
		return c.matchPartHeaders(n.str)
	case opBody:
		return c.matchBody(n.str)
	case opNot:
		ok, err := c.eval(&n.sub[0])
		return !ok, err
	case opOr:
		for i := range n.sub {
			ok, err := c.eval(&n.sub[i])
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case opAnd:
		for i := range n.sub {
			ok, err := c.eval(&n.sub[i])
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	return false, errors.New("search: internal error: bad opcode")
}

// hasFlag tests a system flag; the store keeps them in canonical case.
func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// hasKeyword tests a keyword case-insensitively (RFC 9051 2.3.2: flags are
// case-insensitive).
func hasKeyword(flags []string, kw string) bool {
	for _, x := range flags {
		if strings.EqualFold(x, kw) {
			return true
		}
	}
	return false
}

// inRanges reports whether n lies in one of the ranges; 0 stands for "*",
// which is max, and reversed ranges are allowed (RFC 9051 9, seq-range).
func inRanges(ranges []imapwire.SeqRange, n, max uint32) bool {
	for _, rg := range ranges {
		a, b := rg.Start, rg.Stop
		if a == 0 {
			a = max
		}
		if b == 0 {
			b = max
		}
		if a > b {
			a, b = b, a
		}
		if n >= a && n <= b {
			return true
		}
	}
	return false
}

func (c *evalCtx) inSaved(uid uint32) bool {
	_, ok := slices.BinarySearch(c.env.Saved, uid)
	return ok
}

// inZone turns t into the zone dates are compared in: Env.Location when
// set, else t's own zone, which for an internal date is the zone the client
// gave in APPEND and the one FETCH INTERNALDATE shows (Dovecot does the same).
func (c *evalCtx) inZone(t time.Time) time.Time {
	if c.env.Location != nil {
		return t.In(c.env.Location)
	}
	return t
}

// internalDay is the calendar date of the internal date (RFC 9051 6.4.4
// BEFORE/ON/SINCE: "disregarding time and timezone").
func (c *evalCtx) internalDay() int32 {
	return dayKey(c.inZone(c.m.Record.InternalDate))
}

// sentDay is the calendar date of the Date: header in the zone it was
// written in (RFC 9051 6.4.4 SENT*). Without a valid Date: header the
// internal date stands in, as Dovecot does.
func (c *evalCtx) sentDay() int32 {
	if p := c.m.Record.Parsed; p != nil && !p.Date.IsZero() {
		return dayKey(p.Date)
	}
	return c.internalDay()
}

// savedDay is the calendar date of the save date; a message without one
// uses its internal date (RFC 8514 4.3).
func (c *evalCtx) savedDay() int32 {
	t := c.m.Record.SaveDate
	if t.IsZero() {
		t = c.m.Record.InternalDate
	}
	return dayKey(c.inZone(t))
}

// threshold is Now minus secs seconds, saturating for absurd intervals.
func (c *evalCtx) threshold(secs uint64) time.Time {
	const maxSecs = uint64(1<<63-1) / uint64(time.Second)
	if secs > maxSecs {
		secs = maxSecs
	}
	return c.env.Now.Add(-time.Duration(secs) * time.Second)
}
