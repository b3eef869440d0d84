package imapurl

import "strings"

// Character classes of RFC 5092 11 (from RFC 3986):
//
//	uchar    = unreserved / sub-delims-sh / pct-encoded
//	achar    = uchar / "&" / "=" / "~"
//	bchar    = achar / ":" / "@" / "/"
//	sub-delims-sh = "!" / "$" / "'" / "(" / ")" / "*" / "+" / ","
func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool { return strings.IndexByte("!$'()*+,", c) >= 0 }

func isAChar(c byte) bool { return isUnreserved(c) || isSubDelim(c) || c == '&' || c == '=' }

func isBChar(c byte) bool { return isAChar(c) || c == ':' || c == '@' || c == '/' }

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// decode undoes percent-encoding; every other byte must be in the class.
func decode(s string, ok func(byte) bool) (string, error) {
	if !strings.Contains(s, "%") {
		for i := 0; i < len(s); i++ {
			if !ok(s[i]) {
				return "", syntaxErr("invalid character " + quoteShort(s[i:i+1]))
			}
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", syntaxErr("invalid percent-encoding")
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		if !ok(c) {
			return "", syntaxErr("invalid character " + quoteShort(s[i:i+1]))
		}
		b = append(b, c)
	}
	return string(b), nil
}

// encode percent-encodes every byte outside the class.
func encode(s string, ok func(byte) bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ok(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isSectionChar(c byte) bool { return c != '/' && isBChar(c) }
