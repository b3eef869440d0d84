package search

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// foldString is the comparison form of a string: Unicode full case folding
// then NFC, so "ÉTÉ" and "été" (composed or not) compare equal. For ASCII
// it is plain lower case.
func foldString(s string) string {
	if isASCII(s) {
		return asciiLower(s)
	}
	return norm.NFC.String(cases.Fold().String(s))
}

// foldBytes is foldString for text that is not ASCII.
func foldBytes(b []byte) []byte {
	return norm.NFC.Bytes(cases.Fold().Bytes(b))
}

func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// textSeg is a piece of searchable text. When ascii is true, text is the
// original ASCII text and is compared ignoring ASCII case; otherwise text
// is already in folded form (foldString) and compared exactly.
type textSeg struct {
	text  []byte
	ascii bool
}

// contains reports whether the folded needle occurs in the segment. The
// empty needle occurs everywhere (RFC 9051 6.4.4: the empty string is a
// substring of anything).
func (t textSeg) contains(needle string) bool {
	if t.ascii {
		return containsFoldASCII(t.text, needle)
	}
	return bytes.Contains(t.text, []byte(needle))
}

// containsFoldASCII searches the lower-case needle in h ignoring ASCII case.
// A needle with non-ASCII bytes never matches ASCII text, as expected.
func containsFoldASCII(h []byte, needle string) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	first := needle[0]
	for i := 0; i+n <= len(h); i++ {
		if lowerByte(h[i]) != first {
			continue
		}
		j := 1
		for j < n && lowerByte(h[i+j]) == needle[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// makeSeg turns decoded UTF-8 text into a segment, folding it unless it is
// ASCII. The result may alias b.
func makeSeg(b []byte) textSeg {
	if isASCII(b) {
		return textSeg{text: b, ascii: true}
	}
	return textSeg{text: foldBytes(b)}
}
