package imapwire

import (
	"testing"
	"unicode/utf8"
)

func TestMailboxUTF7(t *testing.T) {
	// Pairs valid in both directions (RFC 3501 5.1.3 example first).
	pairs := []struct{ utf8, utf7 string }{
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"", ""},
		{"INBOX", "INBOX"},
		{"&", "&-"},
		{"A&B", "A&-B"},
		{"&&", "&-&-"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"Corbeille ☺", "Corbeille &Jjo-"},
		{"☺&", "&Jjo-&-"},
		{"☺☺", "&JjomOg-"},
		{"𝄞", "&2DTdHg-"}, // surrogate pair
		{"a\tb", "a&AAk-b"},
		{"\x7f", "&AH8-"},
		{"Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"},
		{"ü/", "&APw-/"},
	}
	for _, p := range pairs {
		if got := EncodeMailboxUTF7(p.utf8); got != p.utf7 {
			t.Errorf("Encode(%q) = %q, want %q", p.utf8, got, p.utf7)
		}
		got, err := DecodeMailboxUTF7(p.utf7)
		if err != nil || got != p.utf8 {
			t.Errorf("Decode(%q) = %q, %v, want %q", p.utf7, got, err, p.utf8)
		}
	}
	bad := []string{
		"&",          // unterminated
		"&Jjo",       // unterminated
		"&AGE-",      // encodes "a": printable ASCII must be itself
		"&ACY-",      // encodes "&"
		"&Jjo-&Jjo-", // two adjacent runs: should be one
		"&Jj-",       // 12 bits: not a whole UTF-16 unit
		"&Jjp-",      // non-zero padding bits
		"&2DQ-",      // lone high surrogate
		"&3R4-",      // lone low surrogate
		"&2DTYNA-",   // high surrogate followed by high surrogate
		"&Jjo/-",     // "/" is not modified BASE64
		"&Jjo=-",     // padding
		"café",       // raw 8-bit
		"a\tb",       // raw control character
		"&J&o-",
	}
	for _, s := range bad {
		if got, err := DecodeMailboxUTF7(s); !isSyntaxErr(err) {
			t.Errorf("Decode(%q) = %q, %v; want SyntaxError", s, got, err)
		}
	}
	// Invalid UTF-8 is encoded as U+FFFD.
	if got := EncodeMailboxUTF7("a\xffb"); got != "a&,,0-b" {
		t.Errorf("Encode(invalid) = %q", got)
	}
}

func FuzzMailboxUTF7(f *testing.F) {
	for _, s := range []string{"~peter/mail/&U,BTFw-/&ZeVnLIqe-", "&-", "&Jjo-&-", "&2DTdHg-", "INBOX", "&AGE-", "Entwürfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Decoding accepts only the canonical form, so encoding gives it back.
		if dec, err := DecodeMailboxUTF7(s); err == nil {
			if !utf8.ValidString(dec) {
				t.Fatalf("Decode(%q) = invalid UTF-8 %q", s, dec)
			}
			if enc := EncodeMailboxUTF7(dec); enc != s {
				t.Fatalf("Encode(Decode(%q)) = %q", s, enc)
			}
		}
		// Any valid UTF-8 name survives a round trip.
		if utf8.ValidString(s) {
			enc := EncodeMailboxUTF7(s)
			dec, err := DecodeMailboxUTF7(enc)
			if err != nil || dec != s {
				t.Fatalf("Decode(Encode(%q)) = %q, %v (encoded %q)", s, dec, err, enc)
			}
		}
	})
}
