package message

import "bytes"

// hfield is one header field located in the raw message. Offsets, not
// copies: parsing a message allocates little, and HEADER.FIELDS can return
// the original bytes.
type hfield struct {
	start, end   int // the whole field, continuation lines and final line end included
	nameEnd      int // name is raw[start:nameEnd], trailing WSP removed
	vstart, vend int // value after the colon and leading WSP, final line end excluded
}

// nextLine returns the line starting at pos in b[:end]: contentEnd excludes
// the line end (CRLF or bare LF, both accepted), next is the start of the
// following line.
func nextLine(b []byte, pos, end int) (contentEnd, next int) {
	nl := bytes.IndexByte(b[pos:end], '\n')
	if nl < 0 {
		contentEnd, next = end, end
	} else {
		contentEnd, next = pos+nl, pos+nl+1
	}
	if contentEnd > pos && b[contentEnd-1] == '\r' {
		contentEnd--
	}
	return contentEnd, next
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// fieldAt parses the field line starting at pos (content up to contentEnd).
// ok is false for a line that is not a header field (no colon, bad name):
// RFC 5322 2.2 field names are printable US-ASCII except colon; obsolete
// syntax (RFC 5322 4.5.8) allows WSP before the colon.
func fieldAt(b []byte, pos, contentEnd, next int) (hfield, bool) {
	colon := bytes.IndexByte(b[pos:contentEnd], ':')
	if colon <= 0 {
		return hfield{}, false
	}
	nameEnd := pos + colon
	for nameEnd > pos && isWSP(b[nameEnd-1]) {
		nameEnd--
	}
	if nameEnd == pos {
		return hfield{}, false
	}
	for _, c := range b[pos:nameEnd] {
		if c <= ' ' || c >= 0x7f {
			return hfield{}, false
		}
	}
	vs := pos + colon + 1
	for vs < contentEnd && isWSP(b[vs]) {
		vs++
	}
	return hfield{start: pos, end: next, nameEnd: nameEnd, vstart: vs, vend: contentEnd}, true
}

// eqFold reports whether b equals the lower-case ASCII string s, ignoring
// ASCII case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func (f hfield) name(b []byte) []byte { return b[f.start:f.nameEnd] }

// unfold returns the field value with line ends of folding removed
// (RFC 5322 2.2.3) and surrounding WSP trimmed. Stray CR or LF bytes are
// dropped too: they cannot be sent in an IMAP quoted string.
func (f hfield) unfold(b []byte) string {
	return unfoldBytes(b[f.vstart:f.vend])
}

func unfoldBytes(v []byte) string {
	if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
		return string(bytes.Trim(v, " \t"))
	}
	out := make([]byte, 0, len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return string(bytes.Trim(out, " \t"))
}

// HeaderFields returns, for BODY[HEADER.FIELDS (names)] (not=false) or
// BODY[HEADER.FIELDS.NOT (names)] (not=true), the header fields of header
// whose name is (or is not) in names, compared case-insensitively, in their
// original order with their continuation lines, followed by the blank line
// (RFC 9051 6.4.5: the subset of the header plus the delimiting blank line).
// header is a part's raw header, e.g. raw[HeaderStart:BodyStart]. A field
// whose last line has no line end (header cut by end of data) gets a CRLF so
// the result stays well formed. Lines that are not fields are never returned.
func HeaderFields(header []byte, names []string, not bool) []byte {
	out := make([]byte, 0, 256)
	keep := false // whether the current field (and so its continuation lines) is kept
	end := len(header)
	for pos := 0; pos < end; {
		contentEnd, next := nextLine(header, pos, end)
		if contentEnd == pos {
			break // blank line: end of header
		}
		if isWSP(header[pos]) {
			if keep {
				out = appendLine(out, header[pos:next])
			}
			pos = next
			continue
		}
		f, ok := fieldAt(header, pos, contentEnd, next)
		keep = false
		if ok {
			keep = nameIn(f.name(header), names) != not
			if keep {
				out = appendLine(out, header[pos:next])
			}
		}
		pos = next
	}
	return append(out, '\r', '\n')
}

func appendLine(out, line []byte) []byte {
	out = append(out, line...)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		if len(line) > 0 && line[len(line)-1] == '\r' {
			return append(out, '\n')
		}
		out = append(out, '\r', '\n')
	}
	return out
}

func nameIn(name []byte, names []string) bool {
	for _, n := range names {
		if len(n) == len(name) && bytes.EqualFold(name, []byte(n)) {
			return true
		}
	}
	return false
}
