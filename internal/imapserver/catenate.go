package imapserver

import (
	"errors"
	"io"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/casier/casier/internal/imapurl"
	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// This file holds CATENATE (RFC 4469), the APPEND data item that builds a
// message from literals and IMAP URLs, and the resolution of an IMAP URL
// (RFC 5092) to the bytes it names, which URLFETCH (cmd_urlauth.go)
// shares. A URL part is resolved through the FETCH section code
// (fetch_body.go) and streamed from the stored body: only the bytes the
// section and partial name are read.

// catPart is one cat-part: a TEXT literal or a URL.
type catPart struct {
	lit *imapwire.Literal
	url string // as sent
}

// catenation is the append-data of one CATENATE message, and once
// resolved, the pieces to stream in order.
type catenation struct {
	parts  []catPart
	pieces []io.Reader
	size   int64
	closer []io.Closer
}

func (c *catenation) close() {
	for _, cl := range c.closer {
		cl.Close()
	}
	c.closer = nil
}

// parseCatenate reads, after the "CATENATE" atom,
//
//	SP "(" cat-part *(SP cat-part) ")"
//	cat-part     = text-literal / url
//	text-literal = "TEXT" SP literal      (literal8 too, RFC 4469 + RFC 3516)
//	url          = "URL" SP astring
func parseCatenate(d *imapwire.Decoder) (*catenation, error) {
	if err := d.SP(); err != nil {
		return nil, err
	}
	c := &catenation{}
	err := d.List(func() error {
		kind, err := d.Atom()
		if err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		switch strings.ToUpper(kind) {
		case "TEXT":
			lit, err := d.Literal()
			if err != nil {
				return err
			}
			c.parts = append(c.parts, catPart{lit: lit})
		case "URL":
			u, err := d.AString()
			if err != nil {
				return err
			}
			c.parts = append(c.parts, catPart{url: u})
		default:
			return errBad("", "Expected TEXT or URL in CATENATE")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c.parts) == 0 {
		return nil, errBad("", "CATENATE needs at least one part")
	}
	return c, nil
}

// resolve opens every part of c. limit is APPENDLIMIT: the total is
// checked as parts are added, before anything is read.
func (s *Session) resolveCatenate(c *catenation, limit int64) error {
	for _, p := range c.parts {
		if p.lit != nil {
			rc, err := p.lit.Open()
			if err != nil {
				return errInternal(err)
			}
			c.closer = append(c.closer, rc)
			c.pieces = append(c.pieces, rc)
			c.size += p.lit.Size
		} else {
			u, err := s.parseURL(p.url, true)
			if err != nil {
				return err
			}
			r, n, cl, err := s.openURL(p.url, u)
			if err != nil {
				return err
			}
			if cl != nil {
				c.closer = append(c.closer, cl)
			}
			c.pieces = append(c.pieces, r)
			c.size += n
		}
		if limit > 0 && c.size > limit {
			// RFC 4469 5: [TOOBIG] when the result would be too large.
			return errNo("TOOBIG", "Catenated message is larger than APPENDLIMIT="+strconv.FormatInt(limit, 10))
		}
	}
	if c.size == 0 {
		return errNo("", "Cannot store an empty message")
	}
	return nil
}

// reader streams the resolved message.
func (c *catenation) reader() io.Reader { return io.MultiReader(c.pieces...) }

// badURL is NO [BADURL url] (RFC 4469 6). url-resp-text excludes "]" and
// "\" (and controls), which an astring may hold: they are percent-encoded.
func badURL(raw, text string) error {
	var b strings.Builder
	for i := 0; i < len(raw) && i < 1024; i++ {
		c := raw[i]
		if c < 0x20 || c == ']' || c == '\\' || c >= 0x7f {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)+strconv.FormatUint(uint64(c)&15, 16)))
			continue
		}
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		b.WriteString("%22%22")
	}
	return errNo("BADURL "+b.String(), text)
}

// namesThisServer reports whether host, the host of an absolute IMAP URL,
// names this server: the configured hostname, "localhost", or the address
// the client connected to (a client that reached us by IP address builds
// its URLs with that address, as imaptest does).
func (s *Session) namesThisServer(host string) bool {
	h := s.srv.cfg.Hostname
	if h == "" || strings.EqualFold(host, h) || strings.EqualFold(host, "localhost") {
		return true
	}
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	ip, err := netip.ParseAddr(host)
	if err != nil || s.rawConn == nil {
		return false
	}
	if ap, err := netip.ParseAddrPort(s.rawConn.LocalAddr().String()); err == nil {
		return ap.Addr().Unmap() == ip.Unmap()
	}
	return false
}

// parseURL parses an IMAP URL of a CATENATE or URLFETCH. A relative URL
// (only where relative is true: CATENATE) is resolved against the
// session's user on this server and, when it names no mailbox, the
// selected mailbox (RFC 4469 5: relative URLs are relative to the
// selected mailbox).
func (s *Session) parseURL(raw string, relative bool) (*imapurl.URL, error) {
	u, err := imapurl.Parse(raw)
	if err != nil {
		return nil, badURL(raw, "Invalid IMAP URL")
	}
	if u.Absolute && !s.namesThisServer(u.Host) {
		return nil, badURL(raw, "URL names another server")
	}
	if !u.Absolute {
		if !relative {
			return nil, badURL(raw, "URL must be absolute")
		}
		base := &imapurl.URL{Absolute: true, User: s.user.Name, Host: "localhost"}
		if u.Mailbox == "" {
			if s.sel == nil {
				return nil, badURL(raw, "Relative URL needs a selected mailbox")
			}
			base.Mailbox, base.UIDValidity = s.sel.mbox.Name, s.sel.mbox.UIDValidity
		}
		u = imapurl.Resolve(base, u)
	}
	if u.UID == 0 {
		return nil, badURL(raw, "URL names no message")
	}
	return u, nil
}

// openURL resolves a message URL of the session's own mailboxes, or, for
// a URL carrying URLAUTH, of any user who authorized it (RFC 4467 3:
// such a URL works in CATENATE too). It returns the content, its size and
// what to close once it was read.
func (s *Session) openURL(raw string, u *imapurl.URL) (io.Reader, int64, io.Closer, error) {
	acct := s.acct
	if u.HasURLAuth() {
		a, err := s.checkURLAuth(raw, u)
		if err != nil {
			return nil, 0, nil, err
		}
		acct = a
	} else if u.User != "" && u.User != s.user.Name {
		// RFC 4469 5: without URLAUTH, only the user's own mail.
		return nil, 0, nil, badURL(raw, "URL names another user's mailbox")
	}
	return s.readURL(acct, raw, u)
}

// urlTarget is what a message URL names: a message of some account, its
// body open, and the section and partial of the URL.
type urlTarget struct {
	src     *msgSource
	sec     *imapwire.Section
	partial *imapurl.Partial
}

// openURLTarget finds the message u names in acct and opens its body;
// the caller closes the target. Every failure is BADURL.
func (s *Session) openURLTarget(acct store.Account, raw string, u *imapurl.URL) (*urlTarget, error) {
	name, err := s.mailboxName(u.Mailbox)
	if err != nil {
		return nil, badURL(raw, "Invalid mailbox name in URL")
	}
	mb, err := acct.Mailbox(s.ctx, name)
	if err != nil {
		if errors.Is(err, store.ErrNoMailbox) || errors.Is(err, store.ErrNotFound) {
			return nil, badURL(raw, "No such mailbox")
		}
		return nil, errInternal(err)
	}
	if u.UIDValidity != 0 && u.UIDValidity != mb.UIDValidity {
		return nil, badURL(raw, "UIDVALIDITY mismatch")
	}
	sec, err := imapwire.ParseSection(u.Section)
	if err != nil {
		return nil, badURL(raw, "Invalid section in URL")
	}
	recs, err := acct.Records(s.ctx, mb.ID, []uint32{u.UID})
	if err != nil {
		return nil, errInternal(err)
	}
	if len(recs) == 0 {
		return nil, badURL(raw, "No such message")
	}
	if len(sec.Path) > 0 && (recs[0].Parsed == nil || recs[0].Parsed.FindPart(sec.Path) == nil) {
		return nil, badURL(raw, "No such message part")
	}
	body, err := acct.OpenBody(s.ctx, recs[0].MessageID)
	if err != nil {
		return nil, errInternal(err)
	}
	// The body is opened here so that msgSource reads from the account
	// that owns it, which may not be the session's.
	return &urlTarget{src: &msgSource{s: s, rec: &recs[0], body: body}, sec: sec, partial: u.Partial}, nil
}

func (t *urlTarget) close() { t.src.close() }

// urlPartial is the PARTIAL of a URL (RFC 5092 6: offset and length; no
// length means to the end) as a FETCH partial.
func urlPartial(p *imapurl.Partial) *imapwire.Partial {
	if p == nil {
		return nil
	}
	count := uint32(math.MaxUint32)
	if p.Length != 0 {
		count = p.Length
	}
	return &imapwire.Partial{Offset: p.Offset, Count: count}
}

// readURL returns the bytes u names in acct, as stored (the section's
// bytes, PARTIAL applied), their size and what to close once they are
// read.
func (s *Session) readURL(acct store.Account, raw string, u *imapurl.URL) (io.Reader, int64, io.Closer, error) {
	t, err := s.openURLTarget(acct, raw, u)
	if err != nil {
		return nil, 0, nil, err
	}
	v, err := t.src.section(t.sec)
	if err != nil {
		t.close()
		return nil, 0, nil, errInternal(err)
	}
	v = v.applyPartial(urlPartial(t.partial))
	body := t.src.body
	switch v.kind {
	case valRange:
		return io.NewSectionReader(body, v.off, v.n), v.n, body, nil
	case valBytes:
		t.close()
		return strings.NewReader(string(v.data)), int64(len(v.data)), nil, nil
	}
	t.close()
	return strings.NewReader(""), 0, nil, nil
}

// closeCatenations closes what the CATENATE messages of an APPEND opened.
func closeCatenations(msgs []appendMsg) {
	for _, m := range msgs {
		if m.cat != nil {
			m.cat.close()
		}
	}
}
