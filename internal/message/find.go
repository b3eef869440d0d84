package message

// FindPart returns the part addressed by an IMAP section part number
// (RFC 9051 6.4.5), e.g. []int{2, 1} for "2.1", or nil if there is none (or
// path is empty: the whole message is not a part).
//
// Numbering: the parts of a message are the children of its body when the
// body is multipart; otherwise the message has one part, "1", its body. A
// multipart part's children are numbered from 1. A message/rfc822 (or
// message/global) part's subparts are the parts of the encapsulated
// message, numbered the same way: "2.1" is the first child of the
// encapsulated multipart, or the encapsulated body itself when it is not
// multipart. For "n.HEADER", "n.TEXT" of a message/rfc822 part, use
// FindPart(n).Message's offsets.
func (p *Parsed) FindPart(path []int) *Part {
	if p == nil || p.Root == nil || len(path) == 0 {
		return nil
	}
	container, isMsg := p.Root, true // whose parts path[i] numbers
	var cur *Part
	for _, n := range path {
		if container == nil || n < 1 {
			return nil
		}
		switch {
		case container.IsMultipart():
			if n > len(container.Parts) {
				return nil
			}
			cur = container.Parts[n-1]
		case isMsg && n == 1:
			cur = container // a non-multipart message's only part is its body
		default:
			return nil
		}
		// Next level: the children of a multipart, or the parts of an
		// encapsulated message; a leaf has none.
		switch {
		case cur.IsMultipart():
			container, isMsg = cur, false
		case cur.Message != nil:
			container, isMsg = cur.Message, true
		default:
			container = nil
		}
	}
	return cur
}

// AllText returns the text SEARCH BODY and TEXT look into (RFC 9051
// 6.4.4): the decoded UTF-8 content of every text/* part of the message,
// attachments and encapsulated messages included, in order. HTML is
// reduced to its text (tags removed, entities decoded). Header fields are
// not included (SEARCH matches them separately). Parts whose offsets do not
// fit raw are skipped.
func (p *Parsed) AllText(raw []byte) []string {
	if p == nil || p.Root == nil {
		return nil
	}
	var out []string
	var walk func(*Part)
	walk = func(part *Part) {
		switch {
		case part.Message != nil:
			walk(part.Message)
		case part.IsMultipart():
			for _, c := range part.Parts {
				walk(c)
			}
		case part.Type == "text":
			text, err := PartText(raw, part)
			if err != nil {
				return
			}
			if part.Subtype == "html" {
				text = stripHTML(text)
			}
			out = append(out, text)
		}
	}
	walk(p.Root)
	return out
}
