package imapwire

import (
	"reflect"
	"testing"
)

func TestSeqSetParse(t *testing.T) {
	tests := []struct {
		in   string
		want SeqSet
		str  string
		ok   bool
	}{
		{"1", SeqSet{Ranges: []SeqRange{{1, 1}}}, "1", true},
		{"1:3", SeqSet{Ranges: []SeqRange{{1, 3}}}, "1:3", true},
		{"*", SeqSet{Ranges: []SeqRange{{0, 0}}}, "*", true},
		{"3:*", SeqSet{Ranges: []SeqRange{{3, 0}}}, "3:*", true},
		{"*:3", SeqSet{Ranges: []SeqRange{{0, 3}}}, "*:3", true},
		{"4:2", SeqSet{Ranges: []SeqRange{{4, 2}}}, "4:2", true},
		{"1,4:6,9", SeqSet{Ranges: []SeqRange{{1, 1}, {4, 6}, {9, 9}}}, "1,4:6,9", true},
		{"4294967295", SeqSet{Ranges: []SeqRange{{4294967295, 4294967295}}}, "4294967295", true},
		{"$", SeqSet{Saved: true}, "$", true},
		{"0", SeqSet{}, "", false},
		{"1:0", SeqSet{}, "", false},
		{"01", SeqSet{}, "", false},
		{"4294967296", SeqSet{}, "", false},
		{"1,", SeqSet{}, "", false},
		{",1", SeqSet{}, "", false},
		{"1::2", SeqSet{}, "", false},
		{"1:2:3", SeqSet{}, "", false},
		{"1,,2", SeqSet{}, "", false},
		{"**", SeqSet{}, "", false},
		{"$,1", SeqSet{}, "", false},
		{"1$", SeqSet{}, "", false},
		{"x", SeqSet{}, "", false},
		{"", SeqSet{}, "", false},
	}
	for _, tt := range tests {
		d := args(t, tt.in)
		got, err := d.SeqSet()
		if !tt.ok {
			if !isSyntaxErr(err) {
				t.Errorf("%q: got %v %v, want SyntaxError", tt.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) || d.End() != nil {
			t.Errorf("%q: got %+v %v, want %+v", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.str {
			t.Errorf("%q: String() = %q", tt.in, s)
		}
	}
	// The set stops at the next token.
	d := args(t, "1:2 (FLAGS)")
	if s, err := d.SeqSet(); err != nil || s.String() != "1:2" || !d.PeekSP() {
		t.Fatalf("got %v %v", s, err)
	}
}

func TestSeqSetContainsExpand(t *testing.T) {
	set := func(s string) SeqSet {
		v, err := ParseSeqSet(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return v
	}
	contains := []struct {
		set  string
		n    uint32
		max  uint32
		want bool
	}{
		{"1:3", 2, 10, true},
		{"1:3", 4, 10, false},
		{"4:2", 3, 10, true},
		{"*", 10, 10, true},
		{"*", 9, 10, false},
		{"5:*", 7, 10, true},
		{"5:*", 4, 10, false},
		{"5:*", 3, 3, true}, // "*" below 5: 3:5
		{"5:*", 4, 3, true}, // not clipped: Contains only replaces "*"
		{"1,4:6,9", 9, 10, true},
		{"1,4:6,9", 7, 10, false},
		{"1:*", 0, 10, false},
	}
	for _, c := range contains {
		if got := set(c.set).Contains(c.n, c.max); got != c.want {
			t.Errorf("%q Contains(%d, %d) = %v", c.set, c.n, c.max, got)
		}
	}
	expand := []struct {
		set  string
		max  uint32
		want []uint32
	}{
		{"1:3", 10, []uint32{1, 2, 3}},
		{"3:1", 10, []uint32{1, 2, 3}},
		{"5,1:2,2:3,9:*", 10, []uint32{1, 2, 3, 5, 9, 10}},
		{"8:*", 5, []uint32{5}},
		{"*", 0, nil},
		{"1:*", 0, nil},
		{"1:4294967295", 3, []uint32{1, 2, 3}},
		{"7,7,7", 10, []uint32{7}},
		{"20:30", 10, nil},
		{"4294967295", 4294967295, []uint32{4294967295}},
		{"4294967294:*", 4294967295, []uint32{4294967294, 4294967295}},
	}
	for _, c := range expand {
		if got := set(c.set).Expand(c.max); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q Expand(%d) = %v, want %v", c.set, c.max, got, c.want)
		}
	}
	if n := set("1:*").Normalize(4294967295); !reflect.DeepEqual(n, []SeqRange{{1, 4294967295}}) {
		t.Errorf("Normalize huge: %v", n)
	}
	if n := set("10:12,1,2,3,11:20,22").Normalize(100); !reflect.DeepEqual(n, []SeqRange{{1, 3}, {10, 20}, {22, 22}}) {
		t.Errorf("Normalize: %v", n)
	}
	if (SeqSet{Saved: true}).Contains(1, 1) {
		t.Error("saved set contains")
	}
}

func TestFormatUIDSet(t *testing.T) {
	tests := []struct {
		in   []uint32
		want string
	}{
		{nil, ""},
		{[]uint32{7}, "7"},
		{[]uint32{1, 2, 3, 7}, "1:3,7"},
		{[]uint32{1, 3, 5}, "1,3,5"},
		{[]uint32{1, 2, 2, 3}, "1:3"},
		{[]uint32{4294967294, 4294967295}, "4294967294:4294967295"},
		{[]uint32{5, 3, 4}, "5,3:4"},
	}
	for _, tt := range tests {
		if got := FormatUIDSet(tt.in); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.in, got, tt.want)
		}
	}
}
