package imapurl

import (
	"errors"
	"testing"
	"time"
)

func TestParseRFCExamples(t *testing.T) {
	tests := []struct {
		in   string
		want URL
	}{
		// RFC 5092 9 / RFC 4467 examples.
		{"imap://minbari.example.org/gray-council;UIDVALIDITY=385759045/;UID=20/;PARTIAL=0.1024",
			URL{Absolute: true, Host: "minbari.example.org", Mailbox: "gray-council", UIDValidity: 385759045, UID: 20, Partial: &Partial{0, 1024}}},
		{"imap://psicorp.example.org/~peter/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E5%8F%B0%E5%8C%97",
			URL{Absolute: true, Host: "psicorp.example.org", Mailbox: "~peter/日本語/台北"}},
		{"imap://;AUTH=*@minbari.example.org/gray%20council/;UID=20",
			URL{Absolute: true, Auth: "*", Host: "minbari.example.org", Mailbox: "gray council", UID: 20}},
		{"imap://michael@example.org:143/INBOX/;UID=9/;SECTION=1.2.HEADER.FIELDS%20(FROM%20SUBJECT)",
			URL{Absolute: true, User: "michael", Host: "example.org", Port: 143, Mailbox: "INBOX", UID: 9, Section: "1.2.HEADER.FIELDS (FROM SUBJECT)"}},
		{"/INBOX;UIDVALIDITY=785799047/;UID=20/;SECTION=1.2",
			URL{Mailbox: "INBOX", UIDValidity: 785799047, UID: 20, Section: "1.2"}},
		{";UID=20/;SECTION=1.2", URL{UID: 20, Section: "1.2"}},
		{";SECTION=TEXT/;PARTIAL=10", URL{Section: "TEXT", Partial: &Partial{10, 0}}},
		{";PARTIAL=5.6", URL{Partial: &Partial{5, 6}}},
		{"imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred",
			URL{Absolute: true, User: "joe", Host: "example.com", Mailbox: "INBOX", UID: 20, Section: "1.2", Access: "submit+fred",
				Rump: "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred"}},
		{"imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038",
			URL{Absolute: true, User: "joe", Host: "example.com", Mailbox: "INBOX", UID: 20, Section: "1.2", Access: "submit+fred",
				Mech: "INTERNAL", Token: "91354a473744909de610943775f92038",
				Rump: "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred"}},
		{"imap://joe@[::1]:993/Sent;UIDVALIDITY=7/;UID=3;EXPIRE=2030-01-02T03:04:05Z;URLAUTH=anonymous",
			URL{Absolute: true, User: "joe", Host: "[::1]", Port: 993, Mailbox: "Sent", UIDValidity: 7, UID: 3,
				Expire: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Access: "anonymous",
				Rump: "imap://joe@[::1]:993/Sent;UIDVALIDITY=7/;UID=3;EXPIRE=2030-01-02T03:04:05Z;URLAUTH=anonymous"}},
		{"imap://a%40b@host/INBOX", URL{Absolute: true, User: "a@b", Host: "host", Mailbox: "INBOX"}},
		{"imap://host", URL{Absolute: true, Host: "host"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !equal(got, &tt.want) {
			t.Errorf("Parse(%q) =\n %+v\nwant\n %+v", tt.in, *got, tt.want)
		}
	}
}

func equal(a, b *URL) bool {
	pa, pb := a.Partial, b.Partial
	if (pa == nil) != (pb == nil) || pa != nil && *pa != *pb {
		return false
	}
	x, y := *a, *b
	x.Partial, y.Partial = nil, nil
	return x.Expire.Equal(y.Expire) && func() bool { x.Expire, y.Expire = time.Time{}, time.Time{}; return x == y }()
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"INBOX",
		"//host/INBOX",
		"imap://",
		"imap://host/INBOX?SUBJECT%20x",
		"imap://host/INBOX/;UID=0",
		"imap://host/INBOX/;UID=x",
		"imap://host/INBOX/;UID=4294967296",
		"imap://host/INBOX/;UID=1/;SECTION=",
		"imap://host/INBOX/;UID=1/;PARTIAL=1.0",
		"imap://host/INBOX/;UID=1/;PARTIAL=.5",
		"imap://host/IN%ZZBOX",
		"imap://host/IN%4",
		"imap://host/IN BOX",
		"imap://host/%FF%FE",
		"imap://host/INBOX;UIDVALIDITY=0",
		"imap://host/INBOX/;SECTION=1/;UID=2",
		"imap://host/INBOX/;UID=1;URLAUTH=anonymous", // no user
		"/INBOX/;UID=1;URLAUTH=anonymous",
		"imap://u@host/INBOX;URLAUTH=anonymous", // no UID
		"imap://u@host/INBOX/;UID=1;URLAUTH=nobody",
		"imap://u@host/INBOX/;UID=1;URLAUTH=user+",
		"imap://u@host/INBOX/;UID=1;URLAUTH=anonymous:internal:1234",
		"imap://u@host/INBOX/;UID=1;URLAUTH=anonymous:internal:zz354a473744909de610943775f92038",
		"imap://u@host/INBOX/;UID=1;EXPIRE=tomorrow;URLAUTH=anonymous",
		"imap://u@host/INBOX/;UID=1;EXPIRE=2030-01-02T03:04:05Z",
		"imap://u@host:99999/INBOX",
		"imap://u@[::1/INBOX",
	} {
		if u, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want error", in, *u)
		} else if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): error %v is not ErrSyntax", in, err)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"imap://michael@example.org:143/INBOX/;UID=9/;SECTION=1.2.HEADER.FIELDS%20(FROM%20SUBJECT)",
		"imap://psicorp.example.org/~peter/%E6%97%A5%E6%9C%AC%E8%AA%9E",
		"imap://;AUTH=*@minbari.example.org/gray%20council;UIDVALIDITY=3/;UID=20/;PARTIAL=0.1024",
		"imap://joe@example.com/INBOX/;UID=20/;SECTION=1.2;EXPIRE=2030-01-02T03:04:05Z;URLAUTH=user+fred%3Bx:INTERNAL:91354a473744909de610943775f92038",
		"/Drafts%3Bx;UIDVALIDITY=1/;UID=2",
		";UID=2/;SECTION=TEXT",
		";PARTIAL=0.5",
	} {
		u, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if got := u.String(); got != in {
			t.Errorf("String() = %q, want %q", got, in)
		}
	}
}

func TestResolve(t *testing.T) {
	base, _ := Parse("imap://alice@host/INBOX;UIDVALIDITY=5/;UID=7/;SECTION=2")
	for _, tt := range []struct{ ref, want string }{
		{"/Sent/;UID=1", "imap://alice@host/Sent/;UID=1"},
		{";UID=9", "imap://alice@host/INBOX;UIDVALIDITY=5/;UID=9"},
		{";SECTION=1.MIME", "imap://alice@host/INBOX;UIDVALIDITY=5/;UID=7/;SECTION=1.MIME"},
		{";PARTIAL=1.2", "imap://alice@host/INBOX;UIDVALIDITY=5/;UID=7/;SECTION=2/;PARTIAL=1.2"},
		{"imap://bob@other/X", "imap://bob@other/X"},
	} {
		ref, err := Parse(tt.ref)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.ref, err)
		}
		if got := Resolve(base, ref).String(); got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038")
	f.Add("/INBOX;UIDVALIDITY=1/;UID=2/;PARTIAL=0.10")
	f.Add(";SECTION=1.HEADER.FIELDS%20(A)")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			return
		}
		// What String writes must parse to the same URL.
		out := u.String()
		if out == "" {
			return
		}
		v, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok, Parse(String()=%q): %v", s, out, err)
		}
		if v.Mailbox != u.Mailbox || v.UID != u.UID || v.Section != u.Section || v.User != u.User {
			t.Fatalf("round trip %q -> %q changed the URL", s, out)
		}
	})
}
