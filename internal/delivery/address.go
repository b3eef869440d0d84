package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store"
)

// maxPathLen bounds a path between its angle brackets: RFC 5321 4.5.3.1.3
// allows 256 octets including the brackets. The bound also keeps the
// trace fields we prepend within traceReserve.
const maxPathLen = 254

// path is a parsed reverse-path (MAIL FROM) or forward-path (RCPT TO).
type path struct {
	raw    string // the mailbox as sent, quoting kept, source route dropped; "" is the null reverse-path <>
	local  string // the local part, unquoted
	domain string // lower case; "" for a bare local part such as <Postmaster>
}

// parsePath parses `<mailbox>` at the start of s (RFC 5321 4.1.2) and
// returns it with the text that follows (the parameters). A source route
// (`<@a,@b:user@c>`) is accepted and dropped (RFC 5321 C). A mailbox
// without a domain is accepted: LMTP clients such as Postfix may send bare
// local parts, and RFC 5321 4.1.1.3 requires <Postmaster>.
func parsePath(s string) (p path, rest string, err error) {
	if !strings.HasPrefix(s, "<") {
		return p, "", errors.New("want <address>")
	}
	s = s[1:]
	if strings.HasPrefix(s, ">") {
		return p, s[1:], nil // null path
	}
	if strings.HasPrefix(s, "@") {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return p, "", errors.New("bad source route")
		}
		s = s[i+1:]
	}
	// The local part: a quoted string or a dot-string.
	i := 0
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i = 1; ; i++ {
			if i >= len(s) {
				return p, "", errors.New("unterminated quoted string")
			}
			c := s[i]
			if c == '\\' {
				i++
				if i >= len(s) {
					return p, "", errors.New("unterminated quoted string")
				}
				b.WriteByte(s[i])
				continue
			}
			if c == '"' {
				i++
				break
			}
			b.WriteByte(c)
		}
		p.local = b.String()
	} else {
		for i < len(s) && s[i] != '@' && s[i] != '>' {
			if strings.IndexByte(`()<[]:;\,"`, s[i]) >= 0 || s[i] <= ' ' {
				return p, "", fmt.Errorf("character %q not allowed in a local part", s[i])
			}
			i++
		}
		p.local = s[:i]
	}
	if p.local == "" {
		return p, "", errors.New("empty local part")
	}
	if i < len(s) && s[i] == '@' {
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return p, "", errors.New("missing >")
		}
		p.domain = strings.ToLower(s[i+1 : i+j])
		if p.domain == "" || strings.ContainsAny(p.domain, " \t<@") {
			return p, "", errors.New("bad domain")
		}
		i += j
	}
	if i >= len(s) || s[i] != '>' {
		return p, "", errors.New("missing >")
	}
	p.raw = s[:i]
	rest = s[i+1:]
	if len(p.raw) > maxPathLen {
		return path{}, "", errors.New("address too long")
	}
	// Control characters would end up inside a header field we write
	// (Return-Path, Delivered-To); nothing legitimate has them.
	for _, c := range []byte(p.raw) {
		if c < ' ' || c == 0x7f {
			return path{}, "", errors.New("control character in address")
		}
	}
	if !utf8.ValidString(p.raw) {
		return path{}, "", errors.New("address is not UTF-8")
	}
	return p, rest, nil
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
	addr    string // as sent, for Delivered-To and the per-recipient reply
	user    store.User
	acct    store.Account
	mailbox store.Mailbox
}

// resolve maps an address to an account and a mailbox, or to the reply
// that refuses it. The rules (docs/delivery.md):
//   - `user@domain` with domain in Options.Domains, any domain when that
//     list is empty, and a bare `user` all name account `user` (user names
//     are case-insensitive: auth.NormalizeUsername);
//   - `user+detail` delivers into mailbox "detail" when it exists (exact
//     name, except that INBOX is case-insensitive), otherwise into INBOX.
func (s *Server) resolve(ctx context.Context, p path) (recipient, *reply) {
	r := recipient{addr: p.raw}
	if p.domain != "" && len(s.domains) > 0 && !s.domains[p.domain] {
		return r, &reply{550, "5.1.2", "<" + p.raw + "> domain not served here"}
	}
	name, detail, _ := strings.Cut(p.local, "+")
	name = auth.NormalizeUsername(name)
	if auth.ValidateUsername(name) != nil {
		return r, &reply{550, "5.1.1", "<" + p.raw + "> no such user"}
	}
	u, err := s.st.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return r, &reply{550, "5.1.1", "<" + p.raw + "> no such user"}
	}
	if err != nil {
		s.log.Error("lmtp: looking up user", "user", name, "err", err)
		return r, &replyTempFail
	}
	r.user = u
	if r.acct, err = s.st.Account(ctx, u.ID); err != nil {
		s.log.Error("lmtp: opening account", "user", name, "err", err)
		return r, &replyTempFail
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
			return r, &replyTempFail
		}
	}
	if r.mailbox, err = r.acct.Mailbox(ctx, "INBOX"); err != nil {
		s.log.Error("lmtp: looking up INBOX", "user", name, "err", err)
		return r, &replyTempFail
	}
	return r, nil
}
