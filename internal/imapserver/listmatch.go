package imapserver

import "strings"

// Wildcard matching of LIST/LSUB patterns (RFC 9051 6.3.9):
//
//   - '*' matches zero or more characters at this position, including the
//     hierarchy delimiter;
//   - '%' is like '*' but does not match the hierarchy delimiter '/'.
//
// The reference and the mailbox argument are joined into one canonical
// pattern first. INBOX is case-insensitive (RFC 9051 5.1): a canonical
// pattern whose first level spells INBOX in any case is read as "INBOX".
// Beyond that, matching is case-sensitive: RFC 9051 6.3.9 lists INBOX when
// "the uppercase string INBOX matches" the pattern, so "in*" does not.
//
// Matching runs on bytes: '/', '%' and '*' are ASCII and never occur inside
// a multi-byte UTF-8 sequence, so byte matching is exact for UTF-8 names.

// maxPatternLen bounds a canonical pattern. Longer patterns match nothing:
// RFC 5258 3 lets a server silently ignore a pattern it does not accept,
// and the bound keeps matching cost at O(len(pattern) * len(name)).
const maxPatternLen = 1024

// canonicalPattern joins a LIST reference and mailbox pattern. RFC 9051
// 6.3.9 interprets them "into a canonical form that represents an
// unambiguous left-to-right hierarchy"; with our single personal namespace
// whose prefix is "", that is plain concatenation. A doubled delimiter at
// the join ("a/" + "/b") is collapsed, since names never contain empty
// levels. A first level spelling INBOX in any case becomes "INBOX".
func canonicalPattern(ref, pat string) string {
	if strings.HasSuffix(ref, "/") && strings.HasPrefix(pat, "/") {
		pat = pat[1:]
	}
	p := ref + pat
	if len(p) >= 5 && strings.EqualFold(p[:5], "INBOX") && (len(p) == 5 || p[5] == '/') {
		p = "INBOX" + p[5:]
	}
	return p
}

// listPattern is a compiled canonical pattern.
type listPattern struct {
	p  string
	ok bool // false: the pattern is ignored (too long)
}

// compilePattern prepares a canonical pattern for matching: consecutive
// wildcards are merged ("**", "%*" and "*%" are "*", "%%" is "%"), which
// keeps matching cost bounded for hostile input.
func compilePattern(p string) listPattern {
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if (c == '*' || c == '%') && len(b) > 0 {
			switch last := b[len(b)-1]; {
			case last == '*':
				continue
			case last == '%':
				if c == '*' {
					b[len(b)-1] = '*'
				}
				continue
			}
		}
		b = append(b, c)
	}
	return listPattern{p: string(b), ok: len(b) <= maxPatternLen}
}

// match reports whether name (a full UTF-8 mailbox name as the store spells
// it, INBOX in upper case) matches the pattern.
func (lp listPattern) match(name string) bool {
	return lp.ok && wildMatch(lp.p, name)
}

// wildMatch is a dynamic-programming matcher: row[j] says whether the
// pattern processed so far matches name[:j]. O(len(p) * len(name)) time,
// O(len(name)) space, no backtracking.
func wildMatch(p, name string) bool {
	n := len(name)
	prev := make([]bool, n+1)
	cur := make([]bool, n+1)
	prev[0] = true
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			cur[0] = prev[0]
			for j := 1; j <= n; j++ {
				cur[j] = prev[j] || cur[j-1]
			}
		case '%':
			cur[0] = prev[0]
			for j := 1; j <= n; j++ {
				cur[j] = prev[j] || (cur[j-1] && name[j-1] != '/')
			}
		default:
			cur[0] = false
			for j := 1; j <= n; j++ {
				cur[j] = prev[j-1] && name[j-1] == c
			}
		}
		prev, cur = cur, prev
	}
	return prev[n]
}

// patternSet is the set of canonical patterns of one LIST command (RFC 5258
// allows several); a name is listed once if it matches any.
type patternSet []listPattern

func (ps patternSet) match(name string) bool {
	for _, p := range ps {
		if p.match(name) {
			return true
		}
	}
	return false
}

// parentNames returns the proper ancestors of name, nearest last:
// "a/b/c" -> ["a", "a/b"].
func parentNames(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == '/' && i > 0 {
			out = append(out, name[:i])
		}
	}
	return out
}
