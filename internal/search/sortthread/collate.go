package sortthread

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold returns the i;unicode-casemap comparison form of s (RFC 5051 2):
// each character is replaced by its simple titlecase mapping, then the
// result is put in NFKD. Two strings collate by octet comparison of their
// folded forms. Invalid UTF-8 becomes U+FFFD first (RFC 5051 2: the
// collation is defined on valid UTF-8 only). ASCII text takes a fast path:
// its titlecase is its upper case and NFKD leaves it unchanged.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return upperASCII(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		b.WriteRune(unicode.ToTitle(r))
	}
	return norm.NFKD.String(b.String())
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'a' <= c && c <= 'z' {
					b[j] = c - 'a' + 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
