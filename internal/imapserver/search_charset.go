package imapserver

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"

	"github.com/casier/casier/internal/imapwire"
)

// badCharsetCode lists some of the charsets SEARCH CHARSET accepts (RFC
// 9051 7.1 BADCHARSET: the list is optional and need not be complete;
// every charset go-message knows is accepted).
const badCharsetCode = "BADCHARSET (US-ASCII UTF-8 ISO-8859-1 ISO-8859-15 WINDOWS-1252 KOI8-R ISO-2022-JP SHIFT_JIS GB2312 BIG5)"

// maxSearchString bounds the UTF-8 produced from one search string.
const maxSearchString = 1 << 20

// searchCharset reads an optional "CHARSET" SP astring SP. It returns nil
// for US-ASCII and UTF-8 (keys are matched as UTF-8) and the charset's
// name otherwise; an unknown charset gets NO [BADCHARSET] (RFC 3501 6.4.4:
// the server SHOULD convert, RFC 9051 6.4.4). utf8Only is set for an
// IMAP4rev1 session that enabled UTF8=ACCEPT: its strings are UTF-8, so
// another charset label conflicts and gets BAD (RFC 6855 3, erratum 4029);
// a redundant UTF-8 label is tolerated.
func searchCharset(d *imapwire.Decoder, utf8Only bool) (cs *string, err error) {
	if !peekAtom(d, "CHARSET") {
		return nil, nil
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	name, err := d.AString()
	if err != nil {
		return nil, err
	}
	if cs, err = checkCharset(name, utf8Only); err != nil {
		return nil, err
	}
	return cs, d.SP()
}

// checkCharset validates a search charset name as searchCharset does (also
// used by SORT and THREAD, whose charset is not preceded by "CHARSET"):
// nil for US-ASCII and UTF-8, else the name.
func checkCharset(name string, utf8Only bool) (*string, error) {
	if utf8Charset(name) {
		return nil, nil
	}
	if utf8Only {
		return nil, errBad("", "SEARCH CHARSET conflicts with UTF8=ACCEPT")
	}
	if _, err := charset.Reader(strings.ToLower(name), strings.NewReader("")); err != nil {
		return nil, errNo(badCharsetCode, "Unsupported charset")
	}
	return &name, nil
}

func utf8Charset(name string) bool {
	switch strings.ToLower(name) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return true
	}
	return false
}

// searchTextKeys are the keys whose string argument is text in the
// search charset (RFC 3501 6.4.4); KEYWORD and the object ids are atoms.
var searchTextKeys = map[string]bool{
	"BCC": true, "BODY": true, "CC": true, "FROM": true, "HEADER": true,
	"SUBJECT": true, "TEXT": true, "TO": true,
}

// convertSearchKeys converts the text arguments of keys from charset cs
// to UTF-8, in place.
func convertSearchKeys(keys []imapwire.SearchKey, cs string) error {
	for i := range keys {
		k := &keys[i]
		if searchTextKeys[strings.ToUpper(k.Op)] && k.Value != "" {
			v, err := toUTF8String(cs, k.Value)
			if err != nil {
				return err
			}
			k.Value = v
		}
		if err := convertSearchKeys(k.Sub, cs); err != nil {
			return err
		}
	}
	return nil
}

func toUTF8String(cs, s string) (string, error) {
	r, err := charset.Reader(strings.ToLower(cs), bytes.NewReader([]byte(s)))
	if err != nil {
		return "", errNo(badCharsetCode, "Unsupported charset")
	}
	out, err := io.ReadAll(io.LimitReader(r, maxSearchString))
	if err != nil || !utf8.Valid(out) {
		return "", errBad("", "Search string is not valid in charset "+cs)
	}
	return string(out), nil
}
