// Package search evaluates IMAP search programs (RFC 9051 6.4.4, RFC 3501
// 6.4.4 and the extensions CONDSTORE, WITHIN, SAVEDATE, SEARCHRES and
// OBJECTID) against the messages of one mailbox.
//
// It works on the metadata precomputed at delivery (store.Record): flags,
// sizes, dates and the raw top-level header never require opening the
// message; only BODY and TEXT load the message through Message.Body, once
// per message.
//
// Usage: compile the keys once per command with Compile, then call
// Program.Match for each candidate. Match (the package function) compiles
// on every call and is a convenience for tests and one-off checks.
//
// Invariants:
//   - A Program is immutable after Compile and safe for concurrent use.
//   - Evaluation never panics on malformed headers or bodies: an unreadable
//     part simply matches nothing; only errors from Message.Body are returned.
//   - String matching is a substring test after Unicode full case folding
//     and NFC normalisation of both sides (close to i;unicode-casemap,
//     RFC 5051), with a zero-allocation path for ASCII text.
package search

import (
	"strconv"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// Message is one candidate.
type Message struct {
	SeqNum uint32
	Record *store.Record
	Recent bool                   // rev1 \Recent in this session
	Body   func() ([]byte, error) // loads the raw message; called only when a key needs it
}

// Env is the evaluation context.
type Env struct {
	MaxSeq uint32    // number of messages in the mailbox ("*" for sequence sets)
	MaxUID uint32    // highest UID in the mailbox ("*" for UID sets)
	Now    time.Time // for OLDER/YOUNGER
	// Saved holds the UIDs of the saved result ("$", RFC 5182), ascending;
	// nil if none (then "$" names no message).
	Saved []uint32
	// Location is the time zone in which internal and save dates are turned
	// into calendar dates for BEFORE/ON/SINCE and SAVED*. nil means each
	// date's own zone (for an internal date, the zone given at APPEND).
	Location *time.Location
}

// EmailID formats a stored body's id as the RFC 8474 EMAILID. FETCH EMAILID
// must use this function so that SEARCH EMAILID finds what FETCH returned.
func EmailID(id store.MessageID) string {
	return "M" + strconv.FormatInt(int64(id), 10)
}

// NeedsBody reports whether evaluating keys may require message bodies (BODY, TEXT).
func NeedsBody(keys []imapwire.SearchKey) bool {
	for i := range keys {
		switch keys[i].Op {
		case "BODY", "TEXT":
			return true
		}
		if NeedsBody(keys[i].Sub) {
			return true
		}
	}
	return false
}

// Match evaluates the ANDed keys against one message. It compiles keys on
// every call: callers matching many messages should Compile once and use
// Program.Match.
func Match(keys []imapwire.SearchKey, m *Message, env *Env) (bool, error) {
	p, err := Compile(keys)
	if err != nil {
		return false, err
	}
	return p.Match(m, env)
}
