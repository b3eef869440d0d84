package imapserver

import (
	"strings"
	"testing"
)

// partialServer has ten messages (UIDs 1..10) in alice's INBOX, selected.
func partialServer(t *testing.T) *rawConn {
	ts := newTestServer(t)
	for i := 1; i <= 10; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	c.cmd("s SELECT INBOX")
	return c
}

// TestSearchPartial: RETURN (PARTIAL range) pages the result (RFC 9394
// 3.1), from the start or (negative) from the end, past the end too.
func TestSearchPartial(t *testing.T) {
	c := partialServer(t)
	c.expectCmd("a UID SEARCH RETURN (PARTIAL 1:3) ALL", `* ESEARCH (TAG "a") UID PARTIAL (1:3 1:3)`, "a OK UID SEARCH completed")
	c.expectCmd("b UID SEARCH RETURN (PARTIAL -1:-3) ALL", `* ESEARCH (TAG "b") UID PARTIAL (-1:-3 8:10)`, "b OK UID SEARCH completed")
	c.expectCmd("c SEARCH RETURN (PARTIAL 9:20) ALL", `* ESEARCH (TAG "c") PARTIAL (9:20 9:10)`, "c OK SEARCH completed")
	c.expectCmd("d SEARCH RETURN (PARTIAL 11:20) ALL", `* ESEARCH (TAG "d") PARTIAL (11:20 NIL)`, "d OK SEARCH completed")
	// A reversed range is the same range; COUNT is over the whole result.
	c.expectCmd("e UID SEARCH RETURN (COUNT PARTIAL 3:2) NOT UID 1", `* ESEARCH (TAG "e") UID COUNT 9 PARTIAL (2:3 3:4)`, "e OK UID SEARCH completed")
	c.expectCmd("f UID SEARCH RETURN (PARTIAL -2:-1) UID 20:30", `* ESEARCH (TAG "f") UID PARTIAL (-1:-2 NIL)`, "f OK UID SEARCH completed")
	c.expectCmd("g UID SEARCH RETURN (PARTIAL -8:-20) ALL", `* ESEARCH (TAG "g") UID PARTIAL (-8:-20 1:3)`, "g OK UID SEARCH completed")
	c.expectCmd("h SEARCH RETURN (MIN PARTIAL 2:2) SUBJECT test", `* ESEARCH (TAG "h") MIN 1 PARTIAL (2:2 2)`, "h OK SEARCH completed")
	// SAVE keeps what PARTIAL returned, as with MIN and MAX (RFC 5182 2.1).
	c.expectCmd("i UID SEARCH RETURN (SAVE PARTIAL -1:-2) ALL", `* ESEARCH (TAG "i") UID PARTIAL (-1:-2 9:10)`, "i OK UID SEARCH completed")
	c.expectCmd("j UID SEARCH UID $", "* SEARCH 9 10", "j OK UID SEARCH completed")
	for _, bad := range []string{"0:5", "1:-5", "-1:5", "5", "1:2:3", "a:b", "1:4294967296", "-0:-1"} {
		got := c.cmd("k SEARCH RETURN (PARTIAL " + bad + ") ALL")
		if len(got) != 1 || !strings.HasPrefix(got[0], "k BAD ") {
			t.Errorf("PARTIAL %s: %q, want BAD", bad, got)
		}
	}
}

func TestParsePartial(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		i, j int
	}{
		{"1:100", 5, 0, 5}, {"2:3", 5, 1, 3}, {"6:7", 5, 5, 5}, {"5:5", 5, 4, 5},
		{"-1:-1", 5, 4, 5}, {"-1:-100", 5, 0, 5}, {"-2:-3", 5, 2, 4}, {"-6:-9", 5, 0, 0}, {"-5:-5", 5, 0, 1},
		{"1:1", 0, 0, 0}, {"-1:-1", 0, 0, 0},
	} {
		p, err := parsePartial(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if i, j := p.bounds(tc.n); i != tc.i || j != tc.j {
			t.Errorf("%s of %d: [%d,%d), want [%d,%d)", tc.in, tc.n, i, j, tc.i, tc.j)
		}
	}
}

func FuzzParsePartial(f *testing.F) {
	for _, s := range []string{"1:100", "-1:-5", "0:1", "4294967295:1", "-:-", ":"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<20 {
			return
		}
		p, err := parsePartial(s)
		if err != nil {
			return
		}
		if i, j := p.bounds(n); i < 0 || j > n || i > j {
			t.Fatalf("%q of %d: [%d,%d)", s, n, i, j)
		}
		if q, err := parsePartial(p.String()); err != nil || q != p {
			t.Fatalf("%q: round trip %q: %v %v", s, p.String(), q, err)
		}
	})
}
