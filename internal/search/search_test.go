package search

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

type keyCase struct {
	name string
	keys []imapwire.SearchKey
	want []uint32 // sequence numbers among the three fixture messages
}

func keys(k ...imapwire.SearchKey) []imapwire.SearchKey { return k }

func runCases(t *testing.T, f *fixture, cases []keyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := f.run(t, c.keys...)
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestFlagKeys(t *testing.T) {
	// msg1 \Answered \Seen $Label1, msg2 \Deleted \Flagged NonJunk (recent),
	// msg3 \Draft \Seen (recent).
	runCases(t, newFixture(t), []keyCase{
		{"ALL", keys(k("ALL")), []uint32{1, 2, 3}},
		{"ANSWERED", keys(k("ANSWERED")), []uint32{1}},
		{"UNANSWERED", keys(k("UNANSWERED")), []uint32{2, 3}},
		{"DELETED", keys(k("DELETED")), []uint32{2}},
		{"UNDELETED", keys(k("UNDELETED")), []uint32{1, 3}},
		{"DRAFT", keys(k("DRAFT")), []uint32{3}},
		{"UNDRAFT", keys(k("UNDRAFT")), []uint32{1, 2}},
		{"FLAGGED", keys(k("FLAGGED")), []uint32{2}},
		{"UNFLAGGED", keys(k("UNFLAGGED")), []uint32{1, 3}},
		{"SEEN", keys(k("SEEN")), []uint32{1, 3}},
		{"UNSEEN", keys(k("UNSEEN")), []uint32{2}},
		{"KEYWORD exact", keys(ks("KEYWORD", "$Label1")), []uint32{1}},
		{"KEYWORD other case", keys(ks("KEYWORD", "$LABEL1")), []uint32{1}},
		{"KEYWORD absent", keys(ks("KEYWORD", "$Label2")), []uint32{}},
		{"UNKEYWORD", keys(ks("UNKEYWORD", "nonjunk")), []uint32{1, 3}},
		{"RECENT", keys(k("RECENT")), []uint32{2, 3}},
		{"NEW is RECENT UNSEEN", keys(k("NEW")), []uint32{2}},
		{"OLD is NOT RECENT", keys(k("OLD")), []uint32{1}},
		{"lower-case op", keys(k("seen")), []uint32{1, 3}},
		{"ANDed list", keys(k("SEEN"), k("UNANSWERED")), []uint32{3}},
	})
}

func TestSetAndNumberKeys(t *testing.T) {
	f := newFixture(t)
	f.env.Saved = []uint32{10, 30}
	runCases(t, f, []keyCase{
		{"seq single", keys(kset("SEQSET", 2, 2)), []uint32{2}},
		{"seq 2:*", keys(kset("SEQSET", 2, 0)), []uint32{2, 3}},
		{"seq *", keys(kset("SEQSET", 0, 0)), []uint32{3}},
		{"seq 5:* past the end is 3:5", keys(kset("SEQSET", 5, 0)), []uint32{3}},
		{"seq reversed 3:1", keys(kset("SEQSET", 3, 1)), []uint32{1, 2, 3}},
		{"seq list 1,3", keys(kset("SEQSET", 1, 1, 3, 3)), []uint32{1, 3}},
		{"seq out of range", keys(kset("SEQSET", 4, 9)), []uint32{}},
		{"seq $", keys(ksaved("SEQSET")), []uint32{1, 3}},
		{"UID range", keys(kset("UID", 15, 25)), []uint32{2}},
		{"UID none", keys(kset("UID", 11, 19)), []uint32{}},
		{"UID 25:*", keys(kset("UID", 25, 0)), []uint32{3}},
		{"UID 31:* is 30:31", keys(kset("UID", 31, 0)), []uint32{3}},
		{"UID $", keys(ksaved("UID")), []uint32{1, 3}},
		{"LARGER", keys(kn("LARGER", 2000)), []uint32{3}},
		{"LARGER below", keys(kn("LARGER", 1999)), []uint32{2, 3}},
		{"SMALLER", keys(kn("SMALLER", 2000)), []uint32{1}},
		{"SMALLER none", keys(kn("SMALLER", 1000)), []uint32{}},
		{"MODSEQ equal counts", keys(kn("MODSEQ", 200)), []uint32{2, 3}},
		{"MODSEQ above all", keys(kn("MODSEQ", 301)), []uint32{}},
		{"EMAILID", keys(ks("EMAILID", "M8")), []uint32{2}},
		{"EMAILID leading zero", keys(ks("EMAILID", "M08")), []uint32{}},
		{"EMAILID lower case", keys(ks("EMAILID", "m8")), []uint32{}},
		{"EMAILID garbage", keys(ks("EMAILID", "Mx")), []uint32{}},
		{"THREADID", keys(ks("THREADID", "T1")), []uint32{}},
		{"NOT THREADID", keys(not(ks("THREADID", "T1"))), []uint32{1, 2, 3}},
	})

	f.env.Saved = nil
	runCases(t, f, []keyCase{
		{"seq $ without saved result", keys(ksaved("SEQSET")), []uint32{}},
		{"UID $ without saved result", keys(ksaved("UID")), []uint32{}},
	})
}

func TestEmailID(t *testing.T) {
	if got := EmailID(8); got != "M8" {
		t.Fatalf("EmailID(8) = %q", got)
	}
	if got := EmailID(store.MessageID(1234567890123)); got != "M1234567890123" {
		t.Fatalf("EmailID = %q", got)
	}
}

func TestDateKeys(t *testing.T) {
	// Internal dates: msg1 2006-01-03 06:30Z, msg2 2015-02-09 23:30Z,
	// msg3 2024-03-10 00:30Z. Date headers: msg1 2 Jan 2006 23:30 -0700,
	// msg2 10 Feb 2015 08:00 +1300, msg3 none. Save dates: msg1 2020-05-01,
	// msg2 none (internal date used), msg3 2024-03-11.
	f := newFixture(t)
	runCases(t, f, []keyCase{
		{"BEFORE same day excluded", keys(kd("BEFORE", "3-Jan-2006")), []uint32{}},
		{"BEFORE next day", keys(kd("BEFORE", "4-Jan-2006")), []uint32{1}},
		{"ON", keys(kd("ON", "3-Jan-2006")), []uint32{1}},
		{"ON UTC date of msg2", keys(kd("ON", "9-Feb-2015")), []uint32{2}},
		{"ON not the Date header's day", keys(kd("ON", "10-Feb-2015")), []uint32{}},
		{"SINCE same day included", keys(kd("SINCE", "9-Feb-2015")), []uint32{2, 3}},
		{"SINCE next day", keys(kd("SINCE", "10-Feb-2015")), []uint32{3}},
		{"SENTON own zone, not UTC", keys(kd("SENTON", "2-Jan-2006")), []uint32{1}},
		{"SENTON UTC day does not match", keys(kd("SENTON", "3-Jan-2006")), []uint32{}},
		{"SENTON +1300", keys(kd("SENTON", "10-Feb-2015")), []uint32{2}},
		{"SENTON no Date header uses internal date", keys(kd("SENTON", "10-Mar-2024")), []uint32{3}},
		{"SENTBEFORE", keys(kd("SENTBEFORE", "10-Feb-2015")), []uint32{1}},
		{"SENTSINCE", keys(kd("SENTSINCE", "10-Feb-2015")), []uint32{2, 3}},
		{"SENTSINCE after all", keys(kd("SENTSINCE", "11-Mar-2024")), []uint32{}},
		{"SAVEDON", keys(kd("SAVEDON", "11-Mar-2024")), []uint32{3}},
		{"SAVEDON falls back to internal date", keys(kd("SAVEDON", "9-Feb-2015")), []uint32{2}},
		{"SAVEDBEFORE", keys(kd("SAVEDBEFORE", "1-May-2020")), []uint32{2}},
		{"SAVEDSINCE", keys(kd("SAVEDSINCE", "1-May-2020")), []uint32{1, 3}},
		{"SAVEDATESUPPORTED", keys(k("SAVEDATESUPPORTED")), []uint32{1, 2, 3}},
		// Now is 2024-03-10 01:30Z: msg3 is exactly 3600 s old.
		{"OLDER at the boundary", keys(kn("OLDER", 3600)), []uint32{1, 2}},
		{"OLDER just below", keys(kn("OLDER", 3599)), []uint32{1, 2, 3}},
		{"YOUNGER at the boundary", keys(kn("YOUNGER", 3600)), []uint32{3}},
		{"YOUNGER just below", keys(kn("YOUNGER", 3599)), []uint32{}},
		{"YOUNGER huge", keys(kn("YOUNGER", 1<<62)), []uint32{1, 2, 3}},
	})

	// The same instants seen from other server zones.
	f.env.Location = time.FixedZone("UTC-7", -7*3600)
	runCases(t, f, []keyCase{
		{"-0700 ON", keys(kd("ON", "2-Jan-2006")), []uint32{1}},
		{"-0700 ON UTC day", keys(kd("ON", "3-Jan-2006")), []uint32{}},
		{"-0700 ON msg3", keys(kd("ON", "9-Mar-2024")), []uint32{3}},
		{"-0700 SENTON unaffected", keys(kd("SENTON", "10-Feb-2015")), []uint32{2}},
		{"-0700 SENTON fallback follows the zone", keys(kd("SENTON", "9-Mar-2024")), []uint32{3}},
		{"-0700 SAVEDON", keys(kd("SAVEDON", "11-Mar-2024")), []uint32{3}},
	})
	f.env.Location = time.FixedZone("UTC+1", 3600)
	runCases(t, f, []keyCase{
		{"+0100 ON", keys(kd("ON", "10-Feb-2015")), []uint32{2}},
		{"+0100 BEFORE", keys(kd("BEFORE", "10-Feb-2015")), []uint32{1}},
		{"+0100 SINCE", keys(kd("SINCE", "10-Feb-2015")), []uint32{2, 3}},
	})
}

func TestHeaderKeys(t *testing.T) {
	runCases(t, newFixture(t), []keyCase{
		{"FROM address", keys(ks("FROM", "alice@")), []uint32{1}},
		{"FROM display name any case", keys(ks("FROM", "ALICE EXAMPLE")), []uint32{1}},
		{"FROM ISO-8859-1 Q word", keys(ks("FROM", "françois")), []uint32{2}},
		{"FROM Q word upper case", keys(ks("FROM", "FRANÇOIS LÉVESQUE")), []uint32{2}},
		{"FROM raw encoding does not match", keys(ks("FROM", "Fran=E7ois")), []uint32{}},
		{"FROM raw UTF-8 header", keys(ks("FROM", "günter")), []uint32{3}},
		{"FROM empty string", keys(ks("FROM", "")), []uint32{1, 2, 3}},
		{"FROM none", keys(ks("FROM", "mallory")), []uint32{}},
		{"TO second address", keys(ks("TO", "carol@example.NET")), []uint32{1}},
		{"TO UTF-8 B word", keys(ks("TO", "ZOÉ ÜNAL")), []uint32{2}},
		{"TO shared address", keys(ks("TO", "alice@example.org")), []uint32{3}},
		{"CC", keys(ks("CC", "Dave")), []uint32{1}},
		{"CC none", keys(ks("CC", "alice")), []uint32{}},
		{"BCC", keys(ks("BCC", "eve@")), []uint32{1}},
		{"SUBJECT across a folded line", keys(ks("SUBJECT", "report continued")), []uint32{1}},
		{"SUBJECT B word", keys(ks("SUBJECT", "ÉTÉ")), []uint32{2}},
		{"SUBJECT decomposed accents", keys(ks("SUBJECT", "e\u0301te\u0301")), []uint32{2}},
		{"SUBJECT full folding ß=SS", keys(ks("SUBJECT", "GRÜSSE")), []uint32{3}},
		{"SUBJECT raw UTF-8", keys(ks("SUBJECT", "münchen")), []uint32{3}},
		{"SUBJECT not in nested message", keys(ks("SUBJECT", "inner")), []uint32{}},
		{"HEADER value", keys(kh("X-Priority", "1")), []uint32{1}},
		{"HEADER field name any case", keys(kh("x-PRIORITY", "1")), []uint32{1}},
		{"HEADER value absent", keys(kh("X-Priority", "2")), []uint32{}},
		{"HEADER empty tests presence", keys(kh("Message-ID", "")), []uint32{1}},
		{"HEADER MIME-Version presence", keys(kh("mime-version", "")), []uint32{2}},
		{"HEADER missing field", keys(kh("Received", "")), []uint32{}},
		{"HEADER Content-Type", keys(kh("Content-Type", "MULTIPART/")), []uint32{2}},
		{"HEADER Subject decoded", keys(kh("Subject", "résumé")), []uint32{2}},
		{"HEADER no field name", keys(kh("", "")), []uint32{}},
	})
}

func TestBodyKeys(t *testing.T) {
	f := newFixture(t)
	runCases(t, f, []keyCase{
		{"BODY ASCII any case", keys(ks("BODY", "NUMBERS are IN")), []uint32{1}},
		{"BODY quoted-printable ISO-8859-1", keys(ks("BODY", "CAFÉ EST PRÊT")), []uint32{2}},
		{"BODY base64 ISO-8859-1 html", keys(ks("BODY", "crème brûlée")), []uint32{2}},
		{"BODY raw QP text is not matched", keys(ks("BODY", "caf=E9")), []uint32{}},
		{"BODY nested message body", keys(ks("BODY", "STRASSE")), []uint32{2}},
		{"BODY nested message header", keys(ks("BODY", "NAÏVE")), []uint32{2}},
		{"BODY binary attachment skipped", keys(ks("BODY", "hiddenattachment")), []uint32{}},
		{"BODY 8-bit UTF-8", keys(ks("BODY", "ÜMLAUT")), []uint32{3}},
		{"BODY not the header", keys(ks("BODY", "Quarterly")), []uint32{}},
		{"BODY empty string", keys(ks("BODY", "")), []uint32{1, 2, 3}},
		{"TEXT header", keys(ks("TEXT", "quarterly")), []uint32{1}},
		{"TEXT body", keys(ks("TEXT", "numbers")), []uint32{1}},
		{"TEXT field name and value", keys(ks("TEXT", "subject: quarterly")), []uint32{1}},
		{"TEXT decoded header", keys(ks("TEXT", "ÉTÉ")), []uint32{2}},
		{"TEXT decoded body", keys(ks("TEXT", "café")), []uint32{2}},
		{"TEXT none", keys(ks("TEXT", "zebra")), []uint32{}},
		{"TEXT empty string", keys(ks("TEXT", "")), []uint32{1, 2, 3}},
	})
}

func TestBooleanKeys(t *testing.T) {
	runCases(t, newFixture(t), []keyCase{
		{"NOT", keys(not(k("SEEN"))), []uint32{2}},
		{"NOT NOT", keys(not(not(k("SEEN")))), []uint32{1, 3}},
		{"OR", keys(or(k("DRAFT"), k("FLAGGED"))), []uint32{2, 3}},
		{"NOT OR headers", keys(not(or(ks("FROM", "alice"), ks("SUBJECT", "été")))), []uint32{3}},
		{"OR of ANDs", keys(or(and(k("DRAFT"), k("SEEN")), and(ks("FROM", "alice"), not(k("ANSWERED"))))), []uint32{3}},
		{"AND seq with OR body", keys(and(kset("SEQSET", 1, 2), or(ks("BODY", "café"), ks("TEXT", "Quarterly")))), []uint32{1, 2}},
		{"nested OR in OR", keys(or(or(k("ANSWERED"), k("DELETED")), not(k("ALL")))), []uint32{1, 2}},
		{"NOT body", keys(not(ks("BODY", "café"))), []uint32{1, 3}},
		{"AND empty", keys(and()), []uint32{1, 2, 3}},
		{"OR with THREADID", keys(or(ks("THREADID", "x"), kn("LARGER", 2500))), []uint32{3}},
	})
}

func TestNeedsBody(t *testing.T) {
	for _, c := range []struct {
		keys []imapwire.SearchKey
		want bool
	}{
		{keys(k("SEEN"), ks("SUBJECT", "x")), false},
		{keys(ks("BODY", "x")), true},
		{keys(k("SEEN"), not(or(k("DRAFT"), ks("TEXT", "x")))), true},
		{keys(and(k("SEEN"), ks("HEADER", "x"))), false},
	} {
		if got := NeedsBody(c.keys); got != c.want {
			t.Errorf("NeedsBody(%v) = %v", c.keys, got)
		}
		p, err := Compile(c.keys)
		if err != nil {
			t.Fatal(err)
		}
		if p.NeedsBody() != c.want {
			t.Errorf("Program.NeedsBody(%v) = %v", c.keys, p.NeedsBody())
		}
	}
}

func TestBodyLoadedOnlyWhenNeeded(t *testing.T) {
	f := newFixture(t)
	f.run(t, k("SEEN"), ks("SUBJECT", "été"), kd("SENTON", "2-Jan-2006"), ks("BODY", ""))
	if !slices.Equal(f.loads, []int{0, 0, 0}) {
		t.Fatalf("body loaded for metadata and header keys: %v", f.loads)
	}
	// Cheap keys run first: only msg2 is UNSEEN, so only it is loaded; two
	// body keys share one load.
	got := f.run(t, ks("BODY", "café"), k("UNSEEN"), ks("TEXT", "brûlée"))
	if !slices.Equal(got, []uint32{2}) || !slices.Equal(f.loads, []int{0, 1, 0}) {
		t.Fatalf("got %v, loads %v; want [2], [0 1 0]", got, f.loads)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range [][]imapwire.SearchKey{
		keys(k("FOO")),
		keys(k("SEEN"), not(k("BAR"))),
		keys(imapwire.SearchKey{Op: "NOT"}),
		keys(imapwire.SearchKey{Op: "OR", Sub: keys(k("SEEN"))}),
		keys(k("UID")),
		keys(k("SEQSET")),
		keys(k("BEFORE")),
	} {
		if _, err := Compile(c); err == nil {
			t.Errorf("Compile(%v) succeeded", c)
		}
		if _, err := Match(c, newFixture(t).msgs[0], nil); err == nil {
			t.Errorf("Match(%v) succeeded", c)
		}
	}

	f := newFixture(t)
	boom := errors.New("disk on fire")
	f.msgs[0].Body = func() ([]byte, error) { return nil, boom }
	if _, err := Match(keys(ks("BODY", "x")), f.msgs[0], f.env); !errors.Is(err, boom) {
		t.Fatalf("body error: got %v", err)
	}
	f.msgs[0].Body = nil
	if _, err := Match(keys(ks("TEXT", "nothere")), f.msgs[0], f.env); err == nil {
		t.Fatal("TEXT without a body loader succeeded")
	}
	// A header match of TEXT needs no body.
	if ok, err := Match(keys(ks("TEXT", "quarterly")), f.msgs[0], f.env); err != nil || !ok {
		t.Fatalf("TEXT header match: %v %v", ok, err)
	}
	if _, err := Match(keys(k("ALL")), &Message{}, nil); err == nil {
		t.Fatal("message without record accepted")
	}
}

// TestDatesOwnZone checks SENT* on Date headers whose own calendar date
// differs from the UTC one in both directions, without the parser.
func TestDatesOwnZone(t *testing.T) {
	east := time.FixedZone("+1400", 14*3600)
	west := time.FixedZone("-1200", -12*3600)
	for _, c := range []struct {
		date time.Time
		on   string
	}{
		{time.Date(2021, 12, 31, 23, 59, 59, 0, west), "31-Dec-2021"}, // 2022-01-01 11:59Z
		{time.Date(2022, 1, 1, 0, 0, 0, 0, east), "1-Jan-2022"},       // 2021-12-31 10:00Z
		{time.Date(2020, 2, 29, 12, 0, 0, 0, time.UTC), "29-Feb-2020"},
	} {
		rec := &store.Record{
			InternalDate: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
			Parsed:       &message.Parsed{Date: c.date},
		}
		m := &Message{SeqNum: 1, Record: rec}
		day, _ := time.Parse("2-Jan-2006", c.on)
		for _, tc := range []struct {
			key  imapwire.SearchKey
			want bool
		}{
			{kd("SENTON", c.on), true},
			{imapwire.SearchKey{Op: "SENTON", Date: day.AddDate(0, 0, 1)}, false},
			{imapwire.SearchKey{Op: "SENTON", Date: day.AddDate(0, 0, -1)}, false},
			{kd("SENTSINCE", c.on), true},
			{kd("SENTBEFORE", c.on), false},
			{imapwire.SearchKey{Op: "SENTBEFORE", Date: day.AddDate(0, 0, 1)}, true},
		} {
			got, err := Match(keys(tc.key), m, &Env{})
			if err != nil || got != tc.want {
				t.Errorf("%s %s on %v: got %v %v, want %v", tc.key.Op, tc.key.Date.Format("2-Jan-2006"), c.date, got, err, tc.want)
			}
		}
	}
}

// TestConcurrentMatch runs one Program from several goroutines (the scratch
// pool must not leak state between calls); run with -race.
func TestConcurrentMatch(t *testing.T) {
	f := newFixture(t)
	p, err := Compile(keys(or(ks("SUBJECT", "été"), kh("X-Priority", "1")), not(k("DRAFT"))))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []uint32)
	for range 4 {
		go func() {
			var got []uint32
			for range 200 {
				got = got[:0]
				for _, m := range f.msgs {
					if ok, err := p.Match(m, f.env); err == nil && ok {
						got = append(got, m.SeqNum)
					}
				}
			}
			done <- got
		}()
	}
	for range 4 {
		if got := <-done; !slices.Equal(got, []uint32{1, 2}) {
			t.Errorf("got %v, want [1 2]", got)
		}
	}
}

// TestInternalDateOwnZone checks that, without Env.Location, BEFORE/ON/SINCE
// use the calendar date of the internal date in the zone it was appended
// with (what FETCH INTERNALDATE shows), not UTC's.
func TestInternalDateOwnZone(t *testing.T) {
	west := time.FixedZone("-0700", -7*3600)
	rec := &store.Record{InternalDate: time.Date(2023, 5, 1, 22, 0, 0, 0, west)} // 2023-05-02 05:00Z
	m := &Message{SeqNum: 1, Record: rec}
	for _, tc := range []struct {
		key  imapwire.SearchKey
		want bool
	}{
		{kd("ON", "1-May-2023"), true},
		{kd("ON", "2-May-2023"), false},
		{kd("BEFORE", "2-May-2023"), true},
		{kd("SINCE", "2-May-2023"), false},
	} {
		got, err := Match(keys(tc.key), m, &Env{})
		if err != nil || got != tc.want {
			t.Errorf("%s %s: got %v %v, want %v", tc.key.Op, tc.key.Date.Format("2-Jan-2006"), got, err, tc.want)
		}
	}
	// An explicit server zone still wins.
	got, _ := Match(keys(kd("ON", "2-May-2023")), m, &Env{Location: time.UTC})
	if !got {
		t.Error("ON 2-May-2023 with Location UTC: no match")
	}
}
