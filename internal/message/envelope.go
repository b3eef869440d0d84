package message

import (
	"net/mail"
	"strings"
	"time"
)

// envelopeField reports whether a header field name (lower case) feeds the
// envelope, so the header scanner keeps it.
func envelopeField(name []byte) bool {
	switch len(name) {
	case 2:
		return eqFold(name, "to") || eqFold(name, "cc")
	case 3:
		return eqFold(name, "bcc")
	case 4:
		return eqFold(name, "date") || eqFold(name, "from")
	case 6:
		return eqFold(name, "sender")
	case 7:
		return eqFold(name, "subject")
	case 8:
		return eqFold(name, "reply-to")
	case 10:
		return eqFold(name, "message-id")
	case 11:
		return eqFold(name, "in-reply-to")
	}
	return false
}

// buildEnvelope computes the RFC 9051 7.5.2 envelope from a message
// header. The first occurrence of each field is used. Values are unfolded
// but not decoded.
func buildEnvelope(raw []byte, fields []hfield) Envelope {
	var env Envelope
	var seen [10]bool
	set := func(i int) bool {
		if seen[i] {
			return false
		}
		seen[i] = true
		return true
	}
	for _, f := range fields {
		name := f.name(raw)
		switch {
		case eqFold(name, "date"):
			if set(0) {
				env.Date = f.unfold(raw)
			}
		case eqFold(name, "subject"):
			if set(1) {
				env.Subject = f.unfold(raw)
			}
		case eqFold(name, "from"):
			if set(2) {
				env.From = parseAddressList(f.unfold(raw))
			}
		case eqFold(name, "sender"):
			if set(3) {
				env.Sender = parseAddressList(f.unfold(raw))
			}
		case eqFold(name, "reply-to"):
			if set(4) {
				env.ReplyTo = parseAddressList(f.unfold(raw))
			}
		case eqFold(name, "to"):
			if set(5) {
				env.To = parseAddressList(f.unfold(raw))
			}
		case eqFold(name, "cc"):
			if set(6) {
				env.Cc = parseAddressList(f.unfold(raw))
			}
		case eqFold(name, "bcc"):
			if set(7) {
				env.Bcc = parseAddressList(f.unfold(raw))
			}
		case eqFold(name, "in-reply-to"):
			if set(8) {
				env.InReplyTo = f.unfold(raw)
			}
		case eqFold(name, "message-id"):
			if set(9) {
				env.MessageID = f.unfold(raw)
			}
		}
	}
	// RFC 3501 7.4.2 (kept by RFC 9051 7.5.2): if Sender or Reply-To is
	// absent or empty, the server sets it to the value of From.
	if len(env.Sender) == 0 {
		env.Sender = env.From
	}
	if len(env.ReplyTo) == 0 {
		env.ReplyTo = env.From
	}
	return env
}

// dateLayouts are tried after net/mail.ParseDate fails, for variants seen in
// real mail: missing seconds or weekday, named or missing zones, two-digit
// years, and asctime-like dates.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04:05",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon, 2 Jan 2006 15.04.05 -0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05Z07:00",
}

// parseDate parses a Date: header value; zero time if it cannot.
func parseDate(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t
	}
	// Drop comments ("(CEST)"), commas doubled, and extra white space.
	v := valueScanner{s: s}
	var b strings.Builder
	for v.i < len(v.s) {
		if v.s[v.i] == '(' {
			v.skipComment()
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(v.s[v.i])
		v.i++
	}
	clean := strings.Join(strings.Fields(b.String()), " ")
	clean = strings.ReplaceAll(clean, ",,", ",")
	if t, err := mail.ParseDate(clean); err == nil {
		return t
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, clean); err == nil {
			return t
		}
	}
	return time.Time{}
}
