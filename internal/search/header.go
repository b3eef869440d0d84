package search

import (
	"bytes"

	"github.com/casier/casier/internal/message"
)

// hfield is one header field of the top-level header, by byte offsets into
// Record.Header. seg* locate its comparison text in evalCtx.arena once
// computed.
type hfield struct {
	nameStart, nameEnd int
	valStart, valEnd   int // raw value after the colon, continuation lines included
	segStart, segEnd   int
	segState           uint8 // 0 not computed, segASCII, segFolded
}

const (
	segASCII = 1 + iota
	segFolded
)

// parseFields indexes the fields of a raw header section, tolerantly:
// lines without a colon or with an invalid field name are skipped (RFC 5322
// 2.2 allows printable ASCII but colon in names), continuation lines
// (starting with SP or HTAB) extend the current field, and the first empty
// line ends the header. fn is called once per field.
func parseFields(h []byte, fn func(nameStart, nameEnd, valStart, valEnd int)) {
	cur := false
	var ns, ne, vs, ve int
	for pos := 0; pos < len(h); {
		end := bytes.IndexByte(h[pos:], '\n')
		next := len(h)
		if end >= 0 {
			end += pos
			next = end + 1
		} else {
			end = len(h)
		}
		lineEnd := end
		if lineEnd > pos && h[lineEnd-1] == '\r' {
			lineEnd--
		}
		line := h[pos:lineEnd]
		switch {
		case len(line) == 0:
			// The blank line that ends the header section.
			if cur {
				fn(ns, ne, vs, ve)
			}
			return
		case line[0] == ' ' || line[0] == '\t':
			// RFC 5322 2.2.3: folded continuation of the current field.
			if cur {
				ve = lineEnd
			}
		default:
			if cur {
				fn(ns, ne, vs, ve)
				cur = false
			}
			colon := bytes.IndexByte(line, ':')
			if colon <= 0 {
				break
			}
			name := bytes.TrimRight(line[:colon], " \t") // obsolete "Name :" (RFC 5322 4.5)
			if len(name) == 0 || !validFieldName(name) {
				break
			}
			cur = true
			ns, ne = pos, pos+len(name)
			vs, ve = pos+colon+1, lineEnd
		}
		pos = next
	}
	if cur {
		fn(ns, ne, vs, ve)
	}
}

func validFieldName(name []byte) bool {
	for _, c := range name {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// equalFoldASCII compares a raw field name with a lower-case name.
func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		if lowerByte(b[i]) != lower[i] {
			return false
		}
	}
	return true
}

// unfold appends the value with line breaks removed (RFC 5322 2.2.3
// unfolding) and surrounding white space trimmed.
func unfold(dst, v []byte) []byte {
	v = bytes.Trim(v, " \t\r\n")
	for _, c := range v {
		if c != '\r' && c != '\n' {
			dst = append(dst, c)
		}
	}
	return dst
}

// valueText returns the comparison text of a raw header value: unfolded,
// RFC 2047 encoded-words decoded to UTF-8 (raw 8-bit text is taken as UTF-8,
// RFC 6532, or else as Windows-1252), and folded when not ASCII. The text is
// appended to buf, which is returned grown; seg aliases it.
func valueText(buf, raw []byte) (grown []byte, seg textSeg) {
	start := len(buf)
	buf = unfold(buf, raw)
	v := buf[start:]
	if isASCII(v) && !bytes.Contains(v, []byte("=?")) {
		// The common case: no decoding, no folding, no allocation.
		return buf, textSeg{text: v, ascii: true}
	}
	dec := []byte(decodeHeader(string(v)))
	buf = buf[:start]
	if isASCII(dec) {
		buf = append(buf, dec...)
		return buf, textSeg{text: buf[start:], ascii: true}
	}
	buf = append(buf, foldBytes(dec)...)
	return buf, textSeg{text: buf[start:]}
}

func (c *evalCtx) indexHeader() {
	if c.hdrIndexed {
		return
	}
	c.hdrIndexed = true
	parseFields(c.m.Record.Header, func(ns, ne, vs, ve int) {
		c.fields = append(c.fields, hfield{nameStart: ns, nameEnd: ne, valStart: vs, valEnd: ve})
	})
}

// fieldSeg returns the comparison text of field i, computing it once.
func (c *evalCtx) fieldSeg(i int) textSeg {
	f := &c.fields[i]
	if f.segState == 0 {
		h := c.m.Record.Header
		var seg textSeg
		f.segStart = len(c.arena)
		c.arena, seg = valueText(c.arena, h[f.valStart:f.valEnd])
		f.segEnd = len(c.arena)
		if seg.ascii {
			f.segState = segASCII
		} else {
			f.segState = segFolded
		}
	}
	return textSeg{text: c.arena[f.segStart:f.segEnd], ascii: f.segState == segASCII}
}

// matchHeader implements HEADER, FROM, TO, CC, BCC and SUBJECT: some field
// of that name contains the string (RFC 9051 6.4.4). With the empty string
// it is a presence test (Compile turns the named keys with an empty string
// into ALL, the empty string being a substring of anything).
func (c *evalCtx) matchHeader(field, needle string) bool {
	c.indexHeader()
	h := c.m.Record.Header
	for i := range c.fields {
		f := &c.fields[i]
		if !equalFoldASCII(h[f.nameStart:f.nameEnd], field) {
			continue
		}
		if needle == "" || c.fieldSeg(i).contains(needle) {
			return true
		}
	}
	return false
}

// headerText renders a header section as "Name: value" lines with values
// decoded, for TEXT and for headers of nested messages under BODY.
func headerText(h []byte) textSeg {
	var out []byte
	parseFields(h, func(ns, ne, vs, ve int) {
		out = append(out, h[ns:ne]...)
		out = append(out, ':', ' ')
		out, _ = valueText(out, h[vs:ve])
		out = append(out, '\n')
	})
	// Values are either ASCII or folded (and folding leaves no upper-case
	// ASCII): lowering the ASCII letters puts the whole text in folded form.
	for j := range out {
		out[j] = lowerByte(out[j])
	}
	return textSeg{text: out}
}

// matchHeaderText is the header half of TEXT.
func (c *evalCtx) matchHeaderText(needle string) bool {
	if !c.hdrTextSet {
		c.hdrTextSet = true
		c.hdrText = headerText(c.m.Record.Header)
	}
	return c.hdrText.contains(needle)
}

// matchAddresses is the envelope half of FROM, TO, CC and BCC: RFC 9051
// 6.4.4 searches "the envelope structure's" field, where an address reads
// mailbox@host whatever comments or spacing its header had (e.g.
// "<user (c) @ (c) example.org>" is found as "user@example.org").
func (c *evalCtx) matchAddresses(field, needle string) bool {
	p := c.m.Record.Parsed
	if p == nil {
		return false
	}
	var list []message.Address
	switch field {
	case "from":
		list = p.Envelope.From
	case "to":
		list = p.Envelope.To
	case "cc":
		list = p.Envelope.Cc
	case "bcc":
		list = p.Envelope.Bcc
	}
	var buf []byte
	for _, a := range list {
		if a.GroupStart || a.GroupEnd || a.Host == "" {
			continue
		}
		buf = append(append(append(buf[:0], a.Mailbox...), '@'), a.Host...)
		if containsFoldASCII(buf, needle) {
			return true
		}
	}
	return false
}
