package message

import "bytes"

// Parsing invariants, relied on by FETCH:
//
//   - every Part has 0 <= HeaderStart <= BodyStart <= BodyEnd <= len(raw);
//     a child lies inside its parent's body, children are in order and do
//     not overlap;
//   - a multipart Part has at least one child (RFC 9051 body-type-mpart needs
//     one); a multipart that has none (no boundary parameter, no delimiter
//     found, nesting or part limit reached) is reported as text/plain;
//   - a message/rfc822 or message/global Part has Message and Envelope set;
//     when its body cannot be parsed as a message (a base64 or
//     quoted-printable encoding, or a limit reached) it is reported as
//     application/octet-stream instead, so BODYSTRUCTURE stays well formed;
//   - a multipart child's body ends before the line end preceding the next
//     boundary delimiter: RFC 2046 5.1.1, that CRLF belongs to the delimiter.
//
// Parsing is a single forward pass: boundaries of all open multiparts are
// kept on a stack, and a delimiter line of an outer multipart also closes
// the inner ones (a missing close delimiter does not swallow the rest of the
// message). Line ends may be CRLF or bare LF.

const (
	maxDepth = 100   // nesting of multiparts and encapsulated messages
	maxParts = 10000 // Parts in one message
)

type parser struct {
	raw   []byte
	stack []string // boundaries of the open multiparts, innermost last
	parts int
}

// stop is where a body ended: at the start of a boundary delimiter line
// (k is the stack index of its boundary, close tells a close delimiter), or
// at the end of the data (k = -1, line = len(raw)).
type stop struct {
	line  int
	k     int
	close bool
}

// Parse builds the model of a raw RFC 5322 message. It never fails on
// malformed input: whatever cannot be understood is reported as text/plain
// (RFC 2045 5.2 default). The error is reserved for future use and is
// always nil.
func Parse(raw []byte) (out *Parsed, err error) {
	defer func() {
		if r := recover(); r != nil {
			// A bug here must not lose the message: keep it as one
			// opaque text part. The fuzz test calls parse directly and
			// so still sees any panic.
			out = &Parsed{Root: &Part{Type: "text", Subtype: "plain",
				Params: [][2]string{{"charset", "us-ascii"}}, BodyEnd: int64(len(raw))}}
			err = nil
		}
	}()
	return parse(raw), nil
}

func parse(raw []byte) *Parsed {
	p := &parser{raw: raw}
	root, fields, _ := p.entity(0, 0, "", true)
	out := &Parsed{Root: root, Envelope: buildEnvelope(raw, fields)}
	out.Date = parseDate(out.Envelope.Date)
	out.Preview = preview(raw, root)
	return out
}

// entity parses the entity (header and body) starting at hs. defType is
// the default media type ("" for text/plain, "message/rfc822" inside
// multipart/digest); isMsg tells a message header, whose envelope fields
// are returned along with the content fields.
func (p *parser) entity(hs, depth int, defType string, isMsg bool) (*Part, []hfield, stop) {
	p.parts++
	part := &Part{HeaderStart: int64(hs)}
	fields, bs, cut := p.header(hs, isMsg)
	part.BodyStart = int64(bs)
	p.contentFields(part, fields, defType)

	var st stop
	switch {
	case cut:
		// The header ran into a delimiter: there is no body, so there
		// are no children or encapsulated message either.
		if part.Type == "multipart" {
			asText(part)
		} else if isEncapsulated(part) {
			part.Type, part.Subtype = "application", "octet-stream"
		}
		st = p.leaf(part, bs)
	case part.Type == "multipart":
		st = p.multipart(part, bs, depth)
	case isEncapsulated(part):
		st = p.encapsulated(part, bs, depth)
	default:
		st = p.leaf(part, bs)
	}
	p.sizes(part)
	return part, fields, st
}

// isEncapsulated reports the types whose body is a whole message (RFC 2046
// 5.2.1, RFC 6532 3.5).
func isEncapsulated(part *Part) bool {
	return part.Type == "message" && (part.Subtype == "rfc822" || part.Subtype == "global")
}

// leaf ends a part body at the next delimiter of any open multipart.
func (p *parser) leaf(part *Part, bs int) stop {
	st := p.nextBoundary(bs)
	part.BodyEnd = int64(p.endBefore(st, bs))
	return st
}

func (p *parser) multipart(part *Part, bs, depth int) stop {
	boundary := part.Param("boundary")
	if boundary == "" || depth >= maxDepth || p.parts >= maxParts {
		asText(part)
		return p.leaf(part, bs)
	}
	childType := ""
	if part.Subtype == "digest" {
		childType = "message/rfc822" // RFC 2046 5.1.5
	}
	p.stack = append(p.stack, boundary)
	me := len(p.stack) - 1
	st := p.nextBoundary(bs) // the preamble is skipped
	for st.k == me && !st.close {
		hs := p.lineAfter(st.line)
		if p.parts >= maxParts {
			st = p.nextBoundary(hs) // too many parts: skip this one
			continue
		}
		child, _, cst := p.entity(hs, depth+1, childType, false)
		part.Parts = append(part.Parts, child)
		st = cst
	}
	p.stack = p.stack[:me]
	if st.k == me {
		// Close delimiter: the epilogue runs to the next delimiter of an
		// outer multipart, or to the end.
		st = p.nextBoundary(p.lineAfter(st.line))
	}
	part.BodyEnd = int64(p.endBefore(st, bs))
	if n := len(part.Parts); n == 0 {
		asText(part)
	} else if last := part.Parts[n-1].BodyEnd; last > part.BodyEnd {
		// "--inner CRLF --outer": the line end after the last inner
		// delimiter is also the one before the outer delimiter. The empty
		// last child starts after it; keep it inside its parent.
		part.BodyEnd = last
	}
	return st
}

func (p *parser) encapsulated(part *Part, bs, depth int) stop {
	switch part.Encoding {
	case "", "7BIT", "8BIT", "BINARY":
	default:
		// RFC 2046 5.2.1 forbids encoding message/rfc822; RFC 6532 3.5
		// allows it for message/global. Either way the offsets of the
		// encoded message mean nothing, so it is an opaque part.
		part.Type, part.Subtype = "application", "octet-stream"
		return p.leaf(part, bs)
	}
	if depth >= maxDepth || p.parts >= maxParts {
		part.Type, part.Subtype = "application", "octet-stream"
		return p.leaf(part, bs)
	}
	inner, fields, st := p.entity(bs, depth+1, "", true)
	env := buildEnvelope(p.raw, fields)
	part.Message, part.Envelope = inner, &env
	part.BodyEnd = inner.BodyEnd
	return st
}

// asText turns a part that cannot be what it claims into the RFC 2045 5.2
// default type.
func asText(part *Part) {
	part.Type, part.Subtype = "text", "plain"
	part.Params = [][2]string{{"charset", "us-ascii"}}
	part.Parts = nil
}

// sizes fills Lines and DecodedSize once BodyEnd is known.
func (p *parser) sizes(part *Part) {
	body := p.raw[part.BodyStart:part.BodyEnd]
	// RFC 9051 body-fld-lines, for text/* and message/rfc822 only. Counted
	// as the number of line ends in the body, as Dovecot and Cyrus do: a
	// multipart child's last line has no line end of its own (it belongs
	// to the delimiter) and is not counted.
	if part.Type == "text" || part.Message != nil {
		part.Lines = int64(bytes.Count(body, []byte{'\n'}))
	}
	part.DecodedSize = decodedSize(body, part.Encoding)
}

// header scans a header from hs: up to and including the blank line, or up
// to a delimiter line of an open multipart (the header then ends before the
// line end preceding it), or to the end of the data. It keeps the fields
// this package uses: Content-* and, for a message header, the envelope.
func (p *parser) header(hs int, isMsg bool) (fields []hfield, bs int, cut bool) {
	raw := p.raw
	cur := -1 // index in fields of the field continuation lines extend, -1 if none
	for pos := hs; pos < len(raw); {
		contentEnd, next := nextLine(raw, pos, len(raw))
		if contentEnd == pos {
			return fields, next, false // blank line
		}
		c := raw[pos]
		if c == '-' && len(p.stack) > 0 {
			if _, _, ok := p.matchDelimiter(pos); ok {
				return fields, p.endBefore(stop{line: pos, k: 0}, hs), true
			}
		}
		if isWSP(c) {
			if cur >= 0 {
				fields[cur].vend, fields[cur].end = contentEnd, next
			}
			pos = next
			continue
		}
		cur = -1
		if f, ok := fieldAt(raw, pos, contentEnd, next); ok {
			name := f.name(raw)
			if (len(name) > 8 && eqFold(name[:8], "content-")) || (isMsg && envelopeField(name)) {
				fields = append(fields, f)
				cur = len(fields) - 1
			}
		}
		pos = next
	}
	return fields, len(raw), false
}

// contentFields applies the MIME header fields (RFC 2045, 2183, 3282,
// 2557, 1864) to part; the first occurrence of each field wins.
func (p *parser) contentFields(part *Part, fields []hfield, defType string) {
	var haveType, haveEnc, haveID, haveDesc, haveMD5, haveDisp, haveLang, haveLoc bool
	for _, f := range fields {
		name := f.name(p.raw)
		if len(name) <= 8 || !eqFold(name[:8], "content-") {
			continue
		}
		switch name := name[8:]; {
		case eqFold(name, "type") && !haveType:
			haveType = true
			if t, s, params, ok := parseMediaType(f.unfold(p.raw)); ok {
				part.Type, part.Subtype, part.Params = t, s, params
			} else {
				asText(part) // RFC 2045 5.2: invalid means text/plain
			}
		case eqFold(name, "transfer-encoding") && !haveEnc:
			haveEnc = true
			part.Encoding = parseEncoding(f.unfold(p.raw))
		case eqFold(name, "id") && !haveID:
			haveID = true
			part.ID = f.unfold(p.raw)
		case eqFold(name, "description") && !haveDesc:
			haveDesc = true
			part.Description = f.unfold(p.raw)
		case eqFold(name, "md5") && !haveMD5:
			haveMD5 = true
			part.MD5 = f.unfold(p.raw)
		case eqFold(name, "disposition") && !haveDisp:
			haveDisp = true
			part.Disposition, part.DispParams = parseDisposition(f.unfold(p.raw))
		case eqFold(name, "language") && !haveLang:
			haveLang = true
			part.Language = parseLanguage(f.unfold(p.raw))
		case eqFold(name, "location") && !haveLoc:
			haveLoc = true
			part.Location = f.unfold(p.raw)
		}
	}
	if part.Type == "" {
		if defType == "message/rfc822" {
			part.Type, part.Subtype = "message", "rfc822"
		} else {
			asText(part)
		}
	}
	if part.Type == "text" && part.Param("charset") == "" {
		// Reported as IMAP servers do: RFC 2045 5.2 makes us-ascii the
		// default charset of text.
		part.Params = append(part.Params, [2]string{"charset", "us-ascii"})
	}
}

// nextBoundary finds the first delimiter line of an open multipart at or
// after pos, which is the start of a line.
func (p *parser) nextBoundary(pos int) stop {
	raw := p.raw
	if len(p.stack) == 0 {
		return stop{line: len(raw), k: -1}
	}
	if pos < len(raw) && raw[pos] == '-' {
		if k, closing, ok := p.matchDelimiter(pos); ok {
			return stop{line: pos, k: k, close: closing}
		}
	}
	for pos < len(raw) {
		i := bytes.Index(raw[pos:], []byte("\n--"))
		if i < 0 {
			break
		}
		line := pos + i + 1
		if k, closing, ok := p.matchDelimiter(line); ok {
			return stop{line: line, k: k, close: closing}
		}
		pos = line
	}
	return stop{line: len(raw), k: -1}
}

// matchDelimiter tells whether the line at pos is a delimiter of an open
// multipart: "--" boundary, then "--" for the close delimiter, then only
// transport padding (RFC 2046 5.1.1). Trailing junk after white space is
// tolerated. When several boundaries match (one a prefix of another), the
// longest wins, then the innermost.
func (p *parser) matchDelimiter(pos int) (k int, closing, ok bool) {
	raw := p.raw
	if pos+2 > len(raw) || raw[pos] != '-' || raw[pos+1] != '-' {
		return 0, false, false
	}
	rest := raw[pos+2:]
	best := -1
	for i := len(p.stack) - 1; i >= 0; i-- {
		b := p.stack[i]
		if len(b) > len(rest) || string(rest[:len(b)]) != b {
			continue
		}
		after := rest[len(b):]
		cl := false
		if len(after) >= 2 && after[0] == '-' && after[1] == '-' {
			cl, after = true, after[2:]
		}
		if len(after) > 0 && !isWSP(after[0]) && after[0] != '\r' && after[0] != '\n' {
			continue
		}
		if best < 0 || len(b) > len(p.stack[best]) {
			best, closing = i, cl
		}
	}
	return best, closing, best >= 0
}

// lineAfter returns the start of the line following the one at pos.
func (p *parser) lineAfter(pos int) int {
	i := bytes.IndexByte(p.raw[pos:], '\n')
	if i < 0 {
		return len(p.raw)
	}
	return pos + i + 1
}

// endBefore returns where a body ends given where it stopped: before the
// line end preceding a delimiter line, at the end of data otherwise, never
// before min.
func (p *parser) endBefore(st stop, min int) int {
	if st.k < 0 {
		return len(p.raw)
	}
	e := st.line
	if e > 0 && p.raw[e-1] == '\n' {
		e--
		if e > 0 && p.raw[e-1] == '\r' {
			e--
		}
	}
	return max(e, min)
}

// Param returns the value of the Content-Type parameter name (lower case),
// "" if absent.
func (p *Part) Param(name string) string {
	for _, kv := range p.Params {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

// DispParam returns the value of the Content-Disposition parameter name
// (lower case), "" if absent.
func (p *Part) DispParam(name string) string {
	for _, kv := range p.DispParams {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

// isAttachment reports a part the user sees as an attachment rather than
// message text.
func (p *Part) isAttachment() bool {
	return p.Disposition == "attachment"
}
