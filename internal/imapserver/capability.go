package imapserver

import "strconv"

// Capabilities common to every state. LITERAL+ (RFC 7888) implies that
// LITERAL- clients are served too.
var baseCaps = []string{"IMAP4rev1", "IMAP4rev2", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE"}

// Capabilities added after authentication. CONDSTORE and QRESYNC: RFC
// 7162 (QRESYNC implies CONDSTORE, both are listed as 3.2 asks).
var authedCaps = []string{
	"NAMESPACE", "UNSELECT", "UIDPLUS", "MOVE", "CHILDREN", "SPECIAL-USE", "CONDSTORE", "QRESYNC",
	"CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE",
}

// authedCapsTail follows APPENDLIMIT=<n> in the list.
// SEARCHRES (RFC 5182) is part of IMAP4rev2 (RFC 9051 6.4.4.1) and is
// offered to IMAP4rev1 clients too. OBJECTID (RFC 8474), SAVEDATE (RFC
// 8514), REPLACE (RFC 8508), CATENATE (RFC 4469, catenate.go), URLAUTH
// (RFC 4467, cmd_urlauth.go; URLAUTH=BINARY: RFC 5524).
var authedCapsTail = []string{"UTF8=ACCEPT", "MULTIAPPEND", "CATENATE", "URLAUTH", "URLAUTH=BINARY", "BINARY", "PREVIEW", "ESEARCH", "SEARCHRES",
	"PARTIAL", "CONTEXT=SEARCH", "MULTISEARCH", "INPROGRESS", // RFC 9394, 5267, 7377, 9585: search_context.go, cmd_esearch.go
	"OBJECTID", "SAVEDATE", "REPLACE", "NOTIFY", "UIDONLY"} // UIDONLY: RFC 9586, uidonly.go

// capabilities is the list CAPABILITY returns in the session's state (RFC
// 9051 6.1.1). It never depends on ENABLE (RFC 9051 6.3.1).
func (s *Session) capabilities() []string {
	caps := make([]string, 0, 32)
	caps = append(caps, baseCaps...)
	if s.state == stateNotAuthenticated {
		if s.srv.cfg.TLS != nil && !s.tls {
			caps = append(caps, "STARTTLS")
		}
		// RFC 9051 6.2.3, 7.2.2: plaintext authentication is refused over
		// an unprotected connection, and the client is told so.
		if !s.plaintextAllowed() {
			caps = append(caps, "LOGINDISABLED")
		}
		// The SASL mechanisms usable on this connection (package auth):
		// PLAIN and LOGIN only where plaintext is allowed, -PLUS with TLS.
		for _, m := range s.srv.auth.Mechanisms(s.connInfo()) {
			caps = append(caps, "AUTH="+m)
		}
		return caps
	}
	caps = append(caps, authedCaps...)
	caps = append(caps, quotaCaps...) // RFC 9208, cmd_quota.go
	// RFC 7889: the largest message APPEND accepts.
	caps = append(caps, "APPENDLIMIT="+strconv.FormatInt(s.srv.cfg.MaxMessageSize, 10))
	caps = append(caps, authedCapsTail...)
	return append(caps, sortCaps...) // RFC 5256, 5957, 5267: cmd_sort.go
}

// plaintextAllowed tells whether a password may be sent on this
// connection: over TLS, from loopback, or when the configuration allows it.
func (s *Session) plaintextAllowed() bool {
	if s.tls || s.srv.cfg.AllowInsecureAuth {
		return true
	}
	return s.remote.IsLoopback() && !s.srv.cfg.loopbackInsecure
}
