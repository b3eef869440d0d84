package imapserver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapurl"
	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

// URLAUTH (RFC 4467): GENURLAUTH signs an IMAP URL rump, URLFETCH returns
// what authorized URLs name (to any session their access identifier
// admits, another user's too), RESETKEY invalidates them. URLAUTH=BINARY
// (RFC 5524) extends URLFETCH with the decoded content and the body
// structure of the part; SELECT and EXAMINE announce the mechanisms
// (URLMECH, writeURLMech).
//
// The one mechanism is INTERNAL (RFC 4467 7): the token is the hex
// HMAC-SHA256 of the URL rump (the URL up to the end of the access
// identifier, exactly as written) under a random key the store keeps per
// user and mailbox (store.URLAuthKeys). Deleting the mailbox or RESETKEY
// drops the key, and every URL signed with it stops verifying.

func init() {
	register("GENURLAUTH", stateAuthed, true, cmdGenURLAuth)
	register("URLFETCH", stateAuthed, true, cmdURLFetch)
	register("RESETKEY", stateAuthed, true, cmdResetKey)
}

const urlauthMech = "INTERNAL"

// urlauthToken is the INTERNAL token of a rump.
func urlauthToken(key []byte, rump string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(rump))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Session) urlauthKeys() (store.URLAuthKeys, error) {
	ks, ok := s.srv.st.(store.URLAuthKeys)
	if !ok {
		return nil, errNo("CANNOT", "URLAUTH is not supported by this store")
	}
	return ks, nil
}

// cmdGenURLAuth: RFC 4467 6.1.
//
//	genurlauth = "GENURLAUTH" 1*(SP url-rump SP mechanism)
//
// Each rump must be an absolute URL to a message of the session's own
// user, ending in ";URLAUTH=access". All are checked before the single
// "* GENURLAUTH" response lists the full URLs in order.
func cmdGenURLAuth(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	type req struct{ rump, mech string }
	var reqs []req
	for {
		if err := d.SP(); err != nil {
			return err
		}
		rump, err := d.AString()
		if err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		mech, err := d.Atom()
		if err != nil {
			return err
		}
		reqs = append(reqs, req{rump, mech})
		if !d.More() {
			break
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	ks, err := s.urlauthKeys()
	if err != nil {
		return err
	}
	full := make([]string, len(reqs))
	for i, r := range reqs {
		if !strings.EqualFold(r.mech, urlauthMech) {
			return errNo("", "Unsupported URLAUTH mechanism "+r.mech)
		}
		u, err := imapurl.Parse(r.rump)
		if err != nil || !u.HasURLAuth() || u.Mech != "" {
			return badURL(r.rump, "Expected an absolute URL ending in ;URLAUTH=<access>")
		}
		if u.User != s.user.Name {
			// RFC 4467 6.1: a user authorizes URLs to its own mail only.
			return badURL(r.rump, "URL names another user")
		}
		if !s.namesThisServer(u.Host) {
			return badURL(r.rump, "URL names another server")
		}
		if !u.Expire.IsZero() && !time.Now().Before(u.Expire) {
			return badURL(r.rump, "URL has already expired")
		}
		// The message must exist now, so the client learns of a typo here
		// rather than from the recipient of the URL.
		name, err := s.mailboxName(u.Mailbox)
		if err != nil {
			return badURL(r.rump, "Invalid mailbox name in URL")
		}
		mb, err := s.acct.Mailbox(s.ctx, name)
		if err != nil {
			return badURL(r.rump, "No such mailbox")
		}
		if u.UIDValidity != 0 && u.UIDValidity != mb.UIDValidity {
			return badURL(r.rump, "UIDVALIDITY mismatch")
		}
		if recs, err := s.acct.Records(s.ctx, mb.ID, []uint32{u.UID}); err != nil {
			return errInternal(err)
		} else if len(recs) == 0 {
			return badURL(r.rump, "No such message")
		}
		key, err := ks.URLAuthKey(s.ctx, s.user.ID, mb.ID, true)
		if err != nil {
			return errFromStore(err)
		}
		full[i] = r.rump + ":" + urlauthMech + ":" + urlauthToken(key, u.Rump)
	}
	s.w.Untagged().Atom("GENURLAUTH")
	for _, f := range full {
		s.w.SP().String(f)
	}
	if err := s.w.CRLF(); err != nil {
		return err
	}
	return nil
}

// checkURLAuth verifies an authorized URL for this session (RFC 4467 5,
// 7) and returns the owner's account. Every failure is BADURL, without
// telling which check failed, so a URL cannot be probed.
func (s *Session) checkURLAuth(raw string, u *imapurl.URL) (store.Account, error) {
	refused := badURL(raw, "URL is not authorized")
	if u.Mech == "" || u.Mech != urlauthMech {
		return nil, refused
	}
	if !u.Expire.IsZero() && !time.Now().Before(u.Expire) {
		return nil, refused
	}
	switch {
	case u.Access == "anonymous", u.Access == "authuser":
		// Any session: URLFETCH is only reachable once authenticated.
	case strings.HasPrefix(u.Access, "user+"):
		if u.Access[len("user+"):] != s.user.Name {
			return nil, refused
		}
	case strings.HasPrefix(u.Access, "submit+"):
		// Casier has no trusted submission-server identity yet, so a
		// submit+<name> URL is honoured for <name>'s own sessions only:
		// never more than user+<name> would grant.
		if u.Access[len("submit+"):] != s.user.Name {
			return nil, refused
		}
	default:
		return nil, refused
	}
	if !s.namesThisServer(u.Host) {
		return nil, refused
	}
	ks, err := s.urlauthKeys()
	if err != nil {
		return nil, err
	}
	acct := s.acct
	if u.User != s.user.Name {
		owner, err := s.srv.st.User(s.ctx, u.User)
		if errors.Is(err, store.ErrNotFound) {
			return nil, refused
		} else if err != nil {
			return nil, errInternal(err)
		}
		if acct, err = s.srv.st.Account(s.ctx, owner.ID); err != nil {
			return nil, errInternal(err)
		}
	}
	name, err := s.mailboxName(u.Mailbox)
	if err != nil {
		return nil, refused
	}
	mb, err := acct.Mailbox(s.ctx, name)
	if err != nil {
		return nil, refused
	}
	key, err := ks.URLAuthKey(s.ctx, acct.UserID(), mb.ID, false)
	if err != nil {
		return nil, refused
	}
	want := urlauthToken(key, u.Rump)
	if subtle.ConstantTimeCompare([]byte(want), []byte(u.Token)) != 1 {
		return nil, refused
	}
	return acct, nil
}

// urlFetchArg is one URL of URLFETCH with the metadata items asked for in
// the extended form of RFC 5524 3.1, in the order given.
type urlFetchArg struct {
	url   string
	items []string // BODYPARTSTRUCTURE, BINARY, BODY; none: the RFC 4467 form
}

// cmdURLFetch: RFC 4467 6.2, extended by RFC 5524 3 (URLAUTH=BINARY).
//
//	urlfetch         = "URLFETCH" 1*(SP url-fetch-arg)
//	url-fetch-arg    = url-full / "(" url-full *(SP url-fetch-param) ")"
//	url-fetch-param  = "BODY" / "BINARY" / "BODYPARTSTRUCTURE" / atom
//
//	urlfetch-data    = "*" SP "URLFETCH" 1*(SP (urldata-simple / urldata-ext))
//	urldata-simple   = url-full SP nstring        ; NIL: the URL failed
//	urldata-ext      = url-full 1*(SP "(" url-metadata-el ")")
//	url-metadata-el  = "BODYPARTSTRUCTURE" SP body
//	                 / "BINARY" SP (nstring / literal8)
//	                 / "BODY" SP nstring
//
// A URL that is invalid, not authorized for this session or names nothing
// gets NIL; the command still succeeds. A URL in parentheses without
// parameters is answered as a bare one (RFC 5524 3).
func cmdURLFetch(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	var args []urlFetchArg
	for {
		if err := d.SP(); err != nil {
			return err
		}
		a, err := parseURLFetchArg(d)
		if err != nil {
			return err
		}
		args = append(args, a)
		if !d.More() {
			break
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	s.w.Untagged().Atom("URLFETCH")
	for _, a := range args {
		s.w.SP().String(a.url)
		t := s.urlFetchTarget(a.url)
		if t == nil {
			s.w.SP().Atom("NIL")
			continue
		}
		if len(a.items) == 0 {
			s.writeURLData(t)
		} else {
			s.writeURLMetadata(t, a.items)
		}
		t.close()
	}
	return s.w.CRLF()
}

// parseURLFetchArg reads one url-fetch-arg. Unknown parameters, a
// parameter given twice, and BINARY with BODY are BAD (RFC 5524 3.1:
// "Metadata items MUST NOT appear more than once per URL requested, and
// clients MUST NOT request both BINARY and BODY").
func parseURLFetchArg(d *imapwire.Decoder) (urlFetchArg, error) {
	var a urlFetchArg
	if d.Peek() != '(' {
		u, err := d.AString()
		a.url = u
		return a, err
	}
	first := true
	err := d.List(func() error {
		if first {
			first = false
			u, err := d.AString()
			a.url = u
			return err
		}
		p, err := d.Atom()
		if err != nil {
			return err
		}
		p = strings.ToUpper(p)
		switch {
		case p != "BODYPARTSTRUCTURE" && p != "BINARY" && p != "BODY":
			return errBad("", "Unknown URLFETCH parameter "+p)
		case slices.Contains(a.items, p):
			return errBad("", "URLFETCH parameter "+p+" given twice")
		}
		a.items = append(a.items, p)
		return nil
	})
	if err != nil {
		return a, err
	}
	if first {
		return a, errBad("", "Expected a URL in parentheses")
	}
	if slices.Contains(a.items, "BINARY") && slices.Contains(a.items, "BODY") {
		return a, errBad("", "URLFETCH takes BINARY or BODY, not both")
	}
	return a, nil
}

// urlFetchTarget checks an authorized URL and opens what it names; nil
// when it fails, for any reason (RFC 4467 6.2: NIL).
func (s *Session) urlFetchTarget(raw string) *urlTarget {
	u, err := imapurl.Parse(raw)
	if err != nil || !u.HasURLAuth() || u.UID == 0 {
		return nil
	}
	acct, err := s.checkURLAuth(raw, u)
	if err != nil {
		return nil
	}
	t, err := s.openURLTarget(acct, raw, u)
	if err != nil {
		return nil
	}
	return t
}

// writeURLData writes urldata-simple: SP and the section's bytes as
// stored, PARTIAL applied (RFC 4467 6.2).
func (s *Session) writeURLData(t *urlTarget) {
	v, err := t.src.section(t.sec)
	if err != nil {
		s.srv.log.Warn("imap URLFETCH", "user", s.user.Name, "err", err)
		s.w.SP().Atom("NIL")
		return
	}
	s.w.SP()
	t.src.writeValue(s.w, v.applyPartial(urlPartial(t.partial)))
}

// writeURLMetadata writes urldata-ext: one "(item value)" per item asked
// for, in the order asked (RFC 5524 3.2).
//
//   - BODY: the bytes as stored, the same as the RFC 4467 form.
//   - BINARY: the content with its Content-Transfer-Encoding undone, then
//     PARTIAL applied; a literal8 when it holds NUL, NIL when the encoding
//     is unknown. Decoded is a MIME part named by the URL (its number, or
//     TEXT of a message: the body of its root part); the whole message
//     and header sections have no transfer encoding and come as stored.
//   - BODYPARTSTRUCTURE: the BODYSTRUCTURE of that part. When BINARY is
//     asked too and undid an encoding, the structure describes what
//     BINARY returned: encoding BINARY, the decoded size and lines (the
//     RFC 5524 4 example: ("IMAGE" "PNG" ... "BINARY" 123) before
//     ~{123}). A header section is no MIME part and has no structure:
//     such a URL with BODYPARTSTRUCTURE fails as a whole (NIL, as
//     url-meta-bodystruct allows no NIL).
func (s *Session) writeURLMetadata(t *urlTarget, items []string) {
	part := t.part()
	if part == nil && slices.Contains(items, "BODYPARTSTRUCTURE") {
		s.w.SP().Atom("NIL")
		return
	}
	var decoded []byte
	decodedOK, undone := false, false
	if slices.Contains(items, "BINARY") {
		b, u, err := t.binary(part)
		switch {
		case err == nil:
			decoded, decodedOK, undone = b, true, u
		case errors.Is(err, errUnknownCTE):
		default:
			s.srv.log.Warn("imap URLFETCH BINARY", "user", s.user.Name, "err", err)
		}
	}
	var raw sectionValue
	if slices.Contains(items, "BODY") {
		v, err := t.src.section(t.sec)
		if err != nil {
			s.srv.log.Warn("imap URLFETCH", "user", s.user.Name, "err", err)
			s.w.SP().Atom("NIL")
			return
		}
		raw = v.applyPartial(urlPartial(t.partial))
	}
	// BODYPARTSTRUCTURE first, whatever the order asked: the structure
	// tells the client how to take the data that follows (the order of
	// the RFC 5524 4 example, and Dovecot's).
	for _, item := range []string{"BODYPARTSTRUCTURE", "BINARY", "BODY"} {
		if !slices.Contains(items, item) {
			continue
		}
		s.w.SP().Open().Atom(item).SP()
		switch item {
		case "BODYPARTSTRUCTURE":
			p := part
			if undone {
				p = decodedPart(part, decoded)
			}
			writeBodyStructure(s.w, p, true)
		case "BINARY":
			if !decodedOK {
				s.w.Atom("NIL")
				break
			}
			writeBinaryValue(s.w, bytesValue(decoded).applyPartial(urlPartial(t.partial)).data)
		case "BODY":
			t.src.writeValue(s.w, raw)
		}
		s.w.Close()
	}
}

// part is the MIME part whose content the URL's section is, or nil for a
// header section (HEADER, HEADER.FIELDS, MIME) or a message not parsed.
func (t *urlTarget) part() *message.Part {
	switch t.sec.Specifier {
	case "":
		if len(t.sec.Path) == 0 {
			if t.src.rec.Parsed == nil {
				return nil
			}
			return t.src.rec.Parsed.Root
		}
		return t.src.findPart(t.sec.Path)
	case "TEXT":
		if len(t.sec.Path) == 0 {
			if t.src.rec.Parsed == nil {
				return nil
			}
			return t.src.rec.Parsed.Root
		}
		if p := t.src.findPart(t.sec.Path); p != nil {
			return p.Message
		}
	}
	return nil
}

// binary is the content BINARY returns, before PARTIAL: part's body with
// its transfer encoding undone (undone reports that there was one), or
// the section as stored when it is the whole message or a header section.
func (t *urlTarget) binary(part *message.Part) (b []byte, undone bool, err error) {
	if part == nil || (len(t.sec.Path) == 0 && t.sec.Specifier == "") {
		v, err := t.src.section(t.sec)
		if err != nil {
			return nil, false, err
		}
		switch v.kind {
		case valBytes:
			return v.data, false, nil
		case valRange:
			b, err := t.src.read(v.off, v.off+v.n)
			return b, false, err
		}
		return nil, false, nil
	}
	raw, err := t.src.read(part.BodyStart, part.BodyEnd)
	if err != nil {
		return nil, false, err
	}
	if part.IsMultipart() || part.Message != nil || identityEncoding(part.Encoding) {
		return raw, false, nil
	}
	if !decodable(part.Encoding) {
		return nil, false, errUnknownCTE
	}
	b, err = decodePart(raw, part)
	return b, err == nil, err
}

// decodedPart is p as its decoded content b shows it: the encoding b
// could be sent in as is (7BIT, 8BIT or BINARY: RFC 2045 2.7-2.9), b's
// size, and for text b's line count (counted as at delivery: LFs).
func decodedPart(p *message.Part, b []byte) *message.Part {
	q := *p
	q.Encoding = identityEncodingOf(b)
	q.BodyStart, q.BodyEnd = 0, int64(len(b))
	if q.Type == "text" {
		q.Lines = int64(bytes.Count(b, []byte{'\n'}))
	}
	return &q
}

// identityEncodingOf names the identity transfer encoding that fits b:
// 7bit for short lines of US-ASCII without NUL, 8bit when bytes above 127
// appear, binary for NUL or lines over 998 bytes (RFC 2045 2.7-2.9).
func identityEncodingOf(b []byte) string {
	enc, line := "7BIT", 0
	for _, c := range b {
		switch {
		case c == 0:
			return "BINARY"
		case c == '\n':
			line = 0
			continue
		case c >= 0x80:
			enc = "8BIT"
		}
		if line++; line > 998 {
			return "BINARY"
		}
	}
	return enc
}

// writeURLMech announces, at SELECT and EXAMINE, the URLAUTH mechanisms
// the selected mailbox supports (RFC 4467 7, the URLMECH response code:
// "* OK [URLMECH INTERNAL]"), as RESETKEY does in its tagged OK. Nothing
// when the store keeps no URLAUTH keys.
func (s *Session) writeURLMech() {
	if _, ok := s.srv.st.(store.URLAuthKeys); !ok {
		return
	}
	s.w.Untagged().Status("OK", "URLMECH "+urlauthMech, "Ok").CRLF()
}

// cmdResetKey: RFC 4467 6.3.
//
//	resetkey = "RESETKEY" [SP mailbox *(SP mechanism)]
//
// Without a mailbox every key of the user is removed; with one, that
// mailbox's (the only mechanism being INTERNAL).
func cmdResetKey(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	var mbox *store.Mailbox
	if d.More() {
		if err := d.SP(); err != nil {
			return err
		}
		raw, err := d.Mailbox(s.utf8)
		if err != nil {
			return err
		}
		for d.More() {
			if err := d.SP(); err != nil {
				return err
			}
			mech, err := d.Atom()
			if err != nil {
				return err
			}
			if !strings.EqualFold(mech, urlauthMech) {
				return errNo("", "Unsupported URLAUTH mechanism "+mech)
			}
		}
		name, err := s.mailboxName(raw)
		if err != nil {
			return err
		}
		mb, err := s.acct.Mailbox(s.ctx, name)
		if err != nil {
			return errFromStore(err)
		}
		mbox = &mb
	}
	if err := d.End(); err != nil {
		return err
	}
	ks, err := s.urlauthKeys()
	if err != nil {
		return err
	}
	if mbox == nil {
		if err := ks.ResetURLAuthKeys(s.ctx, s.user.ID, 0); err != nil {
			return errInternal(err)
		}
		s.setOK("", "All URLAUTH keys removed")
		return nil
	}
	if err := ks.ResetURLAuthKeys(s.ctx, s.user.ID, mbox.ID); err != nil {
		return errInternal(err)
	}
	// RFC 4467 6.3: the mechanisms available for the mailbox.
	s.setOK("URLMECH "+urlauthMech, "RESETKEY completed")
	return nil
}
