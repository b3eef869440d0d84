package imapwire

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
)

// Modified UTF-7 (RFC 3501 5.1.3): printable US-ASCII stands for itself
// except "&", written "&-"; every other character is UTF-16 in a modified
// BASE64 run between "&" and "-", with "," instead of "/" and no padding.

var mbase64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").
	WithPadding(base64.NoPadding).Strict()

func isPrintableASCII(r rune) bool { return r >= 0x20 && r <= 0x7e }

// EncodeMailboxUTF7 encodes a UTF-8 mailbox name in modified UTF-7, in its
// shortest form. Invalid UTF-8 bytes are encoded as U+FFFD.
func EncodeMailboxUTF7(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	var units []uint16
	flush := func() {
		if len(units) == 0 {
			return
		}
		raw := make([]byte, 2*len(units))
		for i, u := range units {
			raw[2*i] = byte(u >> 8)
			raw[2*i+1] = byte(u)
		}
		b.WriteByte('&')
		b.WriteString(mbase64.EncodeToString(raw))
		b.WriteByte('-')
		units = units[:0]
	}
	for _, r := range s {
		if isPrintableASCII(r) {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteByte(byte(r))
			}
			continue
		}
		units = utf16.AppendRune(units, r)
	}
	flush()
	return b.String()
}

// DecodeMailboxUTF7 decodes a modified UTF-7 mailbox name to UTF-8. Only
// the canonical form that EncodeMailboxUTF7 produces is accepted (RFC 3501
// 5.1.3 forbids encoding printable US-ASCII; adjacent runs, non-zero
// padding bits, odd octets and unpaired surrogates are rejected too), so
// every name has one spelling.
func DecodeMailboxUTF7(s string) (string, error) {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return "", syntaxErr("mailbox name: invalid character (modified UTF-7 expected)")
		} else if c == '&' {
			plain = false
		}
	}
	if plain {
		return s, nil
	}
	var b strings.Builder
	runEnd := -1 // index just after the last base64 run
	for i := 0; i < len(s); {
		c := s[i]
		if c != '&' {
			b.WriteByte(c)
			i++
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return "", syntaxErr("mailbox name: unterminated modified UTF-7 run")
		}
		j += i + 1
		if j == i+1 {
			b.WriteByte('&')
			i = j + 1
			continue
		}
		if i == runEnd {
			return "", syntaxErr("mailbox name: adjacent modified UTF-7 runs")
		}
		raw, err := mbase64.DecodeString(s[i+1 : j])
		if err != nil || len(raw)%2 != 0 {
			return "", syntaxErr("mailbox name: invalid modified BASE64")
		}
		for k := 0; k < len(raw); k += 2 {
			u := rune(raw[k])<<8 | rune(raw[k+1])
			switch {
			case utf16.IsSurrogate(u):
				if u >= 0xdc00 || k+3 >= len(raw) {
					return "", syntaxErr("mailbox name: unpaired surrogate")
				}
				k += 2
				u2 := rune(raw[k])<<8 | rune(raw[k+1])
				r := utf16.DecodeRune(u, u2)
				if r == 0xfffd {
					return "", syntaxErr("mailbox name: unpaired surrogate")
				}
				b.WriteRune(r)
			case isPrintableASCII(u):
				return "", syntaxErr("mailbox name: encoded printable US-ASCII")
			default:
				b.WriteRune(u)
			}
		}
		i = j + 1
		runEnd = i
	}
	return b.String(), nil
}
