package imapwire

import (
	"strconv"
	"strings"
)

// fetchMacros are the macros of RFC 9051 6.4.5 (and RFC 3501 6.4.5); they
// are only valid alone, not inside a list.
var fetchMacros = map[string][]string{
	"ALL":  {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"},
	"FAST": {"FLAGS", "INTERNALDATE", "RFC822.SIZE"},
	"FULL": {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"},
}

// simpleFetchAtts are the fetch-att names without a section.
var simpleFetchAtts = map[string]bool{
	"ENVELOPE": true, "FLAGS": true, "INTERNALDATE": true,
	"RFC822": true, "RFC822.HEADER": true, "RFC822.SIZE": true, "RFC822.TEXT": true,
	"BODY": true, "BODYSTRUCTURE": true, "UID": true,
	"MODSEQ":   true, // RFC 7162 3.1.4.1
	"EMAILID":  true, // RFC 8474 5
	"THREADID": true, // RFC 8474 5
	"SAVEDATE": true, // RFC 8514 4.3
}

func isFetchNameChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '.'
}

// FetchItems reads the attributes of FETCH (RFC 9051 6.4.5): a macro (ALL,
// FAST, FULL, expanded), one fetch-att, or a parenthesised list of them.
// Fetch modifiers (RFC 7162 CHANGEDSINCE...) that follow are left to the
// caller.
func (d *Decoder) FetchItems() ([]FetchItem, error) {
	d.begin()
	var items []FetchItem
	if d.byteAt(d.si, d.pos) == '(' {
		err := d.List(func() error {
			it, err := d.fetchAtt(false)
			if err != nil {
				return err
			}
			items = append(items, it)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, syntaxErr("empty fetch attribute list")
		}
		return items, nil
	}
	r := d.rest()
	i := 0
	for i < len(r) && isFetchNameChar(r[i]) {
		i++
	}
	if m, ok := fetchMacros[upperASCII(string(r[:i]))]; ok && (i == len(r) || r[i] == ' ') {
		d.pos += i
		for _, name := range m {
			items = append(items, FetchItem{Name: name})
		}
		return items, nil
	}
	it, err := d.fetchAtt(true)
	if err != nil {
		return nil, err
	}
	return []FetchItem{it}, nil
}

// fetchAtt reads one fetch-att. top tells whether it stands alone, where
// "PREVIEW (" may also start the fetch modifiers.
func (d *Decoder) fetchAtt(top bool) (FetchItem, error) {
	name := upperASCII(string(d.takeWhile(isFetchNameChar)))
	if name == "" {
		return FetchItem{}, syntaxErr("expected fetch attribute")
	}
	hasSection := d.byteAt(d.si, d.pos) == '['
	switch name {
	case "BODY", "BODY.PEEK":
		if !hasSection {
			if name == "BODY" {
				return FetchItem{Name: "BODY"}, nil
			}
			return FetchItem{}, syntaxErr("BODY.PEEK needs a section")
		}
		sec, err := d.section(false)
		if err != nil {
			return FetchItem{}, err
		}
		it := FetchItem{Name: "BODY", Section: sec, Peek: name == "BODY.PEEK"}
		it.Partial, err = d.partial()
		return it, err
	case "BINARY", "BINARY.PEEK", "BINARY.SIZE": // RFC 3516 6
		if !hasSection {
			return FetchItem{}, syntaxErr(name + " needs a section")
		}
		sec, err := d.section(true)
		if err != nil {
			return FetchItem{}, err
		}
		if name == "BINARY.SIZE" {
			return FetchItem{Name: name, Section: sec}, nil
		}
		it := FetchItem{Name: "BINARY", Section: sec, Peek: name == "BINARY.PEEK"}
		it.Partial, err = d.partial()
		return it, err
	case "PREVIEW": // RFC 8970 6: "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"]
		it := FetchItem{Name: name}
		if hasSection {
			break
		}
		r := d.rest()
		if len(r) < 2 || r[0] != ' ' || r[1] != '(' {
			return it, nil
		}
		if top {
			// Alone, "PREVIEW (CHANGEDSINCE 1)" is PREVIEW then fetch
			// modifiers: only "(LAZY ..." belongs to PREVIEW.
			m := r[2:]
			i := 0
			for i < len(m) && isAtomChar(m[i]) {
				i++
			}
			if !strings.EqualFold(string(m[:i]), "LAZY") {
				return it, nil
			}
		}
		d.pos++
		err := d.List(func() error {
			a, err := d.Atom()
			if err != nil {
				return err
			}
			if !strings.EqualFold(a, "LAZY") {
				return syntaxErr("unknown PREVIEW modifier " + a)
			}
			it.Lazy = true
			return nil
		})
		if err != nil {
			return FetchItem{}, err
		}
		if !it.Lazy {
			return FetchItem{}, syntaxErr("empty PREVIEW modifier list")
		}
		return it, nil
	default:
		if simpleFetchAtts[name] && !hasSection {
			return FetchItem{Name: name}, nil
		}
	}
	return FetchItem{}, syntaxErr("unknown fetch attribute " + name)
}

// section reads "[" section-spec "]" (RFC 9051 9):
//
//	section-spec    = section-msgtext / (section-part ["." section-text])
//	section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
//	section-text    = section-msgtext / "MIME"
//
// or, with binary, section-binary = "[" [section-part] "]" (RFC 3516 6).
func (d *Decoder) section(binary bool) (*Section, error) {
	d.pos++ // "["
	sec := &Section{}
	needSpec := false
	for isDigit(d.byteAt(d.si, d.pos)) {
		n, err := d.number(1<<32 - 1)
		if err != nil || n == 0 {
			return nil, syntaxErr("invalid section part number")
		}
		if len(sec.Path) >= 100 {
			return nil, syntaxErr("section path too deep")
		}
		sec.Path = append(sec.Path, int(n))
		if d.byteAt(d.si, d.pos) != '.' {
			break
		}
		d.pos++
		if !isDigit(d.byteAt(d.si, d.pos)) {
			needSpec = true
			break
		}
	}
	if !binary && (len(sec.Path) == 0 || needSpec) {
		spec := upperASCII(string(d.takeWhile(isFetchNameChar)))
		switch spec {
		case "":
			if needSpec {
				return nil, syntaxErr("expected section text after part number")
			}
		case "HEADER", "TEXT":
		case "MIME":
			if len(sec.Path) == 0 {
				return nil, syntaxErr("MIME needs a part number")
			}
		case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
			if err := d.SP(); err != nil {
				return nil, err
			}
			err := d.List(func() error {
				f, err := d.AString()
				if err != nil {
					return err
				}
				if !validFieldName(f) {
					return syntaxErr("invalid header field name")
				}
				sec.Fields = append(sec.Fields, f)
				return nil
			})
			if err != nil {
				return nil, err
			}
			if len(sec.Fields) == 0 {
				return nil, syntaxErr("empty header list")
			}
		default:
			return nil, syntaxErr("unknown section " + spec)
		}
		sec.Specifier = spec
	}
	if d.byteAt(d.si, d.pos) != ']' {
		return nil, syntaxErr("expected ] after section")
	}
	d.pos++
	return sec, nil
}

// validFieldName accepts header field names that can be echoed in a quoted
// string: no controls, no 8-bit, no ':' (RFC 5322 3.6.8 ftext, plus space).
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == ':' {
			return false
		}
	}
	return true
}

// partial reads an optional "<" number "." nz-number ">" (RFC 9051 9
// partial, number64 there). Values past 2^32-1 are clamped: no message is
// that large, so the result is the same.
func (d *Decoder) partial() (*Partial, error) {
	if d.byteAt(d.si, d.pos) != '<' {
		return nil, nil
	}
	d.pos++
	off, err := d.number(1<<63 - 1)
	if err != nil {
		return nil, err
	}
	if d.byteAt(d.si, d.pos) != '.' {
		return nil, syntaxErr("expected . in partial")
	}
	d.pos++
	cnt, err := d.number(1<<63 - 1)
	if err != nil {
		return nil, err
	}
	if cnt == 0 {
		return nil, syntaxErr("partial count must not be zero")
	}
	if d.byteAt(d.si, d.pos) != '>' {
		return nil, syntaxErr("expected > after partial")
	}
	d.pos++
	return &Partial{Offset: clamp32(off), Count: clamp32(cnt)}, nil
}

func clamp32(n uint64) uint32 {
	if n > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(n)
}

// String returns the section spec as it appears in a FETCH response between
// the brackets (RFC 9051 7.5.2), e.g. `1.2.HEADER.FIELDS (From Subject)`;
// field names are kept as the client sent them, quoted only if needed.
func (s *Section) String() string {
	if s == nil {
		return ""
	}
	var b []byte
	for i, p := range s.Path {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, int64(p), 10)
	}
	if s.Specifier != "" {
		if len(s.Path) > 0 {
			b = append(b, '.')
		}
		b = append(b, s.Specifier...)
	}
	if len(s.Fields) > 0 {
		b = append(b, " ("...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendAString(b, f)
		}
		b = append(b, ')')
	}
	return string(b)
}

// appendAString appends s as an atom when it is one, else quoted (callers
// only pass strings without CR, LF or NUL).
func appendAString(b []byte, s string) []byte {
	atom := s != ""
	for i := 0; i < len(s) && atom; i++ {
		atom = isAStringChar(s[i])
	}
	if atom {
		return append(b, s...)
	}
	return appendQuoted(b, s)
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
