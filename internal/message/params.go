package message

import (
	"sort"
	"strconv"
	"strings"
)

// Content-Type and Content-Disposition values are parsed by hand rather
// than with mime.ParseMediaType: IMAP reports parameters in their original
// order, and a broken parameter must not lose the others.

// isTSpecial reports RFC 2045 5.1 tspecials.
func isTSpecial(c byte) bool {
	return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}

func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && !isTSpecial(c)
}

// valueScanner walks a structured header value.
type valueScanner struct {
	s string
	i int
}

// skipCFWS skips white space and (nested) comments (RFC 5322 3.2.2).
func (v *valueScanner) skipCFWS() {
	for v.i < len(v.s) {
		switch c := v.s[v.i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			v.i++
		case c == '(':
			v.skipComment()
		default:
			return
		}
	}
}

func (v *valueScanner) skipComment() {
	depth := 0
	for v.i < len(v.s) {
		c := v.s[v.i]
		v.i++
		switch c {
		case '\\':
			v.i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return
			}
		}
	}
	if v.i > len(v.s) {
		v.i = len(v.s)
	}
}

func (v *valueScanner) token() string {
	start := v.i
	for v.i < len(v.s) && isTokenChar(v.s[v.i]) {
		v.i++
	}
	return v.s[start:v.i]
}

// quoted reads a quoted-string at v.i (which is a DQUOTE) and returns its
// content with quoted-pairs undone. An unterminated string runs to the end.
func (v *valueScanner) quoted() string {
	v.i++
	var b strings.Builder
	for v.i < len(v.s) {
		c := v.s[v.i]
		v.i++
		switch c {
		case '"':
			return b.String()
		case '\\':
			if v.i < len(v.s) {
				b.WriteByte(v.s[v.i])
				v.i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// paramValue reads a parameter value: a quoted-string, or (tolerating what
// real mailers send) everything up to the next ';' with a trailing comment
// removed, so that unquoted "boundary=----=_Part_1" and "name=my file.pdf"
// both survive.
func (v *valueScanner) paramValue() string {
	if v.i < len(v.s) && v.s[v.i] == '"' {
		return v.quoted()
	}
	start := v.i
	for v.i < len(v.s) && v.s[v.i] != ';' {
		v.i++
	}
	val := strings.TrimRight(v.s[start:v.i], " \t\r\n")
	if k := strings.Index(val, " ("); k >= 0 {
		val = strings.TrimRight(val[:k], " \t")
	} else if k := strings.Index(val, "\t("); k >= 0 {
		val = strings.TrimRight(val[:k], " \t")
	}
	return val
}

// parseMediaType parses a Content-Type value (RFC 2045 5.1). ok is false
// when no type/subtype pair can be read, in which case RFC 2045 5.2 says to
// assume text/plain; charset=us-ascii.
func parseMediaType(s string) (typ, sub string, params [][2]string, ok bool) {
	v := valueScanner{s: s}
	v.skipCFWS()
	typ = v.token()
	v.skipCFWS()
	if typ == "" || v.i >= len(v.s) || v.s[v.i] != '/' {
		return "", "", nil, false
	}
	v.i++
	v.skipCFWS()
	sub = v.token()
	if sub == "" {
		return "", "", nil, false
	}
	return strings.ToLower(typ), strings.ToLower(sub), v.params(), true
}

// parseDisposition parses a Content-Disposition value (RFC 2183).
func parseDisposition(s string) (disp string, params [][2]string) {
	v := valueScanner{s: s}
	v.skipCFWS()
	disp = strings.ToLower(v.token())
	if disp == "" {
		return "", nil
	}
	return disp, v.params()
}

// rawParam is one attribute=value as written, before RFC 2231 assembly.
type rawParam struct {
	name     string // lower case, without the RFC 2231 "*" markers
	section  int    // RFC 2231 3 continuation number, -1 if none
	extended bool   // RFC 2231 4 charset'language'%XX form
	value    string
}

// params reads ";"-separated attribute=value pairs and applies RFC 2231
// (continuations, charset and percent-encoding). The first occurrence of a
// name wins; the RFC 2231 form of a name wins over its plain form (mailers
// often send both, the plain one for old clients).
func (v *valueScanner) params() [][2]string {
	var raws []rawParam
	for v.i < len(v.s) && len(raws) < 1000 {
		v.skipCFWS()
		if v.i < len(v.s) && v.s[v.i] == ';' {
			v.i++
			continue
		}
		start := v.i
		attr := v.token()
		v.skipCFWS()
		if attr == "" || v.i >= len(v.s) || v.s[v.i] != '=' {
			// Garbage: skip to the next parameter.
			if v.i == start {
				v.i++
			}
			for v.i < len(v.s) && v.s[v.i] != ';' {
				v.i++
			}
			continue
		}
		v.i++
		v.skipCFWS()
		raws = append(raws, splitParamName(strings.ToLower(attr), v.paramValue()))
	}
	return assembleParams(raws)
}

func splitParamName(attr, value string) rawParam {
	p := rawParam{name: attr, section: -1, value: value}
	if strings.HasSuffix(p.name, "*") {
		p.extended = true
		p.name = p.name[:len(p.name)-1]
	}
	if k := strings.LastIndexByte(p.name, '*'); k > 0 {
		if n, err := strconv.Atoi(p.name[k+1:]); err == nil && n >= 0 && n < 1000 {
			p.section = n
			p.name = p.name[:k]
		}
	}
	return p
}

func assembleParams(raws []rawParam) [][2]string {
	if len(raws) == 0 {
		return nil
	}
	var order []string
	groups := map[string][]rawParam{}
	for _, r := range raws {
		if _, seen := groups[r.name]; !seen {
			order = append(order, r.name)
		}
		groups[r.name] = append(groups[r.name], r)
	}
	out := make([][2]string, 0, len(order))
	for _, name := range order {
		out = append(out, [2]string{name, assembleOne(groups[name])})
	}
	return out
}

// assembleOne builds one parameter value from its pieces.
func assembleOne(ps []rawParam) string {
	var rfc2231 []rawParam
	for _, p := range ps {
		if p.extended || p.section >= 0 {
			rfc2231 = append(rfc2231, p)
		}
	}
	if len(rfc2231) == 0 {
		return ps[0].value
	}
	// RFC 2231 3: sections are numbered from 0 and may arrive out of order;
	// stop at the first gap or duplicate.
	sort.SliceStable(rfc2231, func(i, j int) bool { return rfc2231[i].section < rfc2231[j].section })
	if rfc2231[0].section > 0 {
		return ps[0].value
	}
	var charset string
	var buf []byte
	for i, p := range rfc2231 {
		want := i
		if rfc2231[0].section < 0 {
			want = -1 // "name*=" alone: a single unnumbered extended value
		}
		if p.section != want || (want == -1 && i > 0) {
			break
		}
		val := p.value
		if p.extended {
			if i == 0 {
				// RFC 2231 4: charset'language'encoded-text.
				if a := strings.IndexByte(val, '\''); a >= 0 {
					if b := strings.IndexByte(val[a+1:], '\''); b >= 0 {
						charset = val[:a]
						val = val[a+1+b+1:]
					}
				}
			}
			buf = append(buf, percentDecode(val)...)
		} else {
			buf = append(buf, val...)
		}
	}
	return toUTF8(charset, buf)
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// parseLanguage parses Content-Language (RFC 3282): a comma-separated list
// of language tags.
func parseLanguage(s string) []string {
	var out []string
	v := valueScanner{s: s}
	for v.i < len(v.s) && len(out) < 100 {
		v.skipCFWS()
		start := v.i
		for v.i < len(v.s) && v.s[v.i] != ',' && v.s[v.i] != '(' && !isWSP(v.s[v.i]) {
			v.i++
		}
		if tag := v.s[start:v.i]; tag != "" {
			out = append(out, tag)
		}
		v.skipCFWS()
		if v.i < len(v.s) && v.s[v.i] == ',' {
			v.i++
		} else if v.i < len(v.s) && v.i == start {
			v.i++
		}
	}
	return out
}

// parseEncoding reads the Content-Transfer-Encoding mechanism (RFC 2045 6.1),
// upper case; "" when absent or not a token.
func parseEncoding(s string) string {
	v := valueScanner{s: s}
	v.skipCFWS()
	return strings.ToUpper(v.token())
}
