package sortthread

import "testing"

func tm(id uint32, sent int64, subject, msgID string, refs ...string) Msg {
	base, reply := BaseSubject(subject)
	return Msg{ID: id, Fields: &Fields{UID: id, Sent: sent, Subject: Fold(base), ReplyOrFwd: reply, MessageID: msgID, Refs: refs}}
}

func TestOrderedSubject(t *testing.T) {
	msgs := []Msg{
		tm(1, 50, "beta", ""),
		tm(2, 10, "Alpha", ""),
		tm(3, 30, "Re: alpha", ""),
		tm(4, 20, "[fwd: ALPHA]", ""),
		tm(5, 40, "gamma", ""),
		tm(6, 60, "Re: beta", ""),
		tm(7, 10, "", ""),
	}
	got := string(AppendThreads(nil, OrderedSubject(msgs)))
	// Threads by the date of their first message (2 and 7 tie at 10: by
	// number); in a thread the first message is the parent of the rest.
	want := "(2 (4)(3))(7)(5)(1 6)"
	if got != want {
		t.Errorf("ORDEREDSUBJECT = %s, want %s", got, want)
	}
	if got := string(AppendThreads(nil, OrderedSubject(nil))); got != "" {
		t.Errorf("empty = %q", got)
	}
}

func TestReferences(t *testing.T) {
	msgs := []Msg{
		tm(1, 10, "hello", "a"),
		tm(2, 20, "Re: hello", "b", "a"),
		tm(3, 30, "Re: hello", "c", "a", "b"),
		tm(4, 40, "Re: hello", "d", "a"),
		tm(5, 50, "other", "e", "x"),
		tm(6, 60, "Re: other", "f", "x"),
		tm(7, 5, "Re: hello", "g"), // no references: gathered by subject
		tm(8, 45, "unrelated", ""),
	}
	got := string(AppendThreads(nil, References(msgs)))
	want := "(1 (7)(2 3)(4))(8)((5)(6))"
	if got != want {
		t.Errorf("REFERENCES = %s, want %s", got, want)
	}
}

func TestReferencesSubjectDummy(t *testing.T) {
	// Two unrelated non-replies with one subject go under a new dummy.
	msgs := []Msg{
		tm(1, 20, "topic", "a"),
		tm(2, 10, "Topic", "b"),
		tm(3, 30, "Re: topic", "c", "a"),
		tm(4, 5, "", "d"),
		tm(5, 6, "", "e"),
	}
	got := string(AppendThreads(nil, References(msgs)))
	want := "(4)(5)((2)(1 3))"
	if got != want {
		t.Errorf("REFERENCES = %s, want %s", got, want)
	}
}

func TestReferencesLoopsAndDuplicates(t *testing.T) {
	msgs := []Msg{
		tm(1, 10, "s1", "a", "b"),
		tm(2, 20, "s2", "b", "a"), // would make a loop: ignored
		tm(3, 30, "s3", "a"),      // duplicate Message-ID: unique
		tm(4, 40, "s4", "z", "z"), // references itself
		tm(5, 50, "s5", "m", "p", "q", "p"),
	}
	got := string(AppendThreads(nil, References(msgs)))
	want := "(2 1)(3)(4)(5)"
	if got != want {
		t.Errorf("REFERENCES = %s, want %s", got, want)
	}
}

func TestReferencesTruncated(t *testing.T) {
	// 3 is first seen as a reference of 4 under 1's thread via b; its
	// own References then move it under 2 (step 1C).
	msgs := []Msg{
		tm(1, 10, "x", "a"),
		tm(2, 20, "y", "b"),
		tm(4, 40, "x", "d", "a", "c"),
		tm(3, 30, "y", "c", "b"),
	}
	got := string(AppendThreads(nil, References(msgs)))
	want := "(1)(2 3 4)"
	if got != want {
		t.Errorf("REFERENCES = %s, want %s", got, want)
	}
}
