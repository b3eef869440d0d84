package imapwire

import (
	"reflect"
	"testing"
)

func TestParseSection(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Section
	}{
		{"", Section{}},
		{"1.2", Section{Path: []int{1, 2}}},
		{"TEXT", Section{Specifier: "TEXT"}},
		{"3.mime", Section{Path: []int{3}, Specifier: "MIME"}},
		{"1.HEADER.FIELDS (From Subject)", Section{Path: []int{1}, Specifier: "HEADER.FIELDS", Fields: []string{"From", "Subject"}}},
	} {
		got, err := ParseSection(tt.in)
		if err != nil || !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseSection(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"0", "1.", "MIME", "FOO", "1]", "1] x", "HEADER.FIELDS ()", "HEADER.FIELDS (A"} {
		if got, err := ParseSection(in); err == nil {
			t.Errorf("ParseSection(%q) = %+v, want error", in, got)
		}
	}
}
