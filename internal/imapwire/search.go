package imapwire

import (
	"strings"
)

// maxSearchDepth bounds the nesting of NOT, OR and parentheses.
const maxSearchDepth = 64

// Search key arities (RFC 9051 6.4.4 and 9; RFC 3501 6.4.4 for NEW, OLD,
// RECENT; extensions as noted).
var (
	searchFlagKeys = map[string]bool{
		"ALL": true, "ANSWERED": true, "DELETED": true, "DRAFT": true, "FLAGGED": true,
		"SEEN": true, "UNANSWERED": true, "UNDELETED": true, "UNDRAFT": true,
		"UNFLAGGED": true, "UNSEEN": true,
		"NEW": true, "OLD": true, "RECENT": true, // RFC 3501 only
		"SAVEDATESUPPORTED": true, // RFC 8514 4.2
	}
	searchStringKeys = map[string]bool{
		"BCC": true, "BODY": true, "CC": true, "FROM": true, "SUBJECT": true, "TEXT": true, "TO": true,
	}
	searchDateKeys = map[string]bool{
		"BEFORE": true, "ON": true, "SINCE": true,
		"SENTBEFORE": true, "SENTON": true, "SENTSINCE": true,
		"SAVEDBEFORE": true, "SAVEDON": true, "SAVEDSINCE": true, // RFC 8514 4.2
	}
)

// SearchKeys reads the search program of SEARCH (RFC 9051 6.4.4): one or
// more search keys, ANDed, up to the end of the arguments. The caller reads
// "CHARSET x" (RFC 3501) and "RETURN (...)" (RFC 4731/9051) first; the space
// before the first key may be left for SearchKeys to consume. String
// arguments are astrings, so they may be literals.
func (d *Decoder) SearchKeys() ([]SearchKey, error) {
	d.begin()
	// The space before the first key, unless the caller consumed it.
	if d.PeekSP() {
		s := d.seg()
		if d.pos == 0 || s.text[d.pos-1] != ' ' {
			d.pos++
		}
	}
	var keys []SearchKey
	for {
		k, err := d.searchKey(0)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		if !d.More() {
			return keys, nil
		}
		if err := d.SP(); err != nil {
			return nil, syntaxErr("expected space between search keys")
		}
	}
}

func (d *Decoder) searchKey(depth int) (SearchKey, error) {
	if depth > maxSearchDepth {
		return SearchKey{}, syntaxErr("search program nested too deeply")
	}
	switch c := d.byteAt(d.si, d.pos); {
	case c == '(':
		k := SearchKey{Op: "AND"}
		err := d.List(func() error {
			sub, err := d.searchKey(depth + 1)
			k.Sub = append(k.Sub, sub)
			return err
		})
		if err != nil {
			return SearchKey{}, err
		}
		if len(k.Sub) == 0 {
			return SearchKey{}, syntaxErr("empty search key list")
		}
		return k, nil
	case isDigit(c) || c == '*' || c == '$':
		set, err := d.SeqSet()
		if err != nil {
			return SearchKey{}, err
		}
		return SearchKey{Op: "SEQSET", Seq: &set}, nil
	}
	name, err := d.Atom()
	if err != nil {
		return SearchKey{}, syntaxErr("expected search key")
	}
	op := upperASCII(name)
	k := SearchKey{Op: op}
	switch {
	case searchFlagKeys[op]:
		return k, nil
	case searchStringKeys[op]:
		k.Value, err = d.spThen(d.AString)
	case searchDateKeys[op]:
		if err = d.SP(); err == nil {
			k.Date, err = d.Date()
		}
	default:
		switch op {
		case "KEYWORD", "UNKEYWORD":
			k.Value, err = d.spThen(d.Atom)
		case "HEADER":
			if k.Field, err = d.spThen(d.AString); err == nil {
				k.Value, err = d.spThen(d.AString)
			}
		case "LARGER", "SMALLER":
			if err = d.SP(); err == nil {
				k.Number, err = d.Number64()
			}
		case "NOT":
			if err = d.SP(); err == nil {
				var sub SearchKey
				sub, err = d.searchKey(depth + 1)
				k.Sub = []SearchKey{sub}
			}
		case "OR":
			var a, b SearchKey
			if err = d.SP(); err == nil {
				if a, err = d.searchKey(depth + 1); err == nil {
					if err = d.SP(); err == nil {
						b, err = d.searchKey(depth + 1)
					}
				}
			}
			k.Sub = []SearchKey{a, b}
		case "UID":
			if err = d.SP(); err == nil {
				var set SeqSet
				set, err = d.SeqSet()
				k.Seq = &set
			}
		case "MODSEQ":
			err = d.searchModseq(&k)
		case "OLDER", "YOUNGER": // RFC 5032 3: nz-number seconds
			if err = d.SP(); err == nil {
				var n uint32
				if n, err = d.Number(); err == nil && n == 0 {
					err = syntaxErr(op + " needs a non-zero number")
				}
				k.Number = uint64(n)
			}
		case "EMAILID", "THREADID": // RFC 8474 6: objectid
			if k.Value, err = d.spThen(d.Atom); err == nil && !validObjectID(k.Value) {
				err = syntaxErr("invalid object id")
			}
		default:
			return SearchKey{}, syntaxErr("unknown search key " + op)
		}
	}
	if err != nil {
		return SearchKey{}, err
	}
	return k, nil
}

// spThen reads SP then one token with read.
func (d *Decoder) spThen(read func() (string, error)) (string, error) {
	if err := d.SP(); err != nil {
		return "", err
	}
	return read()
}

// searchModseq reads the arguments of MODSEQ (RFC 7162 3.1.5):
//
//	"MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer
//
// The entry (a quoted "/flags/..." name and priv/shared/all) is checked
// and ignored: Casier keeps one mod-sequence per message.
func (d *Decoder) searchModseq(k *SearchKey) error {
	if err := d.SP(); err != nil {
		return err
	}
	if d.atLiteral() || d.byteAt(d.si, d.pos) == '"' {
		entry, err := d.String()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(strings.ToLower(entry), "/flags/") {
			return syntaxErr("invalid MODSEQ entry name")
		}
		t, err := d.spThen(d.Atom)
		if err != nil {
			return err
		}
		switch strings.ToLower(t) {
		case "priv", "shared", "all":
		default:
			return syntaxErr("invalid MODSEQ entry type")
		}
		if err := d.SP(); err != nil {
			return err
		}
	}
	n, err := d.Number64()
	k.Number = n
	return err
}

// validObjectID checks objectid = 1*255(ALPHA / DIGIT / "_" / "-").
func validObjectID(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
