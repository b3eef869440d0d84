package imapserver

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

// This file resolves BODY[section]<partial>, BINARY[part]<partial> and
// BINARY.SIZE[part] (RFC 9051 6.4.5, RFC 3516) against the precomputed
// model: top-level header sections come from the Record, and the message
// file is opened, once per message, only for sections that need its bytes.

// msgSource gives one message's bytes to the section fetches.
type msgSource struct {
	s    *Session
	rec  *store.Record
	body store.Body // opened on first use
}

func (m *msgSource) open() (store.Body, error) {
	if m.body == nil {
		b, err := m.s.acct.OpenBody(m.s.ctx, m.rec.MessageID)
		if err != nil {
			return nil, err
		}
		m.body = b
	}
	return m.body, nil
}

func (m *msgSource) close() {
	if m.body != nil {
		m.body.Close()
		m.body = nil
	}
}

// read returns raw[start:end] of the message, clamped to its size.
func (m *msgSource) read(start, end int64) ([]byte, error) {
	b, err := m.open()
	if err != nil {
		return nil, err
	}
	start, end = clampRange(start, end, b.Size())
	buf := make([]byte, end-start)
	if _, err := b.ReadAt(buf, start); err != nil && !(errors.Is(err, io.EOF) && len(buf) == 0) {
		return nil, err
	}
	return buf, nil
}

func clampRange(start, end, size int64) (int64, int64) {
	end = min(max(end, 0), size)
	start = min(max(start, 0), end)
	return start, end
}

// valueKind says how a fetched section value is held.
type valueKind uint8

const (
	valEmpty valueKind = iota // the empty string ""
	valBytes                  // data, in memory
	valRange                  // off..off+n of the message file, streamed
)

// sectionValue is the content of one section before partial is applied.
type sectionValue struct {
	kind   valueKind
	data   []byte
	off, n int64
}

func bytesValue(b []byte) sectionValue {
	if len(b) == 0 {
		return sectionValue{}
	}
	return sectionValue{kind: valBytes, data: b}
}

func (v sectionValue) size() int64 {
	switch v.kind {
	case valBytes:
		return int64(len(v.data))
	case valRange:
		return v.n
	}
	return 0
}

// applyPartial cuts <offset.count> out of v (RFC 9051 6.4.5: an origin
// beyond the end gives the empty string; a count past the end is
// truncated).
func (v sectionValue) applyPartial(p *imapwire.Partial) sectionValue {
	if p == nil {
		return v
	}
	size := v.size()
	off := int64(p.Offset)
	if off >= size {
		return sectionValue{}
	}
	n := min(int64(p.Count), size-off)
	if n <= 0 {
		return sectionValue{}
	}
	switch v.kind {
	case valBytes:
		return sectionValue{kind: valBytes, data: v.data[off : off+n]}
	case valRange:
		return sectionValue{kind: valRange, off: v.off + off, n: n}
	}
	return sectionValue{}
}

// rangeValue is raw[start:end] of the message as a streamed value.
func (m *msgSource) rangeValue(start, end int64) (sectionValue, error) {
	b, err := m.open()
	if err != nil {
		return sectionValue{}, err
	}
	start, end = clampRange(start, end, b.Size())
	if end == start {
		return sectionValue{}, nil
	}
	return sectionValue{kind: valRange, off: start, n: end - start}, nil
}

// findPart returns the part a non-empty section path names, or nil.
func (m *msgSource) findPart(path []int) *message.Part {
	if m.rec.Parsed == nil {
		return nil
	}
	return m.rec.Parsed.FindPart(path)
}

// section resolves BODY[section] (RFC 9051 6.4.5). A part that does not
// exist, and HEADER, HEADER.FIELDS or TEXT of a part that is not a
// message/rfc822 (or message/global), give the empty string: the section
// is meaningless rather than an error, as IMAP has always answered.
func (m *msgSource) section(sec *imapwire.Section) (sectionValue, error) {
	if len(sec.Path) == 0 {
		switch sec.Specifier {
		case "":
			return m.rangeValue(0, m.rec.Size)
		case "HEADER":
			return bytesValue(m.rec.Header), nil
		case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
			return bytesValue(message.HeaderFields(m.rec.Header, sec.Fields, sec.Specifier == "HEADER.FIELDS.NOT")), nil
		case "TEXT":
			start := int64(len(m.rec.Header))
			if m.rec.Parsed != nil && m.rec.Parsed.Root != nil {
				start = m.rec.Parsed.Root.BodyStart
			}
			return m.rangeValue(start, m.rec.Size)
		}
		return sectionValue{}, nil
	}
	p := m.findPart(sec.Path)
	if p == nil {
		return sectionValue{}, nil
	}
	switch sec.Specifier {
	case "":
		return m.rangeValue(p.BodyStart, p.BodyEnd)
	case "MIME":
		return m.rangeValue(p.HeaderStart, p.BodyStart)
	}
	inner := p.Message
	if inner == nil {
		return sectionValue{}, nil
	}
	switch sec.Specifier {
	case "HEADER":
		return m.rangeValue(inner.HeaderStart, inner.BodyStart)
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		h, err := m.read(inner.HeaderStart, inner.BodyStart)
		if err != nil {
			return sectionValue{}, err
		}
		return bytesValue(message.HeaderFields(h, sec.Fields, sec.Specifier == "HEADER.FIELDS.NOT")), nil
	case "TEXT":
		return m.rangeValue(inner.BodyStart, inner.BodyEnd)
	}
	return sectionValue{}, nil
}

// errUnknownCTE is the tagged NO of RFC 3516 4.1 / RFC 9051 6.4.5 for a
// part whose Content-Transfer-Encoding the server cannot undo.
var errUnknownCTE = errNo("UNKNOWN-CTE", "Unknown Content-Transfer-Encoding")

// identityEncoding reports whether enc leaves the content as is.
func identityEncoding(enc string) bool {
	switch strings.ToUpper(enc) {
	case "", "7BIT", "8BIT", "BINARY":
		return true
	}
	return false
}

// decodable reports whether the server can undo enc.
func decodable(enc string) bool {
	switch strings.ToUpper(enc) {
	case "BASE64", "QUOTED-PRINTABLE":
		return true
	}
	return identityEncoding(enc)
}

// binary resolves BINARY[part] (RFC 3516, RFC 9051 6.4.5): the content of
// the part with its Content-Transfer-Encoding undone, in memory so that the
// caller can choose between literal and literal8. BINARY[] is the whole
// message as is.
func (m *msgSource) binary(sec *imapwire.Section) ([]byte, error) {
	if len(sec.Path) == 0 {
		return m.read(0, m.rec.Size)
	}
	p := m.findPart(sec.Path)
	if p == nil {
		return nil, nil
	}
	if p.IsMultipart() || p.Message != nil || identityEncoding(p.Encoding) {
		return m.read(p.BodyStart, p.BodyEnd)
	}
	if !decodable(p.Encoding) {
		return nil, errUnknownCTE
	}
	raw, err := m.read(p.BodyStart, p.BodyEnd)
	if err != nil {
		return nil, err
	}
	return decodePart(raw, p)
}

// binarySize answers BINARY.SIZE[part] from the model when it can.
func (m *msgSource) binarySize(sec *imapwire.Section) (int64, error) {
	if len(sec.Path) == 0 {
		return m.rec.Size, nil
	}
	p := m.findPart(sec.Path)
	if p == nil {
		return 0, nil
	}
	if p.IsMultipart() || p.Message != nil || identityEncoding(p.Encoding) {
		return max(p.Size(), 0), nil
	}
	if !decodable(p.Encoding) {
		return 0, errUnknownCTE
	}
	if p.DecodedSize > 0 || p.Size() == 0 {
		return p.DecodedSize, nil
	}
	b, err := m.binary(sec)
	return int64(len(b)), err
}

// decodePart undoes the transfer encoding of a part whose body alone is in
// raw (DecodeBody takes offsets into the whole message, hence the shifted
// copy of the part).
func decodePart(raw []byte, p *message.Part) ([]byte, error) {
	q := *p
	q.BodyStart, q.BodyEnd = 0, int64(len(raw))
	b, err := message.DecodeBody(raw, &q)
	if errors.Is(err, message.ErrUnknownEncoding) {
		return nil, errUnknownCTE
	}
	return b, err
}

// writeSectionName writes the name of a section in a FETCH response, e.g.
// BODY[1.2.HEADER.FIELDS (From Subject)] (RFC 9051 7.5.2): the field names
// as the client sent them.
func writeSectionName(w *imapwire.Writer, prefix string, sec *imapwire.Section) {
	w.Atom(prefix + "[" + sec.String() + "]")
}

// writeValue writes a section value: "" when empty, a literal otherwise
// (streamed from the message file for ranges).
func (m *msgSource) writeValue(w *imapwire.Writer, v sectionValue) {
	switch v.kind {
	case valBytes:
		w.Literal(v.data)
	case valRange:
		w.LiteralFrom(io.NewSectionReader(m.body, v.off, v.n), v.n)
	default:
		w.String("")
	}
}

// writeBinaryValue writes BINARY content: literal8 when it contains NUL,
// which a literal may not (RFC 3516 4.3, RFC 9051 4.3), a plain literal
// otherwise.
func writeBinaryValue(w *imapwire.Writer, b []byte) {
	switch {
	case len(b) == 0:
		w.String("")
	case bytes.IndexByte(b, 0) >= 0:
		w.Literal8(b)
	default:
		w.Literal(b)
	}
}
