package search

import "github.com/casier/casier/internal/message"

// decodeHeader decodes RFC 2047 encoded-words of an unfolded header value
// to UTF-8.
func decodeHeader(v string) string {
	return message.DecodeHeaderValue(v)
}

// partText returns the body of a text part with its Content-Transfer-Encoding
// undone and converted from its charset to UTF-8; ok is false when the part
// cannot be decoded.
func partText(raw []byte, p *message.Part) ([]byte, bool) {
	s, err := message.PartText(raw, p)
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}
