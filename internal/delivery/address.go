package delivery

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store"
)

// maxPathLen bounds a mailbox: RFC 5321 4.5.3.1.3 allows 256 octets for a
// path, angle brackets included. The bound also keeps the trace fields we
// prepend within traceReserve.
const maxPathLen = 254

// path is a mailbox from MAIL FROM or RCPT TO, as go-smtp hands it over:
// source route dropped, a quoted local part unquoted.
type path struct {
	addr   string // as go-smtp gives it; the key of the per-recipient status
	local  string // the local part, unquoted
	domain string // lower case
	header string // addr written back in RFC 5321 4.1.2 syntax, for our header fields
}

// errNonASCII is the reply to a UTF-8 address in a transaction opened
// without SMTPUTF8 (RFC 6531 3.4).
var errNonASCII = errors.New("non-ASCII address without SMTPUTF8")

// splitPath checks a mailbox parsed by go-smtp and splits it. go-smtp
// only requires local@domain, so everything that could end up in a header
// field we write (control characters, invalid UTF-8) or that is not a
// domain is refused here. The local part is what precedes the last "@":
// a quoted local part may hold "@" itself.
func splitPath(s string, smtputf8 bool) (path, error) {
	if len(s) > maxPathLen {
		return path{}, errors.New("address too long")
	}
	if !utf8.ValidString(s) {
		return path{}, errors.New("address is not UTF-8")
	}
	for _, c := range []byte(s) {
		if c < ' ' || c == 0x7f {
			return path{}, errors.New("control character in address")
		}
	}
	if !smtputf8 && !isASCII(s) {
		return path{}, errNonASCII
	}
	i := strings.LastIndexByte(s, '@')
	if i <= 0 {
		return path{}, errors.New("address without a domain")
	}
	p := path{addr: s, local: s[:i], domain: strings.ToLower(s[i+1:])}
	if !validDomain(p.domain) {
		return path{}, errors.New("bad domain")
	}
	p.header = quoteLocal(p.local) + "@" + s[i+1:]
	return p, nil
}

// validDomain accepts a host name (RFC 5321 4.1.2 Domain; U-labels too,
// RFC 6531 3.3) or an address literal in brackets.
func validDomain(d string) bool {
	if inner, ok := strings.CutPrefix(d, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		return ok && inner != "" && !strings.ContainsAny(inner, `[]\ `)
	}
	if d == "" || d[0] == '.' || d[len(d)-1] == '.' || strings.Contains(d, "..") {
		return false
	}
	for _, c := range []byte(d) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c >= 0x80) {
			return false
		}
	}
	return true
}

// quoteLocal writes a local part as a Dot-string when it is one, else as
// a Quoted-string (RFC 5321 4.1.2), so that `"a b"@example.org` keeps its
// quotes in Return-Path and Delivered-To.
func quoteLocal(l string) string {
	dot := l != "" && l[0] != '.' && l[len(l)-1] != '.' && !strings.Contains(l, "..")
	for _, c := range []byte(l) {
		// atext (RFC 5322 3.2.3), plus UTF-8 (RFC 6531 3.3).
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 ||
			strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			dot = false
			break
		}
	}
	if dot {
		return l
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(l) {
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// isASCII reports whether s has only 7-bit characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// recipient is an accepted RCPT: the account and mailbox its copy goes to.
type recipient struct {
	path
	user    store.User
	acct    store.Account
	mailbox store.Mailbox
}

// replyErr builds a reply with its enhanced status code (RFC 3463).
func replyErr(code int, class, subject, detail int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, subject, detail}, Message: msg}
}

func errTempFail() *smtp.SMTPError {
	return replyErr(451, 4, 3, 0, "temporary failure, try again later")
}

// resolve maps an address to an account and a mailbox, or to the reply
// that refuses it. The rules (docs/delivery.md):
//   - `user@domain` with domain in Options.Domains, or any domain when
//     that list is empty, names account `user` (user names are
//     case-insensitive: auth.NormalizeUsername);
//   - `user+detail` delivers into mailbox "detail" when it exists (exact
//     name, except that INBOX is case-insensitive), otherwise into INBOX.
func (s *Server) resolve(ctx context.Context, p path) (recipient, *smtp.SMTPError) {
	r := recipient{path: p}
	if len(s.domains) > 0 && !s.domains[p.domain] {
		return r, replyErr(550, 5, 1, 2, "<"+p.addr+"> domain not served here")
	}
	name, detail, _ := strings.Cut(p.local, "+")
	name = auth.NormalizeUsername(name)
	if auth.ValidateUsername(name) != nil {
		return r, replyErr(550, 5, 1, 1, "<"+p.addr+"> no such user")
	}
	u, err := s.st.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return r, replyErr(550, 5, 1, 1, "<"+p.addr+"> no such user")
	}
	if err != nil {
		s.log.Error("lmtp: looking up user", "user", name, "err", err)
		return r, errTempFail()
	}
	r.user = u
	if r.acct, err = s.st.Account(ctx, u.ID); err != nil {
		s.log.Error("lmtp: opening account", "user", name, "err", err)
		return r, errTempFail()
	}
	if detail != "" {
		m, err := r.acct.Mailbox(ctx, detail)
		switch {
		case err == nil:
			r.mailbox = m
			return r, nil
		case errors.Is(err, store.ErrNoMailbox), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidName):
			// No such folder: the message still reaches the user.
		default:
			s.log.Error("lmtp: looking up mailbox", "user", name, "mailbox", detail, "err", err)
			return r, errTempFail()
		}
	}
	if r.mailbox, err = r.acct.Mailbox(ctx, "INBOX"); err != nil {
		s.log.Error("lmtp: looking up INBOX", "user", name, "err", err)
		return r, errTempFail()
	}
	return r, nil
}
