package sqlite

// The messages.parsed column holds the precomputed model of a message
// (package message). It was first stored as JSON, whose decoding cost about
// 20 µs per message and dominated FETCH ENVELOPE/BODYSTRUCTURE and header
// SEARCH over large mailboxes. New rows use the compact binary form below;
// rows written as JSON (first byte '{') are still read.
//
// Format (all integers are Go varints: uvarint for counts, lengths and
// flags, zig-zag varint for offsets and dates):
//
//	0xC5 0x01                       magic, version
//	nParts nAddrs nPairs nEnvs      slab sizes, so decoding allocates a few
//	                                slices instead of one object per node
//	envelope
//	hasDate [sec nsec zoneOffset]
//	preview threadID
//	hasRoot [part]
//
//	envelope = date subject inReplyTo messageID from sender replyTo to cc bcc
//	addrs    = count {name route mailbox host groupBits}
//	part     = type subtype pairs id description encoding md5 disposition
//	           pairs languages location headerStart bodyStart-headerStart
//	           bodyEnd-bodyStart lines decodedSize
//	           nChildren {part} hasMessage [part] hasEnvelope [envelope]
//	string   = length bytes
//
// Decoded strings share one copy of the column (one allocation for all of
// them); the model is read-only for callers anyway.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/casier/casier/internal/message"
)

const (
	parsedMagic   = 0xC5
	parsedVersion = 1
	// maxPartDepth bounds recursion on corrupt input; the parser itself
	// nests far less deeply.
	maxPartDepth = 512
)

var errCorruptParsed = errors.New("corrupt parsed data")

// encodeParsed returns the binary form of p.
func encodeParsed(p *message.Parsed) []byte {
	var c parsedCounts
	c.envelope(&p.Envelope)
	if p.Root != nil {
		c.part(p.Root)
	}
	e := parsedEncoder{buf: make([]byte, 0, 256)}
	e.buf = append(e.buf, parsedMagic, parsedVersion)
	e.uint(uint64(c.parts))
	e.uint(uint64(c.addrs))
	e.uint(uint64(c.pairs))
	e.uint(uint64(c.envs))
	e.envelope(&p.Envelope)
	if p.Date.IsZero() {
		e.uint(0)
	} else {
		_, off := p.Date.Zone()
		e.uint(1)
		e.int(p.Date.Unix())
		e.uint(uint64(p.Date.Nanosecond()))
		e.int(int64(off))
	}
	e.string(p.Preview)
	e.string(p.ThreadID)
	if p.Root == nil {
		e.uint(0)
	} else {
		e.uint(1)
		e.part(p.Root)
	}
	return e.buf
}

// parsedCounts sizes the decoder's slabs.
type parsedCounts struct{ parts, addrs, pairs, envs int }

func (c *parsedCounts) envelope(e *message.Envelope) {
	c.addrs += len(e.From) + len(e.Sender) + len(e.ReplyTo) + len(e.To) + len(e.Cc) + len(e.Bcc)
}

func (c *parsedCounts) part(p *message.Part) {
	c.parts++
	c.pairs += len(p.Params) + len(p.DispParams)
	for _, ch := range p.Parts {
		if ch != nil {
			c.part(ch)
		}
	}
	if p.Message != nil {
		c.part(p.Message)
	}
	if p.Envelope != nil {
		c.envs++
		c.envelope(p.Envelope)
	}
}

type parsedEncoder struct{ buf []byte }

func (e *parsedEncoder) uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *parsedEncoder) int(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }

func (e *parsedEncoder) string(s string) {
	e.uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *parsedEncoder) envelope(v *message.Envelope) {
	e.string(v.Date)
	e.string(v.Subject)
	e.string(v.InReplyTo)
	e.string(v.MessageID)
	for _, l := range [...][]message.Address{v.From, v.Sender, v.ReplyTo, v.To, v.Cc, v.Bcc} {
		e.uint(uint64(len(l)))
		for i := range l {
			a := &l[i]
			e.string(a.Name)
			e.string(a.Route)
			e.string(a.Mailbox)
			e.string(a.Host)
			var bits uint64
			if a.GroupStart {
				bits |= 1
			}
			if a.GroupEnd {
				bits |= 2
			}
			e.uint(bits)
		}
	}
}

func (e *parsedEncoder) pairs(ps [][2]string) {
	e.uint(uint64(len(ps)))
	for _, p := range ps {
		e.string(p[0])
		e.string(p[1])
	}
}

func (e *parsedEncoder) part(p *message.Part) {
	e.string(p.Type)
	e.string(p.Subtype)
	e.pairs(p.Params)
	e.string(p.ID)
	e.string(p.Description)
	e.string(p.Encoding)
	e.string(p.MD5)
	e.string(p.Disposition)
	e.pairs(p.DispParams)
	e.uint(uint64(len(p.Language)))
	for _, l := range p.Language {
		e.string(l)
	}
	e.string(p.Location)
	e.int(p.HeaderStart)
	e.int(p.BodyStart - p.HeaderStart)
	e.int(p.BodyEnd - p.BodyStart)
	e.int(p.Lines)
	e.int(p.DecodedSize)
	n := 0
	for _, ch := range p.Parts {
		if ch != nil {
			n++
		}
	}
	e.uint(uint64(n))
	for _, ch := range p.Parts {
		if ch != nil {
			e.part(ch)
		}
	}
	if p.Message == nil {
		e.uint(0)
	} else {
		e.uint(1)
		e.part(p.Message)
	}
	if p.Envelope == nil {
		e.uint(0)
	} else {
		e.uint(1)
		e.envelope(p.Envelope)
	}
}

// decodeParsed decodes a messages.parsed column in either format.
func decodeParsed(b []byte) (*message.Parsed, error) {
	if len(b) > 0 && b[0] == '{' {
		p := new(message.Parsed)
		if err := json.Unmarshal(b, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	if len(b) < 2 || b[0] != parsedMagic || b[1] != parsedVersion {
		return nil, errCorruptParsed
	}
	d := parsedDecoder{s: string(b[2:])}
	// Every slab element takes at least one byte of input, which bounds
	// what corrupt counts can make us allocate.
	nParts, nAddrs, nPairs, nEnvs := d.count(), d.count(), d.count(), d.count()
	if d.err != nil {
		return nil, d.err
	}
	d.parts = make([]message.Part, nParts)
	d.addrs = make([]message.Address, nAddrs)
	d.pairs = make([][2]string, nPairs)
	d.envs = make([]message.Envelope, nEnvs)

	p := new(message.Parsed)
	d.envelope(&p.Envelope)
	if d.uint() == 1 {
		sec, nsec, off := d.int(), d.uint(), d.int()
		if nsec >= 1e9 || off < -86400 || off > 86400 {
			d.fail()
		}
		p.Date = time.Unix(sec, int64(nsec)).In(zone(int(off)))
	}
	p.Preview = d.string()
	p.ThreadID = d.string()
	if d.uint() == 1 {
		p.Root = d.part(0)
	}
	if d.err == nil && d.i != len(d.s) {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return p, nil
}

type parsedDecoder struct {
	s     string
	i     int
	err   error
	parts []message.Part
	addrs []message.Address
	pairs [][2]string
	envs  []message.Envelope
}

func (d *parsedDecoder) fail() {
	if d.err == nil {
		d.err = errCorruptParsed
	}
	d.i = len(d.s) // every later read returns zero values
}

func (d *parsedDecoder) uint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.i >= len(d.s) {
			d.fail()
			return 0
		}
		c := d.s[d.i]
		d.i++
		if c < 0x80 {
			if shift == 63 && c > 1 {
				d.fail()
				return 0
			}
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
	}
	d.fail()
	return 0
}

func (d *parsedDecoder) int() int64 {
	u := d.uint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a count no larger than the bytes left.
func (d *parsedDecoder) count() int {
	v := d.uint()
	if v > uint64(len(d.s)-d.i) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *parsedDecoder) string() string {
	n := d.count()
	s := d.s[d.i : d.i+n]
	d.i += n
	return s
}

func (d *parsedDecoder) envelope(v *message.Envelope) {
	v.Date = d.string()
	v.Subject = d.string()
	v.InReplyTo = d.string()
	v.MessageID = d.string()
	for _, l := range [...]*[]message.Address{&v.From, &v.Sender, &v.ReplyTo, &v.To, &v.Cc, &v.Bcc} {
		*l = d.addrList()
	}
}

func (d *parsedDecoder) addrList() []message.Address {
	n := d.count()
	if n == 0 {
		return nil
	}
	if n > len(d.addrs) {
		d.fail()
		return nil
	}
	l := d.addrs[:n:n]
	d.addrs = d.addrs[n:]
	for i := range l {
		a := &l[i]
		a.Name = d.string()
		a.Route = d.string()
		a.Mailbox = d.string()
		a.Host = d.string()
		bits := d.uint()
		a.GroupStart = bits&1 != 0
		a.GroupEnd = bits&2 != 0
	}
	return l
}

func (d *parsedDecoder) pairList() [][2]string {
	n := d.count()
	if n == 0 {
		return nil
	}
	if n > len(d.pairs) {
		d.fail()
		return nil
	}
	l := d.pairs[:n:n]
	d.pairs = d.pairs[n:]
	for i := range l {
		l[i][0] = d.string()
		l[i][1] = d.string()
	}
	return l
}

func (d *parsedDecoder) part(depth int) *message.Part {
	if depth > maxPartDepth || len(d.parts) == 0 {
		d.fail()
		return nil
	}
	p := &d.parts[0]
	d.parts = d.parts[1:]
	p.Type = d.string()
	p.Subtype = d.string()
	p.Params = d.pairList()
	p.ID = d.string()
	p.Description = d.string()
	p.Encoding = d.string()
	p.MD5 = d.string()
	p.Disposition = d.string()
	p.DispParams = d.pairList()
	if n := d.count(); n > 0 {
		p.Language = make([]string, n)
		for i := range p.Language {
			p.Language[i] = d.string()
		}
	}
	p.Location = d.string()
	p.HeaderStart = d.int()
	p.BodyStart = p.HeaderStart + d.int()
	p.BodyEnd = p.BodyStart + d.int()
	p.Lines = d.int()
	p.DecodedSize = d.int()
	if n := d.count(); n > 0 {
		p.Parts = make([]*message.Part, n)
		for i := range p.Parts {
			if p.Parts[i] = d.part(depth + 1); p.Parts[i] == nil {
				return p
			}
		}
	}
	if d.uint() == 1 {
		p.Message = d.part(depth + 1)
	}
	if d.uint() == 1 {
		if len(d.envs) == 0 {
			d.fail()
			return p
		}
		p.Envelope = &d.envs[0]
		d.envs = d.envs[1:]
		d.envelope(p.Envelope)
	}
	return p
}

// zones caches the fixed zones of record dates: time.FixedZone allocates,
// and a mailbox uses a handful of offsets.
var zones sync.Map // int -> *time.Location

// zone returns a location for a UTC offset in seconds: IMAP's
// INTERNALDATE keeps the zone the date was given in (RFC 9051 2.3.3).
func zone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if l, ok := zones.Load(off); ok {
		return l.(*time.Location)
	}
	if off < -18*3600 || off > 18*3600 || off%60 != 0 {
		return time.FixedZone("", off) // odd value: do not let it grow the cache
	}
	l, _ := zones.LoadOrStore(off, time.FixedZone("", off))
	return l.(*time.Location)
}
