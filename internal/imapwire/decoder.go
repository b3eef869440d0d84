package imapwire

import (
	"os"
	"strings"
	"unicode/utf8"
)

// Character classes of RFC 9051 9 (formal syntax).
const (
	clAtom    = 1 << iota // ATOM-CHAR
	clAString             // ASTRING-CHAR = ATOM-CHAR / resp-specials
	clList                // list-char = ATOM-CHAR / list-wildcards / resp-specials
	clTag                 // tag = 1*<any ASTRING-CHAR except "+">
)

var charClass = func() (t [256]uint8) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = clAtom | clAString | clList | clTag
	}
	// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
	// quoted-specials / resp-specials
	for _, c := range `(){%*"\]` {
		t[c] = 0
	}
	t['%'] = clList
	t['*'] = clList
	t[']'] = clAString | clList | clTag
	t['+'] &^= clTag
	return t
}()

func isAtomChar(c byte) bool    { return charClass[c]&clAtom != 0 }
func isAStringChar(c byte) bool { return charClass[c]&clAString != 0 }
func isListChar(c byte) bool    { return charClass[c]&clList != 0 }
func isTagChar(c byte) bool     { return charClass[c]&clTag != 0 }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }

// maxStringLiteral bounds a literal read as a string (AString, String...):
// larger ones are only useful as APPEND messages, read with Literal.
const maxStringLiteral = 16 << 20

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'a' && c <= 'z' {
					b[j] = c - 'a' + 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func syntaxErr(msg string) error { return &SyntaxError{Msg: msg} }

// Decoder reads the arguments of one command (see api.go). The text of the
// command is split in segments, each followed by a literal except the last,
// so quoted strings and atoms never span a literal.
type Decoder struct {
	segs  []segment
	si    int  // current segment
	pos   int  // offset in segs[si].text
	start bool // nothing consumed yet (see Command.Args)
}

// seg returns the current segment.
func (d *Decoder) seg() *segment { return &d.segs[d.si] }

// rest returns the unread text of the current segment.
func (d *Decoder) rest() []byte { return d.segs[d.si].text[d.pos:] }

// atLiteral tells whether the next token is a literal.
func (d *Decoder) atLiteral() bool {
	s := d.seg()
	return d.pos == len(s.text) && s.lit != nil
}

// byteAt returns the byte at (si, pos): '{' or '~' for a literal, 0 at end.
func (d *Decoder) byteAt(si, pos int) byte {
	s := &d.segs[si]
	if pos < len(s.text) {
		return s.text[pos]
	}
	if s.lit != nil {
		if s.lit.Binary {
			return '~'
		}
		return '{'
	}
	return 0
}

// begin is called by token methods: it skips the SP after the command name
// when the caller did not consume it with SP().
func (d *Decoder) begin() {
	if d.start {
		d.start = false
		if d.byteAt(d.si, d.pos) == ' ' {
			d.pos++
		}
	}
}

// SP consumes exactly one space.
func (d *Decoder) SP() error {
	d.start = false
	if r := d.rest(); len(r) > 0 && r[0] == ' ' {
		d.pos++
		return nil
	}
	return syntaxErr("expected space")
}

// More tells whether arguments remain.
func (d *Decoder) More() bool {
	s := d.seg()
	return d.pos < len(s.text) || s.lit != nil
}

// Peek returns the next byte ('{' or '~' before a literal), 0 at the end.
func (d *Decoder) Peek() byte {
	pos := d.pos
	if d.start && d.byteAt(d.si, pos) == ' ' {
		pos++
	}
	return d.byteAt(d.si, pos)
}

// PeekSP tells whether the next byte is a space, without consuming it.
func (d *Decoder) PeekSP() bool { return d.byteAt(d.si, d.pos) == ' ' }

// End returns an error if arguments remain.
func (d *Decoder) End() error {
	if d.More() {
		return syntaxErr("unexpected extra arguments")
	}
	return nil
}

// takeWhile consumes the bytes of the current segment in class cl.
func (d *Decoder) takeWhile(ok func(byte) bool) []byte {
	r := d.rest()
	i := 0
	for i < len(r) && ok(r[i]) {
		i++
	}
	d.pos += i
	return r[:i]
}

// Atom reads 1*ATOM-CHAR.
func (d *Decoder) Atom() (string, error) {
	d.begin()
	a := d.takeWhile(isAtomChar)
	if len(a) == 0 {
		return "", syntaxErr("expected atom")
	}
	return string(a), nil
}

// AString reads an astring: 1*ASTRING-CHAR, a quoted string or a literal.
func (d *Decoder) AString() (string, error) {
	d.begin()
	if d.atLiteral() || d.byteAt(d.si, d.pos) == '"' {
		return d.str()
	}
	a := d.takeWhile(isAStringChar)
	if len(a) == 0 {
		return "", syntaxErr("expected astring")
	}
	return string(a), nil
}

// String reads a quoted string or a literal.
func (d *Decoder) String() (string, error) {
	d.begin()
	return d.str()
}

func (d *Decoder) str() (string, error) {
	if d.atLiteral() {
		return d.literalString()
	}
	if d.byteAt(d.si, d.pos) == '"' {
		return d.quoted()
	}
	return "", syntaxErr("expected string")
}

// quoted reads DQUOTE *QUOTED-CHAR DQUOTE. 8-bit bytes are accepted (UTF-8
// in RFC 9051 and RFC 6855; CHARSET strings of SEARCH in RFC 3501); CR, LF
// and NUL are not, and "\" may only escape '"' and "\".
func (d *Decoder) quoted() (string, error) {
	r := d.rest()
	var b []byte // nil until an escape is seen
	for i := 1; i < len(r); i++ {
		switch c := r[i]; c {
		case '"':
			d.pos += i + 1
			if b == nil {
				return string(r[1:i]), nil
			}
			return string(b), nil
		case '\\':
			if i+1 >= len(r) || (r[i+1] != '"' && r[i+1] != '\\') {
				return "", syntaxErr("invalid escape in quoted string")
			}
			if b == nil {
				b = append(make([]byte, 0, len(r)), r[1:i]...)
			}
			i++
			b = append(b, r[i])
		case '\r', '\n', 0:
			return "", syntaxErr("invalid character in quoted string")
		default:
			if b != nil {
				b = append(b, c)
			}
		}
	}
	return "", syntaxErr("unterminated quoted string")
}

// literalString reads a (non-binary) literal as a string.
func (d *Decoder) literalString() (string, error) {
	s := d.seg()
	if !d.atLiteral() {
		return "", syntaxErr("expected literal")
	}
	if s.lit.Binary {
		return "", syntaxErr("literal8 not allowed here")
	}
	if s.nul {
		return "", syntaxErr("NUL in literal")
	}
	l := s.lit
	var v string
	if l.Path == "" {
		v = string(l.Data)
	} else {
		if l.Size > maxStringLiteral {
			return "", syntaxErr("string literal too long")
		}
		b, err := os.ReadFile(l.Path)
		if err != nil {
			return "", syntaxErr("cannot read literal")
		}
		v = string(b)
	}
	d.si++
	d.pos = 0
	return v, nil
}

// Literal reads a literal, {n}, {n+}, ~{n} or ~{n+}, for APPEND messages.
// The Literal belongs to the Command: Close removes its file, unless the
// caller moved it away first (os.Rename), which saves a copy. A NUL byte is
// only allowed in literal8 (RFC 9051 9: CHAR8 excludes NUL; RFC 3516 4.2).
func (d *Decoder) Literal() (*Literal, error) {
	d.begin()
	if !d.atLiteral() {
		return nil, syntaxErr("expected literal")
	}
	s := d.seg()
	if s.nul && !s.lit.Binary {
		return nil, syntaxErr("NUL in literal; use literal8 (~{n})")
	}
	l := s.lit
	d.si++
	d.pos = 0
	return l, nil
}

// NString reads NIL or a string.
func (d *Decoder) NString() (string, bool, error) {
	d.begin()
	if d.isNIL() {
		d.pos += 3
		return "", true, nil
	}
	s, err := d.str()
	return s, false, err
}

// isNIL tells whether the next token is the atom NIL.
func (d *Decoder) isNIL() bool {
	r := d.rest()
	return len(r) >= 3 && strings.EqualFold(string(r[:3]), "NIL") && (len(r) == 3 || !isAtomChar(r[3]))
}

// Number reads a number that fits in 32 bits (RFC 9051 number, nz-number).
func (d *Decoder) Number() (uint32, error) {
	n, err := d.number(1<<32 - 1)
	return uint32(n), err
}

// Number64 reads a number64 (RFC 9051: at most 2^63-1).
func (d *Decoder) Number64() (uint64, error) {
	return d.number(1<<63 - 1)
}

func (d *Decoder) number(max uint64) (uint64, error) {
	d.begin()
	digits := d.takeWhile(isDigit)
	if len(digits) == 0 {
		return 0, syntaxErr("expected number")
	}
	var n uint64
	for _, c := range digits {
		v := uint64(c - '0')
		if n > (max-v)/10 {
			return 0, syntaxErr("number too large")
		}
		n = n*10 + v
	}
	return n, nil
}

// List reads "(" [item *(SP item)] ")", calling each to read every item.
func (d *Decoder) List(each func() error) error {
	d.begin()
	if r := d.rest(); len(r) == 0 || r[0] != '(' {
		return syntaxErr("expected (")
	}
	d.pos++
	if r := d.rest(); len(r) > 0 && r[0] == ')' {
		d.pos++
		return nil
	}
	for {
		if err := each(); err != nil {
			return err
		}
		r := d.rest()
		if len(r) > 0 && r[0] == ')' {
			d.pos++
			return nil
		}
		if err := d.SP(); err != nil {
			return syntaxErr("expected space or )")
		}
	}
}

// closeParen consumes ")" if it is next.
func (d *Decoder) closeParen() bool {
	if r := d.rest(); len(r) > 0 && r[0] == ')' {
		d.pos++
		return true
	}
	return false
}

// inboxPrefix is "INBOX" followed by the hierarchy separator of the store
// (store.Separator; imapwire does not import the store).
const inboxPrefix = "INBOX/"

// Mailbox reads a mailbox name (astring). Unless utf8 is set (UTF8=ACCEPT or
// IMAP4rev2 enabled), the name is decoded from modified UTF-7 (RFC 3501
// 5.1.3); with utf8 it must be valid UTF-8 and is taken as is (RFC 9051
// 5.1, RFC 6855 3). "INBOX" is case-insensitive (RFC 9051 5.1): any case
// becomes "INBOX", and so does the "inbox/" prefix of its children.
func (d *Decoder) Mailbox(utf8 bool) (string, error) {
	s, err := d.AString()
	if err != nil {
		return "", err
	}
	return normMailbox(s, utf8)
}

// ListMailbox reads a list-mailbox, a LIST or LSUB pattern: 1*list-char
// (atom chars plus "%", "*" and "]") or a string, decoded like Mailbox.
func (d *Decoder) ListMailbox(utf8 bool) (string, error) {
	d.begin()
	var s string
	if d.atLiteral() || d.byteAt(d.si, d.pos) == '"' {
		v, err := d.str()
		if err != nil {
			return "", err
		}
		s = v
	} else {
		a := d.takeWhile(isListChar)
		if len(a) == 0 {
			return "", syntaxErr("expected mailbox pattern")
		}
		s = string(a)
	}
	return normMailbox(s, utf8)
}

func normMailbox(s string, isUTF8 bool) (string, error) {
	if isUTF8 {
		if !utf8.ValidString(s) {
			return "", syntaxErr("mailbox name is not valid UTF-8")
		}
	} else {
		v, err := DecodeMailboxUTF7(s)
		if err != nil {
			return "", err
		}
		s = v
	}
	if len(s) >= 5 && strings.EqualFold(s[:5], "INBOX") {
		if len(s) == 5 {
			return "INBOX", nil
		}
		if s[5] == inboxPrefix[5] && s[:5] != "INBOX" {
			return inboxPrefix + s[6:], nil
		}
	}
	return s, nil
}

// systemFlags are the flags of RFC 9051 2.3.2 (and \Recent of RFC 3501),
// by lower-case name.
var systemFlags = map[string]string{
	`\seen`:     `\Seen`,
	`\answered`: `\Answered`,
	`\flagged`:  `\Flagged`,
	`\deleted`:  `\Deleted`,
	`\draft`:    `\Draft`,
	`\recent`:   `\Recent`,
}

// Flag reads a flag: "\" atom (system flags in canonical case, other
// flag-extensions as sent) or a keyword atom. "\*" (flag-perm) only appears
// in server responses and is rejected.
func (d *Decoder) Flag() (string, error) {
	d.begin()
	r := d.rest()
	if len(r) > 0 && r[0] == '\\' {
		d.pos++
		a := d.takeWhile(isAtomChar)
		if len(a) == 0 {
			return "", syntaxErr(`expected flag after \`)
		}
		f := `\` + string(a)
		if c, ok := systemFlags[strings.ToLower(f)]; ok {
			return c, nil
		}
		return f, nil
	}
	a := d.takeWhile(isAtomChar)
	if len(a) == 0 {
		return "", syntaxErr("expected flag")
	}
	return string(a), nil
}

// FlagList reads "(" [flag *(SP flag)] ")" or, as STORE allows (RFC 9051
// 6.4.6 store-att-flags), flag *(SP flag) without parentheses. Duplicates
// (flags are case-insensitive) are dropped, keeping the first spelling. The
// result is non-nil even when empty.
func (d *Decoder) FlagList() ([]string, error) {
	d.begin()
	flags := []string{}
	add := func() error {
		f, err := d.Flag()
		if err != nil {
			return err
		}
		for _, g := range flags {
			if strings.EqualFold(f, g) {
				return nil
			}
		}
		flags = append(flags, f)
		return nil
	}
	if d.byteAt(d.si, d.pos) == '(' {
		if err := d.List(add); err != nil {
			return nil, err
		}
		return flags, nil
	}
	if err := add(); err != nil {
		return nil, err
	}
	for {
		r := d.rest()
		if len(r) < 2 || r[0] != ' ' || (r[1] != '\\' && !isAtomChar(r[1])) {
			return flags, nil
		}
		d.pos++
		if err := add(); err != nil {
			return nil, err
		}
	}
}
