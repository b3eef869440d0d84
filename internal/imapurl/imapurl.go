// Package imapurl parses and formats IMAP URLs (RFC 5092) as CATENATE
// (RFC 4469) and URLAUTH (RFC 4467) use them: absolute URLs
// (imap://user;AUTH=*@host:port/mailbox;UIDVALIDITY=n/;UID=m/;SECTION=x/;PARTIAL=o.l;EXPIRE=t;URLAUTH=access:mech:token)
// and the relative forms of RFC 5092 7.2 ("/mailbox...", ";UID=m...",
// ";SECTION=x...", ";PARTIAL=o.l"). Only message and message-part URLs
// are parsed: search URLs ("?") and the list commands of RFC 2192 are
// refused, because nothing in Casier fetches them.
//
// Parsing is pure and never panics; every component is percent-decoded,
// and the mailbox name is UTF-8 (RFC 5092 3.2 replaced modified UTF-7).
package imapurl

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrSyntax wraps every parse error.
var ErrSyntax = errors.New("imapurl: malformed IMAP URL")

func syntaxErr(msg string) error { return &parseError{msg} }

type parseError struct{ msg string }

func (e *parseError) Error() string { return "imapurl: " + e.msg }
func (e *parseError) Unwrap() error { return ErrSyntax }

// Partial is ;PARTIAL=offset[.length] (RFC 5092 5: the length is
// optional, meaning "to the end").
type Partial struct {
	Offset uint32
	Length uint32 // 0: to the end
}

// URL is a parsed IMAP URL. Which parts are present depends on the form:
// an absolute URL has Host; a relative one may start at the mailbox, the
// UID, the section or the partial (see Resolve).
type URL struct {
	User     string // decoded enc-user, "" if absent
	Auth     string // ";AUTH=" value: "*" or a mechanism; "" if absent
	Host     string // as written (an IPv6 literal keeps its brackets); "" for a relative URL
	Port     uint16 // 0 if absent
	Absolute bool   // had "imap://"

	Mailbox     string // decoded UTF-8 name; "" if absent
	UIDValidity uint32 // 0 if absent
	UID         uint32 // 0 if absent
	Section     string // decoded section text, e.g. "1.2.HEADER.FIELDS (FROM)"; "" if absent
	Partial     *Partial

	// URLAUTH (RFC 4467, RFC 5092 6): Access is "anonymous", "authuser",
	// "user+<name>" or "submit+<name>" (name decoded); "" when the URL has
	// no ;URLAUTH=. Mech and Token are empty for a URL rump.
	Expire time.Time // zero if absent
	Access string
	Mech   string
	Token  string // lower-case hex as written

	// Rump is the text of the URL up to the end of ";URLAUTH=access", as
	// written: what an URLAUTH token is computed over (RFC 4467 7).
	Rump string
}

// HasURLAuth tells whether the URL carries ";URLAUTH=".
func (u *URL) HasURLAuth() bool { return u.Access != "" }

// Parse parses an absolute or relative IMAP URL.
func Parse(s string) (*URL, error) {
	if len(s) > 8192 {
		return nil, syntaxErr("URL too long")
	}
	u := &URL{}
	rest := s
	if len(s) >= 7 && strings.EqualFold(s[:7], "imap://") {
		u.Absolute = true
		rest = s[7:]
		slash := strings.IndexByte(rest, '/')
		server := rest
		if slash >= 0 {
			server, rest = rest[:slash], rest[slash:]
		} else {
			rest = ""
		}
		if err := u.parseServer(server); err != nil {
			return nil, err
		}
		if rest == "" || rest == "/" {
			return u, nil
		}
	} else if strings.HasPrefix(s, "//") {
		return nil, syntaxErr("network-path references are not supported")
	}
	if rest == "" {
		return nil, syntaxErr("empty URL")
	}
	// segs are the "/"-separated pieces after the server; the mailbox may
	// itself contain "/" (the hierarchy separator), so it runs until the
	// first piece that starts with ";".
	p := &pathParser{s: rest}
	if rest[0] == '/' {
		p.pos = 1
		if err := p.mailbox(u); err != nil {
			return nil, err
		}
	} else if rest[0] != ';' {
		return nil, syntaxErr("relative URL must start with / or ;")
	}
	if err := p.params(u); err != nil {
		return nil, err
	}
	if u.HasURLAuth() {
		// RFC 4467 3: only an absolute URL to a message or part with a
		// user names what an URLAUTH authorizes.
		if !u.Absolute || u.User == "" || u.UID == 0 || u.Mailbox == "" {
			return nil, syntaxErr("URLAUTH needs an absolute message URL with a user")
		}
		u.Rump = s[:len(s)-len(rest)+p.rumpEnd]
	}
	return u, nil
}

// parseServer parses [iuserinfo "@"] host [":" port].
func (u *URL) parseServer(s string) error {
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		info := s[:at]
		s = s[at+1:]
		user := info
		if i := indexFold(info, ";AUTH="); i >= 0 {
			user = info[:i]
			u.Auth = info[i+6:]
			if u.Auth == "" {
				return syntaxErr("empty AUTH")
			}
			if u.Auth != "*" {
				a, err := decode(u.Auth, isAChar)
				if err != nil {
					return err
				}
				u.Auth = a
			}
		}
		if user != "" {
			v, err := decode(user, isAChar)
			if err != nil {
				return err
			}
			u.User = v
		}
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return syntaxErr("unterminated IPv6 literal")
		}
		host, port = s[:end+1], s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return syntaxErr("junk after IPv6 literal")
			}
			port = port[1:]
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
	}
	if host == "" {
		return syntaxErr("missing host")
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(isUnreserved(c) || c == '[' || c == ']' || c == ':' || c == '%' || isSubDelim(c)) {
			return syntaxErr("invalid character in host")
		}
	}
	u.Host = host
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return syntaxErr("invalid port")
		}
		u.Port = uint16(n)
	}
	return nil
}

// pathParser walks the path part of a URL.
type pathParser struct {
	s       string
	pos     int
	rumpEnd int
}

// mailbox reads enc-mailbox [";UIDVALIDITY=" nz-number].
func (p *pathParser) mailbox(u *URL) error {
	start := p.pos
	end := len(p.s)
	// The mailbox ends at ";" (UIDVALIDITY, or the "/;" of a UID) or "?".
	if i := strings.IndexAny(p.s[start:], ";?"); i >= 0 {
		end = start + i
	}
	raw := p.s[start:end]
	if end < len(p.s) && p.s[end] == '?' {
		return syntaxErr("search URLs are not supported")
	}
	if strings.HasSuffix(raw, "/") && end < len(p.s) {
		// "/INBOX/;UID=20": the "/" belongs to the UID part.
		raw = raw[:len(raw)-1]
		end--
	}
	if raw == "" {
		return syntaxErr("empty mailbox name")
	}
	name, err := decode(raw, isBChar)
	if err != nil {
		return err
	}
	if !utf8.ValidString(name) {
		return syntaxErr("mailbox name is not UTF-8")
	}
	u.Mailbox = name
	p.pos = end
	if hasPrefixFold(p.s[p.pos:], ";UIDVALIDITY=") {
		p.pos += len(";UIDVALIDITY=")
		n, err := p.nzNumber()
		if err != nil {
			return err
		}
		u.UIDValidity = n
	}
	return nil
}

// params reads the ";UID=", ";SECTION=", ";PARTIAL=", ";EXPIRE=" and
// ";URLAUTH=" parts, each but the last two after a "/" (absent at the
// start of a relative URL).
func (p *pathParser) params(u *URL) error {
	stage := 0 // 1 after UID, 2 after SECTION, 3 after PARTIAL
	for p.pos < len(p.s) {
		rest := p.s[p.pos:]
		slash := false
		if rest[0] == '/' {
			slash = true
			rest = rest[1:]
		}
		switch {
		case hasPrefixFold(rest, ";UID=") && stage < 1:
			if !slash && p.pos > 0 {
				return syntaxErr("expected /;UID=")
			}
			p.advance(slash, len(";UID="))
			n, err := p.nzNumber()
			if err != nil {
				return err
			}
			u.UID, stage = n, 1
		case hasPrefixFold(rest, ";SECTION=") && stage < 2:
			if !slash && p.pos > 0 {
				return syntaxErr("expected /;SECTION=")
			}
			p.advance(slash, len(";SECTION="))
			raw := p.component()
			if raw == "" {
				return syntaxErr("empty SECTION")
			}
			sec, err := decode(raw, isBChar)
			if err != nil {
				return err
			}
			u.Section, stage = sec, 2
		case hasPrefixFold(rest, ";PARTIAL=") && stage < 3:
			if !slash && p.pos > 0 {
				return syntaxErr("expected /;PARTIAL=")
			}
			p.advance(slash, len(";PARTIAL="))
			raw := p.component()
			part, err := parsePartial(raw)
			if err != nil {
				return err
			}
			u.Partial, stage = part, 3
		case !slash && (hasPrefixFold(rest, ";EXPIRE=") || hasPrefixFold(rest, ";URLAUTH=")) && stage >= 1:
			return p.urlauth(u)
		default:
			return syntaxErr("unexpected " + quoteShort(rest))
		}
	}
	return nil
}

func (p *pathParser) advance(slash bool, n int) {
	if slash {
		p.pos++
	}
	p.pos += n
}

// component returns the text up to the next ";" (never part of a bchar),
// leaving out the "/" that introduces the next component (or the end).
func (p *pathParser) component() string {
	start := p.pos
	i := strings.IndexByte(p.s[start:], ';')
	if i < 0 {
		p.pos = len(p.s)
	} else {
		p.pos = start + i
		if i > 0 && p.s[p.pos-1] == '/' {
			p.pos--
		}
	}
	return p.s[start:p.pos]
}

// urlauth reads [";EXPIRE=" date-time] ";URLAUTH=" access [":" mech ":" token].
func (p *pathParser) urlauth(u *URL) error {
	if hasPrefixFold(p.s[p.pos:], ";EXPIRE=") {
		p.pos += len(";EXPIRE=")
		raw := p.component()
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return syntaxErr("invalid EXPIRE date-time")
		}
		u.Expire = t
	}
	if !hasPrefixFold(p.s[p.pos:], ";URLAUTH=") {
		return syntaxErr("EXPIRE without URLAUTH")
	}
	p.pos += len(";URLAUTH=")
	rest := p.s[p.pos:]
	access, verifier, hasVerifier := strings.Cut(rest, ":")
	p.rumpEnd = p.pos + len(access)
	switch low := strings.ToLower(access); {
	case low == "anonymous" || low == "authuser":
		u.Access = low
	case strings.HasPrefix(low, "user+") || strings.HasPrefix(low, "submit+"):
		plus := strings.IndexByte(access, '+')
		name, err := decode(access[plus+1:], isAChar)
		if err != nil || name == "" {
			return syntaxErr("invalid URLAUTH access user")
		}
		u.Access = low[:plus+1] + name
	default:
		return syntaxErr("invalid URLAUTH access")
	}
	if hasVerifier {
		mech, token, ok := strings.Cut(verifier, ":")
		if !ok || mech == "" || len(token) < 32 {
			return syntaxErr("invalid URLAUTH verifier")
		}
		for i := 0; i < len(mech); i++ {
			if c := mech[i]; !(isAlnum(c) || c == '-' || c == '.') {
				return syntaxErr("invalid URLAUTH mechanism")
			}
		}
		for i := 0; i < len(token); i++ {
			if !isHex(token[i]) {
				return syntaxErr("invalid URLAUTH token")
			}
		}
		u.Mech, u.Token = strings.ToUpper(mech), strings.ToLower(token)
	}
	p.pos = len(p.s)
	return nil
}

// nzNumber reads a non-zero 32-bit decimal number.
func (p *pathParser) nzNumber() (uint32, error) {
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	n, err := strconv.ParseUint(p.s[start:p.pos], 10, 32)
	if err != nil || n == 0 || p.s[start] == '0' {
		return 0, syntaxErr("expected a non-zero number")
	}
	return uint32(n), nil
}

// parsePartial parses partial-range = number ["." nz-number].
func parsePartial(s string) (*Partial, error) {
	off, length, hasLen := strings.Cut(s, ".")
	o, err := strconv.ParseUint(off, 10, 32)
	if err != nil || off == "" || off[0] == '+' {
		return nil, syntaxErr("invalid PARTIAL offset")
	}
	p := &Partial{Offset: uint32(o)}
	if hasLen {
		l, err := strconv.ParseUint(length, 10, 32)
		if err != nil || l == 0 || length[0] == '+' {
			return nil, syntaxErr("invalid PARTIAL length")
		}
		p.Length = uint32(l)
	}
	return p, nil
}

// Resolve applies a relative URL ref to base (RFC 5092 7.2, RFC 3986 5.2
// restricted to IMAP's hierarchy): what ref leaves out before its first
// component comes from base, and nothing after it.
func Resolve(base, ref *URL) *URL {
	if ref.Absolute {
		return ref
	}
	out := *ref
	out.Absolute, out.User, out.Auth, out.Host, out.Port = base.Absolute, base.User, base.Auth, base.Host, base.Port
	if ref.Mailbox != "" {
		return &out
	}
	out.Mailbox, out.UIDValidity = base.Mailbox, base.UIDValidity
	if ref.UID != 0 {
		return &out
	}
	out.UID = base.UID
	if ref.Section != "" {
		return &out
	}
	out.Section = base.Section
	return &out
}

// String formats u as an absolute URL (or as an absolute path when it
// has no host), percent-encoding as RFC 5092 requires. A URLAUTH URL is
// formatted from its fields, not from Rump.
func (u *URL) String() string {
	var b strings.Builder
	if u.Host != "" {
		b.WriteString("imap://")
		if u.User != "" || u.Auth != "" {
			b.WriteString(encode(u.User, isAChar))
			if u.Auth != "" {
				b.WriteString(";AUTH=")
				if u.Auth == "*" {
					b.WriteByte('*')
				} else {
					b.WriteString(encode(u.Auth, isAChar))
				}
			}
			b.WriteByte('@')
		}
		b.WriteString(u.Host)
		if u.Port != 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(int(u.Port)))
		}
	}
	if u.Mailbox != "" {
		b.WriteByte('/')
		b.WriteString(encode(u.Mailbox, isBChar))
		if u.UIDValidity != 0 {
			b.WriteString(";UIDVALIDITY=")
			b.WriteString(strconv.FormatUint(uint64(u.UIDValidity), 10))
		}
	}
	if u.UID != 0 {
		b.WriteString(sep(&b) + ";UID=")
		b.WriteString(strconv.FormatUint(uint64(u.UID), 10))
	}
	if u.Section != "" {
		b.WriteString(sep(&b) + ";SECTION=")
		// "/" stays encoded so that it cannot be taken for the start of
		// the next component.
		b.WriteString(encode(u.Section, isSectionChar))
	}
	if u.Partial != nil {
		b.WriteString(sep(&b) + ";PARTIAL=")
		b.WriteString(strconv.FormatUint(uint64(u.Partial.Offset), 10))
		if u.Partial.Length != 0 {
			b.WriteByte('.')
			b.WriteString(strconv.FormatUint(uint64(u.Partial.Length), 10))
		}
	}
	if u.Access != "" {
		if !u.Expire.IsZero() {
			b.WriteString(";EXPIRE=")
			b.WriteString(u.Expire.Format(time.RFC3339))
		}
		b.WriteString(";URLAUTH=")
		if name, ok := strings.CutPrefix(u.Access, "user+"); ok {
			b.WriteString("user+" + encode(name, isAChar))
		} else if name, ok := strings.CutPrefix(u.Access, "submit+"); ok {
			b.WriteString("submit+" + encode(name, isAChar))
		} else {
			b.WriteString(u.Access)
		}
		if u.Mech != "" {
			b.WriteString(":" + u.Mech + ":" + u.Token)
		}
	}
	return b.String()
}

// sep is the "/" before a URL component, absent at the start of a
// relative URL.
func sep(b *strings.Builder) string {
	if b.Len() == 0 {
		return ""
	}
	return "/"
}

func quoteShort(s string) string {
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return strconv.Quote(s)
}
