// Package sortthread holds the pure algorithms of the IMAP SORT and THREAD
// extensions (RFC 5256, RFC 5957): base-subject extraction, the
// i;unicode-casemap collation (RFC 5051), sorting by precomputed keys and
// the ORDEREDSUBJECT and REFERENCES threading algorithms.
//
// Invariants:
//   - Nothing here reads a message body: keys come from the metadata
//     precomputed at delivery (envelope, Date, size, internal date and the
//     raw top-level header).
//   - Keys are computed once per message per command (Keys), so a sort
//     compares plain strings and integers.
//   - Sorting is stable over input given in ascending message-number
//     order, which gives RFC 5256's final tie-break by sequence number.
package sortthread

import (
	"strings"

	"github.com/casier/casier/internal/message"
)

// BaseSubject returns the base subject of a raw (possibly encoded) Subject
// value, exactly as RFC 5256 2.1 defines it, and whether the subject marked
// a reply or forward (a subj-refwd, a "(fwd)" trailer or a "[fwd: ...]"
// wrapper was removed), which THREAD=REFERENCES step 5 uses.
func BaseSubject(raw string) (base string, replyOrFwd bool) {
	// (1) Decode encoded-words to UTF-8; tabs and continuations become
	// spaces; runs of spaces become one space.
	s := normalizeSpace(message.DecodeHeaderValue(raw))
	for {
		// (2) Remove subj-trailer ("(fwd)" / WSP) repeatedly.
		for {
			if strings.HasSuffix(s, " ") {
				s = s[:len(s)-1]
			} else if n := len(s); n >= 5 && strings.EqualFold(s[n-5:], "(fwd)") {
				s, replyOrFwd = s[:n-5], true
			} else {
				break
			}
		}
		// (5) Repeat (3) and (4) until no matches remain.
		for changed := true; changed; {
			changed = false
			// (3) Remove all prefix text matching subj-leader.
			for {
				if strings.HasPrefix(s, " ") {
					s, changed = s[1:], true
					continue
				}
				n := refwdLeader(s)
				if n == 0 {
					break
				}
				s, changed, replyOrFwd = s[n:], true, true
			}
			// (4) Remove a leading subj-blob if that leaves a non-empty
			// subj-base.
			if n := blob(s); n > 0 && n < len(s) {
				s, changed = s[n:], true
			}
		}
		// (6) "[fwd:" subject "]": unwrap and repeat from (2).
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s, replyOrFwd = s[5:len(s)-1], true
			continue
		}
		// (7) The rest is the base subject.
		return s, replyOrFwd
	}
}

// normalizeSpace turns tabs, CR and LF into spaces and collapses runs of
// spaces (RFC 5256 2.1 step 1).
func normalizeSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			if !prevSpace {
				b.WriteByte(' ')
			}
			prevSpace = true
			continue
		}
		prevSpace = false
		b.WriteByte(c)
	}
	return b.String()
}

// blob returns the length of a subj-blob at the start of s, 0 if none:
//
//	subj-blob = "[" *BLOBCHAR "]" *WSP   ; BLOBCHAR: any CHAR8 but "[" and "]"
func blob(s string) int {
	if !strings.HasPrefix(s, "[") {
		return 0
	}
	i := 1
	for i < len(s) && s[i] != '[' && s[i] != ']' {
		i++
	}
	if i == len(s) || s[i] != ']' {
		return 0
	}
	i++
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// refwdLeader returns the length of "*subj-blob subj-refwd" at the start of
// s, 0 if none:
//
//	subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
func refwdLeader(s string) int {
	i := 0
	for {
		n := blob(s[i:])
		if n == 0 {
			break
		}
		i += n
	}
	rest := s[i:]
	switch {
	case len(rest) >= 2 && strings.EqualFold(rest[:2], "re"):
		i += 2
	case len(rest) >= 2 && strings.EqualFold(rest[:2], "fw"):
		i += 2
		if i < len(s) && (s[i] == 'd' || s[i] == 'D') {
			i++
		}
	default:
		return 0
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	i += blob(s[i:])
	if i < len(s) && s[i] == ':' {
		return i + 1
	}
	return 0
}
