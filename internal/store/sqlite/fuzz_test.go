package sqlite

import (
	"strings"
	"testing"
)

// FuzzNormName: mailbox names come from clients. Normalising never
// panics, is idempotent, and never lets an empty level or a control
// character through.
func FuzzNormName(f *testing.F) {
	for _, s := range []string{"INBOX", "inbox/x", "a//b", "/a", "a/", "Reçus/日本", "a\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := normName(s)
		if err != nil {
			return
		}
		if n2, err := normName(n); err != nil || n2 != n {
			t.Fatalf("normName not idempotent: %q -> %q -> %q, %v", s, n, n2, err)
		}
		for _, level := range strings.Split(n, "/") {
			if level == "" {
				t.Fatalf("empty level in %q", n)
			}
		}
		if strings.ContainsAny(n, "\x00\r\n") {
			t.Fatalf("control character in %q", n)
		}
		if strings.EqualFold(n, "INBOX") && n != "INBOX" {
			t.Fatalf("INBOX not folded: %q", n)
		}
	})
}

// FuzzParseFlags: flags come from clients. Keywords that survive are atoms
// that round-trip through the stored column, with no duplicates.
func FuzzParseFlags(f *testing.F) {
	f.Add(`\Seen`, "$Label", "$label")
	f.Add(`\Recent`, "a b", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		bits, kws := parseFlags([]string{a, b, c})
		if bits >= 1<<numBits {
			t.Fatalf("bits %b", bits)
		}
		back := splitKeywords(joinKeywords(kws))
		if len(back) != len(kws) || !sameKeywords(back, kws) {
			t.Fatalf("keywords %q round-trip to %q", kws, back)
		}
		for i, k := range kws {
			if !validKeyword(k) {
				t.Fatalf("invalid keyword %q kept", k)
			}
			for _, k2 := range kws[i+1:] {
				if strings.EqualFold(k, k2) {
					t.Fatalf("duplicate keywords %q %q", k, k2)
				}
			}
		}
	})
}
