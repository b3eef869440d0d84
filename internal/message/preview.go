package message

import (
	"html"
	"strings"
	"unicode"
)

const (
	previewRunes = 256      // RFC 8970 3: at most 256 characters
	previewInput = 64 << 10 // raw body bytes looked at for a preview
)

// preview computes the RFC 8970 preview: the text of the first text/plain
// part that is not an attachment (else the first such text/html part, tags
// removed), whitespace runs collapsed to one space, trimmed, cut at 256
// characters. Encapsulated messages are not looked into: their text is not
// this message's. Only the start of a part is decoded.
func preview(raw []byte, root *Part) string {
	for _, sub := range []string{"plain", "html"} {
		var found string
		walkBody(root, func(p *Part) bool {
			if p.Type != "text" || p.Subtype != sub || p.isAttachment() {
				return true
			}
			head := *p
			head.BodyEnd = min(head.BodyEnd, head.BodyStart+previewInput)
			text, err := PartText(raw, &head)
			if err != nil {
				return true
			}
			if sub == "html" {
				text = stripHTML(text)
			}
			found = collapseSpace(text, previewRunes)
			return found == ""
		})
		if found != "" {
			return found
		}
	}
	return ""
}

// walkBody visits the parts of a message in order, depth first, without
// entering encapsulated messages, until fn returns false.
func walkBody(p *Part, fn func(*Part) bool) bool {
	if !fn(p) {
		return false
	}
	for _, c := range p.Parts {
		if !walkBody(c, fn) {
			return false
		}
	}
	return true
}

// collapseSpace replaces white-space runs with one space, trims, drops
// control and invisible formatting characters (zero-width spaces, soft
// hyphens, BOMs, common in HTML mail "preheaders"), and keeps at most n
// characters.
func collapseSpace(s string, n int) string {
	var b strings.Builder
	count := 0
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == '\u200d':
			// Zero-width joiner: part of emoji sequences, kept.
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if space && count > 0 {
			if count+1 >= n {
				break
			}
			b.WriteByte(' ')
			count++
		}
		space = false
		b.WriteRune(r)
		count++
		if count >= n {
			break
		}
	}
	return b.String()
}

// inlineTags do not separate words, so no space replaces them.
var inlineTags = map[string]bool{
	"a": true, "b": true, "i": true, "u": true, "s": true, "em": true,
	"strong": true, "span": true, "font": true, "small": true, "big": true,
	"sub": true, "sup": true, "code": true, "abbr": true, "mark": true,
	"o:p": true,
}

// skipTags have content that is not text.
var skipTags = map[string]bool{"script": true, "style": true, "head": true, "title": true, "template": true}

// stripHTML turns HTML into text for previews and search: tags and
// comments removed (block tags become spaces), script, style and head
// content dropped, character references decoded. It is not a full HTML
// parser, just enough for mail.
func stripHTML(s string) string {
	lower := asciiLower(s)        // same byte offsets as s
	unclosed := map[string]bool{} // skip tags known to have no closing tag further on
	var b strings.Builder
	b.Grow(len(s) / 2)
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		i += j
		if strings.HasPrefix(s[i:], "<!--") {
			k := strings.Index(s[i+4:], "-->")
			if k < 0 {
				break
			}
			i += 4 + k + 3
			continue
		}
		if i+1 >= len(s) || !(isASCIILetter(s[i+1]) || s[i+1] == '/' || s[i+1] == '!' || s[i+1] == '?') {
			b.WriteByte('<') // a lone "<" is text
			i++
			continue
		}
		name := tagName(lower[i+1:])
		end := tagEnd(s, i)
		if skipTags[name] && lower[i+1] != '/' && !unclosed[name] {
			if k := strings.Index(lower[end:], "</"+name); k >= 0 {
				end = tagEnd(s, end+k)
			} else if name != "head" {
				end = len(s) // unclosed script or style: the rest is not text
			} else {
				unclosed[name] = true // do not search again: linear time
			}
		}
		if !inlineTags[name] {
			b.WriteByte(' ')
		}
		i = end
	}
	return html.UnescapeString(b.String())
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// tagName returns the lower-case name of the tag whose text (after '<')
// starts s, without a leading '/'.
func tagName(s string) string {
	s = strings.TrimPrefix(s, "/")
	k := 0
	for k < len(s) && (isASCIILetter(s[k]) || ('0' <= s[k] && s[k] <= '9') || s[k] == ':' || s[k] == '-') {
		k++
	}
	return s[:k]
}

// tagEnd returns the index after the '>' closing the tag that starts at i,
// skipping quoted attribute values; len(s) if unclosed.
func tagEnd(s string, i int) int {
	var quote, prev byte
	for k := i + 1; k < len(s); k++ {
		c := s[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case (c == '"' || c == '\'') && prev == '=':
			quote = c
		case c == '>':
			return k + 1
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			prev = c
		}
	}
	return len(s)
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
