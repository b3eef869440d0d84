package message

import "strings"

// A tolerant RFC 5322 3.4 address-list parser producing IMAP address
// structures (RFC 9051 7.5.2). Values stay raw: encoded-words are kept, only
// quoting is undone. Real headers are often broken, so the parser never
// fails: it skips what it cannot read up to the next comma.

// maxAddresses bounds one address list against hostile headers.
const maxAddresses = 10000

type atok struct {
	kind  byte // 'a' atom, 'q' quoted-string, 'l' domain literal, 'c' comment, or one of < > @ , ; :
	text  string
	space bool // white space or a comment came before this token
}

// tokenizeAddr splits an unfolded header value into address tokens. Dots
// are atom characters, so dot-atoms and obs-phrase words like "Q." are
// single tokens.
func tokenizeAddr(s string) []atok {
	var toks []atok
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			space = true
			i++
		case c == '(':
			v := valueScanner{s: s, i: i}
			v.skipComment()
			text := s[i+1 : v.i]
			text = strings.TrimSuffix(text, ")")
			toks = append(toks, atok{kind: 'c', text: strings.TrimSpace(text), space: space})
			space = true
			i = v.i
		case c == '"':
			v := valueScanner{s: s, i: i}
			text := v.quoted()
			toks = append(toks, atok{kind: 'q', text: text, space: space})
			space = false
			i = v.i
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				j = len(s) - i - 1
			}
			toks = append(toks, atok{kind: 'l', text: s[i : i+j+1], space: space})
			space = false
			i += j + 1
		case strings.IndexByte("<>@,;:", c) >= 0:
			toks = append(toks, atok{kind: c, space: space})
			space = false
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\r\n()\"[<>@,;:", s[j]) < 0 {
				j++
			}
			if j == i {
				j++ // a stray ')': keep it as a word of its own
			}
			toks = append(toks, atok{kind: 'a', text: s[i:j], space: space})
			space = false
			i = j
		}
	}
	return toks
}

type addrParser struct {
	toks []atok
	j    int
	out  []Address
}

// parseAddressList parses an address-list header value.
func parseAddressList(s string) []Address {
	p := addrParser{toks: tokenizeAddr(s)}
	for p.j < len(p.toks) && len(p.out) < maxAddresses {
		switch p.toks[p.j].kind {
		case ',', ';', '>', 'c':
			p.j++
		default:
			p.address(false)
		}
	}
	return p.out
}

func (p *addrParser) peek() byte {
	if p.j < len(p.toks) {
		return p.toks[p.j].kind
	}
	return 0
}

// address parses one mailbox or group; it always consumes a token.
func (p *addrParser) address(inGroup bool) {
	var words []atok
	comment := ""
	for {
		switch p.peek() {
		case 'a', 'q', 'l':
			words = append(words, p.toks[p.j])
			p.j++
		case 'c':
			comment = p.toks[p.j].text
			p.j++
		case '<':
			a := p.angleAddr()
			a.Name = joinWords(words, true)
			if a.Name == "" {
				a.Name = p.trailingComment()
			}
			p.add(a)
			return
		case '@':
			p.j++
			a := Address{Mailbox: joinWords(words, false), Host: p.domain()}
			a.Name = p.trailingComment()
			if a.Name == "" {
				a.Name = comment
			}
			p.add(a)
			p.skipJunk(inGroup)
			return
		case ':':
			p.j++
			if inGroup {
				continue // RFC 5322 has no nested groups: ignore
			}
			p.group(joinWords(words, true))
			return
		default: // ',' ';' '>' or end
			if len(words) > 0 {
				p.add(Address{Mailbox: joinWords(words, true), Name: comment})
			} else if p.peek() == '>' {
				p.j++
			}
			return
		}
	}
}

// group parses the members of a group after its "name:" (RFC 5322 3.4),
// emitting the RFC 9051 7.5.2 start and end markers.
func (p *addrParser) group(name string) {
	p.out = append(p.out, Address{Mailbox: name, GroupStart: true})
	for p.j < len(p.toks) && p.peek() != ';' && len(p.out) < maxAddresses {
		switch p.peek() {
		case ',', '>', 'c', ':':
			p.j++
		default:
			p.address(true)
		}
	}
	if p.peek() == ';' {
		p.j++
	}
	p.out = append(p.out, Address{GroupEnd: true})
}

// angleAddr parses "<[route:]local@domain>" with p.j at '<'.
func (p *addrParser) angleAddr() Address {
	p.j++
	var a Address
	if p.peek() == '@' {
		// Obsolete source route (RFC 5322 4.4): "@a,@b:".
		var route strings.Builder
		k := p.j
		for k < len(p.toks) && p.toks[k].kind != ':' && p.toks[k].kind != '>' {
			k++
		}
		if k < len(p.toks) && p.toks[k].kind == ':' {
			for ; p.j < k; p.j++ {
				t := p.toks[p.j]
				switch t.kind {
				case 'a', 'l':
					route.WriteString(t.text)
				case '@', ',':
					route.WriteByte(t.kind)
				}
			}
			p.j++ // ':'
			a.Route = route.String()
		}
	}
	var local []atok
	for {
		switch p.peek() {
		case 'a', 'q', 'l':
			local = append(local, p.toks[p.j])
			p.j++
			continue
		case 'c':
			p.j++
			continue
		}
		break
	}
	a.Mailbox = joinWords(local, false)
	if p.peek() == '@' {
		p.j++
		a.Host = p.domain()
	}
	// Skip anything else up to the closing '>' (not beyond the address).
	for p.j < len(p.toks) {
		k := p.peek()
		if k == '>' {
			p.j++
			break
		}
		if k == ',' || k == ';' || k == '<' {
			break
		}
		p.j++
	}
	return a
}

// domain reads a domain (dot-atom or literal) after '@'.
func (p *addrParser) domain() string {
	var parts []atok
	for {
		switch p.peek() {
		case 'a', 'l':
			// obs-domain (RFC 5322 4.4) allows CFWS around the dots;
			// otherwise a spaced word is not part of the domain.
			if t := p.toks[p.j]; len(parts) > 0 && t.space &&
				!strings.HasSuffix(parts[len(parts)-1].text, ".") && !strings.HasPrefix(t.text, ".") {
				return joinWords(parts, false)
			}
			parts = append(parts, p.toks[p.j])
			p.j++
			continue
		case 'c':
			if len(parts) > 0 {
				return joinWords(parts, false)
			}
			p.j++
			continue
		}
		return joinWords(parts, false)
	}
}

// trailingComment consumes comments right after an address; the last one
// serves as display name for the old "user@host (Full Name)" form.
func (p *addrParser) trailingComment() string {
	name := ""
	for p.peek() == 'c' {
		name = p.toks[p.j].text
		p.j++
	}
	return name
}

// skipJunk skips tokens up to the end of the current address.
func (p *addrParser) skipJunk(inGroup bool) {
	for p.j < len(p.toks) {
		switch p.peek() {
		case ',':
			return
		case ';':
			if inGroup {
				return
			}
		}
		p.j++
	}
}

func (p *addrParser) add(a Address) {
	if a.Name == "" && a.Mailbox == "" && a.Host == "" && a.Route == "" {
		return // "<>" and the like carry nothing IMAP can show
	}
	p.out = append(p.out, a)
}

// joinWords joins phrase or local-part words; spaced keeps one space where
// the source had white space (display names), otherwise words are glued
// (obs-local-part "john . doe" is "john.doe").
func joinWords(ws []atok, spaced bool) string {
	if len(ws) == 1 {
		return ws[0].text
	}
	var b strings.Builder
	for i, w := range ws {
		if spaced && i > 0 && w.space {
			b.WriteByte(' ')
		}
		b.WriteString(w.text)
	}
	return b.String()
}
