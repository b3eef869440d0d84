package search

import (
	"testing"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

// RFC 8474 6: SEARCH THREADID compares the objectid the store computed at
// delivery exactly; a message without a thread matches no THREADID.
func TestThreadIDKey(t *testing.T) {
	msg := func(th string) *Message {
		return &Message{SeqNum: 1, Record: &store.Record{Parsed: &message.Parsed{ThreadID: th}}}
	}
	noModel := &Message{SeqNum: 1, Record: &store.Record{}}
	cases := []struct {
		key  string
		m    *Message
		want bool
	}{
		{"T12", msg("T12"), true},
		{"T1", msg("T12"), false},
		{"t12", msg("T12"), false}, // objectids are case-sensitive
		{"T12", msg(""), false},
		{"T12", noModel, false},
	}
	for _, c := range cases {
		got, err := Match([]imapwire.SearchKey{{Op: "THREADID", Value: c.key}}, c.m, &Env{MaxSeq: 1, MaxUID: 1})
		if err != nil || got != c.want {
			t.Errorf("THREADID %s on %+v: %v %v, want %v", c.key, c.m.Record.Parsed, got, err, c.want)
		}
	}
}
