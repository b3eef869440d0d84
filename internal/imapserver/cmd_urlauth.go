package imapserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapurl"
	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// URLAUTH (RFC 4467): GENURLAUTH signs an IMAP URL rump, URLFETCH returns
// what authorized URLs name (to any session their access identifier
// admits, another user's too), RESETKEY invalidates them.
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
		if h := s.srv.cfg.Hostname; h != "" && !strings.EqualFold(u.Host, h) {
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
	if h := s.srv.cfg.Hostname; h != "" && !strings.EqualFold(u.Host, h) {
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

// cmdURLFetch: RFC 4467 6.2.
//
//	urlfetch      = "URLFETCH" 1*(SP url-full)
//	urlfetch-data = "*" SP "URLFETCH" 1*(SP url-full SP nstring)
//
// A URL that is invalid, not authorized for this session or names nothing
// gets NIL; the command still succeeds.
func cmdURLFetch(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	var urls []string
	for {
		if err := d.SP(); err != nil {
			return err
		}
		u, err := d.AString()
		if err != nil {
			return err
		}
		urls = append(urls, u)
		if !d.More() {
			break
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	s.w.Untagged().Atom("URLFETCH")
	for _, raw := range urls {
		s.w.SP().String(raw).SP()
		u, err := imapurl.Parse(raw)
		if err != nil || !u.HasURLAuth() {
			s.w.Atom("NIL")
			continue
		}
		acct, err := s.checkURLAuth(raw, u)
		if err != nil {
			s.w.Atom("NIL")
			continue
		}
		r, n, closer, err := s.readURL(acct, raw, u)
		if err != nil {
			s.w.Atom("NIL")
			continue
		}
		if n == 0 {
			s.w.String("")
		} else {
			s.w.LiteralFrom(r, n)
		}
		if closer != nil {
			closer.Close()
		}
	}
	return s.w.CRLF()
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
