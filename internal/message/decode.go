package message

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// ErrUnknownEncoding is returned by DecodeBody for a Content-Transfer-Encoding
// it cannot undo (RFC 3516 4.3: the server answers NO [UNKNOWN-CTE]).
var ErrUnknownEncoding = errors.New("message: unknown content-transfer-encoding")

// maxDecodedText bounds how much text charset conversion produces for one
// part, against decompression-like blowups in odd charsets.
const maxDecodedText = 64 << 20

// normCharset lower-cases a charset label and drops an RFC 2231 5 language
// suffix ("utf-8*en").
func normCharset(cs string) string {
	cs = strings.ToLower(strings.Trim(cs, " \t\"'"))
	if k := strings.IndexByte(cs, '*'); k >= 0 {
		cs = cs[:k]
	}
	return cs
}

// toUTF8 converts b from charset cs to UTF-8, never failing: an unknown or
// absent charset keeps valid UTF-8 as is and otherwise reads the bytes as
// Windows-1252 (the usual truth behind undeclared 8-bit mail); invalid
// sequences become U+FFFD.
func toUTF8(cs string, b []byte) string {
	switch normCharset(cs) {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "unicode-1-1-utf-8", "x-unknown", "unknown-8bit":
		return fallbackUTF8(b)
	}
	r, err := charset.Reader(normCharset(cs), bytes.NewReader(b))
	if err != nil {
		return fallbackUTF8(b)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecodedText))
	if err != nil {
		return fallbackUTF8(b)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func fallbackUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// wordDecoder decodes one RFC 2047 encoded-word; charsets beyond UTF-8,
// US-ASCII and ISO-8859-1 (built into package mime) come from go-message's
// charset tables.
var wordDecoder = mime.WordDecoder{
	CharsetReader: func(cs string, input io.Reader) (io.Reader, error) {
		cs = normCharset(cs)
		switch cs {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return input, nil
		}
		return charset.Reader(cs, input)
	},
}

// DecodeHeaderValue decodes RFC 2047 encoded-words in a header value to
// UTF-8. It is tolerant: a word that cannot be decoded (bad syntax, unknown
// charset) is kept as written; white space between two adjacent
// encoded-words is dropped (RFC 2047 6.2); encoded-words glued to other text
// are decoded too, as mail readers do. Raw 8-bit text that is not UTF-8 is
// read as Windows-1252.
func DecodeHeaderValue(v string) string {
	if !strings.Contains(v, "=?") {
		if utf8.ValidString(v) {
			return v
		}
		return fallbackUTF8([]byte(v))
	}
	var out strings.Builder
	lastWasWord := false // RFC 2047 6.2: drop white space between two encoded-words
	i := 0
	for i < len(v) {
		k := strings.Index(v[i:], "=?")
		if k < 0 {
			break
		}
		start := i + k
		word, end := encodedWordAt(v, start)
		if word == "" {
			// Not an encoded-word: copy through the "=?" and go on.
			out.WriteString(fallbackUTF8([]byte(v[i : start+2])))
			lastWasWord, i = false, start+2
			continue
		}
		dec, err := wordDecoder.Decode(word)
		if err != nil {
			out.WriteString(fallbackUTF8([]byte(v[i:end])))
			lastWasWord, i = false, end
			continue
		}
		if between := v[i:start]; !lastWasWord || strings.Trim(between, " \t\r\n") != "" {
			out.WriteString(fallbackUTF8([]byte(between)))
		}
		out.WriteString(strings.ToValidUTF8(dec, "\uFFFD"))
		lastWasWord, i = true, end
	}
	out.WriteString(fallbackUTF8([]byte(v[i:])))
	return out.String()
}

const maxEncodedWord = 1000

// encodedWordAt returns the encoded-word "=?charset?enc?text?=" starting at
// v[start] and the index just after it, or "" if there is none.
func encodedWordAt(v string, start int) (string, int) {
	// RFC 2047 2 limits an encoded-word to 75 characters; allow more but
	// bound the search so that many "=?" cannot make decoding quadratic.
	if len(v)-start > maxEncodedWord {
		v = v[:start+maxEncodedWord]
	}
	p := start + 2
	q1 := strings.IndexByte(v[p:], '?')
	if q1 <= 0 {
		return "", 0
	}
	p += q1 + 1 // at the encoding letter
	if p+2 > len(v) || v[p+1] != '?' {
		return "", 0
	}
	switch v[p] {
	case 'q', 'Q', 'b', 'B':
	default:
		return "", 0
	}
	p += 2
	e := strings.Index(v[p:], "?=")
	if e < 0 {
		return "", 0
	}
	end := p + e + 2
	word := v[start:end]
	if strings.ContainsAny(word, " \t\r\n") {
		return "", 0
	}
	return word, end
}

// DecodeBody returns the body of p with its Content-Transfer-Encoding undone
// (base64, quoted-printable; 7bit, 8bit, binary and none as is), for FETCH
// BINARY (RFC 3516). Decoding is lenient: characters outside the base64
// alphabet are skipped, malformed quoted-printable escapes are kept as
// written. For an identity encoding the result aliases raw: do not modify
// it. Another encoding gives ErrUnknownEncoding.
func DecodeBody(raw []byte, p *Part) ([]byte, error) {
	body, err := partBody(raw, p)
	if err != nil {
		return nil, err
	}
	switch p.Encoding {
	case "", "7BIT", "8BIT", "BINARY":
		return body, nil
	case "BASE64":
		out, _ := base64Decode(body, make([]byte, 0, len(body)*3/4+3))
		return out, nil
	case "QUOTED-PRINTABLE":
		out, _ := qpDecode(body, make([]byte, 0, len(body)))
		return out, nil
	}
	return nil, ErrUnknownEncoding
}

func partBody(raw []byte, p *Part) ([]byte, error) {
	if p == nil || p.BodyStart < 0 || p.BodyStart > p.BodyEnd || p.BodyEnd > int64(len(raw)) {
		return nil, fmt.Errorf("message: part offsets out of range for a %d-byte message", len(raw))
	}
	return raw[p.BodyStart:p.BodyEnd], nil
}

// PartText returns the body of a text part as UTF-8: transfer encoding
// undone (an unknown one is left as is) and converted from its charset
// parameter (unknown charsets fall back as toUTF8 says). It fails only when
// p does not fit raw.
func PartText(raw []byte, p *Part) (string, error) {
	body, err := DecodeBody(raw, p)
	if errors.Is(err, ErrUnknownEncoding) {
		body, err = partBody(raw, p)
	}
	if err != nil {
		return "", err
	}
	return toUTF8(p.Param("charset"), body), nil
}

// decodedSize is the size of p's body after DecodeBody, computed without
// building it (BINARY.SIZE, RFC 3516 4.2).
func decodedSize(body []byte, enc string) int64 {
	switch enc {
	case "BASE64":
		return int64(base64Size(body))
	case "QUOTED-PRINTABLE":
		_, n := qpDecode(body, nil)
		return int64(n)
	}
	return int64(len(body))
}

// b64val maps base64 alphabet bytes to their value, others to 0xff.
var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// base64Decode decodes RFC 2045 6.8 base64, skipping bytes outside the
// alphabet (line ends, stray characters). "=" ends a quantum, so blobs
// concatenated after padding still decode. If out is nil only the decoded
// length is computed.
func base64Decode(src, out []byte) ([]byte, int) {
	emit := out != nil
	n := 0
	var acc uint32
	k := 0 // sextets in acc
	flush := func() {
		switch k {
		case 2:
			n++
			if emit {
				out = append(out, byte(acc>>4))
			}
		case 3:
			n += 2
			if emit {
				out = append(out, byte(acc>>10), byte(acc>>2))
			}
		}
		acc, k = 0, 0
	}
	for _, c := range src {
		v := b64val[c]
		if v == 0xff {
			if c == '=' {
				flush()
			}
			continue
		}
		acc = acc<<6 | uint32(v)
		k++
		if k == 4 {
			n += 3
			if emit {
				out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			}
			acc, k = 0, 0
		}
	}
	flush()
	return out, n
}

// base64Size is len(base64Decode(src)) without decoding: what the
// delivery path needs, in one tight pass.
func base64Size(src []byte) int {
	n, k := 0, 0 // k: sextets since the last "="
	for _, c := range src {
		if b64val[c] != 0xff {
			k++
		} else if c == '=' {
			n += sextetBytes(k)
			k = 0
		}
	}
	return n + sextetBytes(k)
}

// sextetBytes is how many bytes k base64 characters decode to.
func sextetBytes(k int) int {
	n := k / 4 * 3
	switch k % 4 {
	case 2:
		n++
	case 3:
		n += 2
	}
	return n
}

// qpDecode decodes RFC 2045 6.7 quoted-printable: "=XX" escapes, soft line
// breaks ("=" at end of line), trailing white space of each line removed
// (rule 3, transport padding). Hard line ends are kept as written (CRLF or
// LF). A malformed "=" is kept literally. If out is nil only the decoded
// length is computed.
func qpDecode(src, out []byte) ([]byte, int) {
	emit := out != nil
	n := 0
	end := len(src)
	for pos := 0; pos < end; {
		contentEnd, next := nextLine(src, pos, end)
		lineEnd := src[contentEnd:next] // "", "\n" or "\r\n"
		for contentEnd > pos && isWSP(src[contentEnd-1]) {
			contentEnd--
		}
		soft := contentEnd > pos && src[contentEnd-1] == '='
		if soft {
			contentEnd--
		}
		for i := pos; i < contentEnd; i++ {
			c := src[i]
			if c == '=' && i+2 < contentEnd && isHex(src[i+1]) && isHex(src[i+2]) {
				c = unhex(src[i+1])<<4 | unhex(src[i+2])
				i += 2
			}
			n++
			if emit {
				out = append(out, c)
			}
		}
		if !soft {
			n += len(lineEnd)
			if emit {
				out = append(out, lineEnd...)
			}
		}
		pos = next
	}
	return out, n
}
