package message

import (
	"reflect"
	"testing"
	"time"
)

func TestParseAddressList(t *testing.T) {
	gs := func(name string) Address { return Address{Mailbox: name, GroupStart: true} }
	ge := Address{GroupEnd: true}
	cases := []struct {
		in   string
		want []Address
	}{
		{"", nil},
		{"user@example.com", []Address{{Mailbox: "user", Host: "example.com"}}},
		{`"Joe Q. Public" <john.q.public@example.com>`, []Address{{Name: "Joe Q. Public", Mailbox: "john.q.public", Host: "example.com"}}},
		{`Joe Q. Public <john@example.com>`, []Address{{Name: "Joe Q. Public", Mailbox: "john", Host: "example.com"}}},
		{`Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>`, []Address{
			{Name: "Mary Smith", Mailbox: "mary", Host: "x.test"},
			{Mailbox: "jdoe", Host: "example.org"},
			{Name: "Who?", Mailbox: "one", Host: "y.test"},
		}},
		{`<boss@nil.test>, "Giant; \"Big\" Box" <sysservices@example.net>`, []Address{
			{Mailbox: "boss", Host: "nil.test"},
			{Name: `Giant; "Big" Box`, Mailbox: "sysservices", Host: "example.net"},
		}},
		{"undisclosed-recipients:;", []Address{gs("undisclosed-recipients"), ge}},
		{"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, after@z.test", []Address{
			gs("A Group"),
			{Name: "Ed Jones", Mailbox: "c", Host: "a.test"},
			{Mailbox: "joe", Host: "where.test"},
			{Name: "John", Mailbox: "jdoe", Host: "one.test"},
			ge,
			{Mailbox: "after", Host: "z.test"},
		}},
		{"Unclosed: a@b.test", []Address{gs("Unclosed"), {Mailbox: "a", Host: "b.test"}, ge}},
		{"<@a.test,@b.test:user@c.test>", []Address{{Route: "@a.test,@b.test", Mailbox: "user", Host: "c.test"}}},
		{"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", []Address{{Name: "Pete", Mailbox: "pete", Host: "silly.test"}}},
		{"user@host.test (Full Name)", []Address{{Name: "Full Name", Mailbox: "user", Host: "host.test"}}},
		{"user", []Address{{Mailbox: "user"}}},
		{"=?UTF-8?Q?J=C3=B6rg?= M <j@x.test>", []Address{{Name: "=?UTF-8?Q?J=C3=B6rg?= M", Mailbox: "j", Host: "x.test"}}},
		{`"=?ISO-8859-1?Q?Andr=E9?=" <a@x.test>`, []Address{{Name: "=?ISO-8859-1?Q?Andr=E9?=", Mailbox: "a", Host: "x.test"}}},
		{`"john doe"@x.test`, []Address{{Mailbox: "john doe", Host: "x.test"}}},
		{"john . doe @ x . test", []Address{{Mailbox: "john.doe", Host: "x.test"}}},
		{"a@b.test junk", []Address{{Mailbox: "a", Host: "b.test"}}},
		{"a@[192.0.2.1]", []Address{{Mailbox: "a", Host: "[192.0.2.1]"}}},
		{"<>, , ,", nil},
		{"bad <a@b.test, c@d.test", []Address{{Name: "bad", Mailbox: "a", Host: "b.test"}, {Mailbox: "c", Host: "d.test"}}},
		{";;>>@", nil},
	}
	for _, c := range cases {
		got := parseAddressList(c.in)
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func TestEnvelope(t *testing.T) {
	raw := crlf(`Date: Fri, 21 Nov 1997 09:55:06 -0600
Subject: =?UTF-8?B?w6l0w6k=?=
 =?ISO-8859-1?Q?caf=E9?=
From: Joe <joe@a.test>
To: undisclosed-recipients:;
Cc: c@a.test
Bcc: <@r.test:b@a.test>
Reply-To:
In-Reply-To:   <prev@a.test>  
Message-ID:
 <id@a.test>
Subject: second subject is ignored

x`)
	p := mustParse(t, raw)
	joe := []Address{{Name: "Joe", Mailbox: "joe", Host: "a.test"}}
	want := Envelope{
		Date:      "Fri, 21 Nov 1997 09:55:06 -0600",
		Subject:   "=?UTF-8?B?w6l0w6k=?= =?ISO-8859-1?Q?caf=E9?=",
		From:      joe,
		Sender:    joe, // absent: defaults to From
		ReplyTo:   joe, // empty: defaults to From
		To:        []Address{{Mailbox: "undisclosed-recipients", GroupStart: true}, {GroupEnd: true}},
		Cc:        []Address{{Mailbox: "c", Host: "a.test"}},
		Bcc:       []Address{{Route: "@r.test", Mailbox: "b", Host: "a.test"}},
		InReplyTo: "<prev@a.test>",
		MessageID: "<id@a.test>",
	}
	if !reflect.DeepEqual(p.Envelope, want) {
		t.Fatalf("envelope\n got %+v\nwant %+v", p.Envelope, want)
	}
	if DecodeHeaderValue(p.Envelope.Subject) != "étécafé" {
		t.Fatalf("decoded subject %q", DecodeHeaderValue(p.Envelope.Subject))
	}
	if want := time.Date(1997, 11, 21, 15, 55, 6, 0, time.UTC); !p.Date.Equal(want) {
		t.Fatalf("date %v", p.Date)
	}

	// An explicit Sender is kept.
	p = mustParse(t, crlf("From: a@a.test\nSender: s@a.test\n\n"))
	if !reflect.DeepEqual(p.Envelope.Sender, []Address{{Mailbox: "s", Host: "a.test"}}) {
		t.Fatalf("sender %+v", p.Envelope.Sender)
	}
}

func TestParseDate(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	cases := []struct {
		in   string
		want time.Time
	}{
		{"Tue, 1 Jul 2003 10:52:37 +0200", utc(2003, 7, 1, 8, 52, 37)},
		{"1 Jul 2003 10:52:37 +0200", utc(2003, 7, 1, 8, 52, 37)},
		{"Tue, 01 Jul 2003 10:52:37 +0200 (CEST)", utc(2003, 7, 1, 8, 52, 37)},
		{"Tue, 1 Jul 2003 10:52 +0200", utc(2003, 7, 1, 8, 52, 0)},
		{"Tue,  1 Jul 2003 10:52:37   GMT", utc(2003, 7, 1, 10, 52, 37)},
		{"Tue, 1 Jul 03 10:52:37 +0000", utc(2003, 7, 1, 10, 52, 37)},
		{"Tue Jul  1 10:52:37 2003", utc(2003, 7, 1, 10, 52, 37)},
		{"not a date", time.Time{}},
		{"", time.Time{}},
	}
	for _, c := range cases {
		got := parseDate(c.in)
		if !got.Equal(c.want) || got.IsZero() != c.want.IsZero() {
			t.Errorf("parseDate(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
