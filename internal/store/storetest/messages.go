package storetest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

func testAppendRecords(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	inbox := mbox(t, a, "INBOX")
	raw := msg(1)
	date := time.Date(2024, 3, 5, 10, 11, 12, 0, time.FixedZone("", -7*3600))
	before := time.Now().Add(-time.Second)
	r, err := a.Append(ctx, inbox.ID, store.AppendRequest{
		Body:         bytes.NewReader(raw),
		Size:         int64(len(raw)),
		Flags:        []string{`\seen`, "$Label", `\Recent`, `\Seen`, `\flagged`},
		InternalDate: date,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.UID != 1 || r.UIDValidity != inbox.UIDValidity || r.MessageID == 0 || r.ModSeq <= inbox.HighestModSeq {
		t.Fatalf("AppendResult %+v (mailbox %+v)", r, inbox)
	}
	r2 := appendRaw(t, a, inbox.ID, msg(2))
	if r2.UID != 2 || r2.ModSeq <= r.ModSeq || r2.MessageID == r.MessageID {
		t.Fatalf("second AppendResult %+v", r2)
	}

	recs, err := a.Records(ctx, inbox.ID, []uint32{7, 2, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("Records returned %d records, want 2", len(recs))
	}
	rec := recs[0]
	eq(t, "UID", rec.UID, uint32(1))
	eq(t, "Flags", rec.Flags, []string{"$Label", store.FlagFlagged, store.FlagSeen})
	eq(t, "ModSeq", rec.ModSeq, r.ModSeq)
	eq(t, "MessageID", rec.MessageID, r.MessageID)
	eq(t, "Size", rec.Size, int64(len(raw)))
	if !rec.InternalDate.Equal(date) {
		t.Fatalf("InternalDate %v, want %v", rec.InternalDate, date)
	}
	if _, off := rec.InternalDate.Zone(); off != -7*3600 {
		t.Fatalf("InternalDate zone offset %d, want -25200", off)
	}
	if rec.SaveDate.Before(second(before)) || rec.SaveDate.After(time.Now().Add(time.Second)) {
		t.Fatalf("SaveDate %v not now", rec.SaveDate)
	}
	if rec.Parsed == nil || rec.Parsed.Root == nil {
		t.Fatal("Parsed missing")
	}
	eq(t, "Header", rec.Header, raw[:rec.Parsed.Root.BodyStart])
	eq(t, "Header text", string(rec.Header), string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))+4]))
	// The stored model survives the round trip exactly.
	want, err := message.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	// The engine adds the thread computed at delivery (RFC 8474
	// THREADID), which Parse alone cannot know.
	if rec.Parsed.ThreadID == "" {
		t.Fatal("Parsed.ThreadID missing")
	}
	want.ThreadID = rec.Parsed.ThreadID
	eq(t, "Parsed", rec.Parsed, want)
	eq(t, "body bytes", readBody(t, a, rec.MessageID), raw)
	eq(t, "second record", recs[1].UID, uint32(2))
	eq(t, "second flags", recs[1].Flags, []string(nil))
	eq(t, "second body", readBody(t, a, recs[1].MessageID), msg(2))
	if recs[1].InternalDate.Before(second(before)) {
		t.Fatalf("default InternalDate %v, want now", recs[1].InternalDate)
	}

	es := entries(t, a, inbox.ID)
	eq(t, "Entries", es, []store.Entry{
		{UID: 1, Flags: []string{"$Label", store.FlagFlagged, store.FlagSeen}, ModSeq: r.ModSeq},
		{UID: 2, ModSeq: r2.ModSeq},
	})
	st := checkCounters(t, a, inbox.ID)
	if st.Messages != 2 || st.Unseen != 1 || st.UIDNext != 3 || st.HighestModSeq != r2.ModSeq || st.Size != int64(len(raw)+len(msg(2))) {
		t.Fatalf("Status %+v", st)
	}
	eq(t, "Keywords", st.Keywords, []string{"$Label"})

	// A body read from a stream of unknown size, with binary content.
	bin := append([]byte("Subject: bin\r\n\r\n"), 0, 1, 2, 0xff, '\r', '\n')
	r3, err := a.Append(ctx, inbox.ID, store.AppendRequest{Body: iotestOneByte(bin), Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "binary body", readBody(t, a, r3.MessageID), bin)

	// An empty mailbox and a mailbox of records asked with no UIDs.
	none, err := a.Records(ctx, inbox.ID, nil)
	if err != nil || len(none) != 0 {
		t.Fatalf("Records(nil) = %v, %v", none, err)
	}
	if es := entries(t, a, mbox(t, a, "Sent").ID); len(es) != 0 {
		t.Fatalf("Entries of empty mailbox = %v", es)
	}
}

// oneByteReader returns one byte per Read, like a slow network.
type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func iotestOneByte(b []byte) *oneByteReader { return &oneByteReader{b} }

func testAppendErrors(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	inbox := mbox(t, a, "INBOX")
	_, err := a.Append(ctx, inbox.ID+1000, store.AppendRequest{Body: bytes.NewReader(msg(1)), Size: -1})
	wantErr(t, err, store.ErrNoMailbox)
	_, err = a.Append(ctx, inbox.ID, store.AppendRequest{Body: strings.NewReader(""), Size: 1 << 40})
	wantErr(t, err, store.ErrTooBig)
	st := checkCounters(t, a, inbox.ID)
	if st.Messages != 0 || st.UIDNext != 1 {
		t.Fatalf("failed appends changed INBOX: %+v", st)
	}
	_, err = a.OpenBody(ctx, 987654)
	wantErr(t, err, store.ErrNotFound)
}

// testIsolation: one user cannot reach another's mailboxes or bodies by id.
func testIsolation(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	b := account(t, s, "bob")
	ai := mbox(t, a, "INBOX")
	bi := mbox(t, b, "INBOX")
	r := appendRaw(t, a, ai.ID, msg(1))
	_, err := b.Append(ctx, ai.ID, store.AppendRequest{Body: bytes.NewReader(msg(2)), Size: -1})
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.Entries(ctx, ai.ID)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.Records(ctx, ai.ID, []uint32{1})
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.Status(ctx, ai.ID)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.Changes(ctx, ai.ID, 0)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.StoreFlags(ctx, ai.ID, store.StoreRequest{UIDs: []uint32{1}, Flags: []string{store.FlagDeleted}})
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.Copy(ctx, ai.ID, []uint32{1}, bi.ID)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = a.Copy(ctx, ai.ID, []uint32{1}, bi.ID)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.Expunge(ctx, ai.ID, nil)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.ClaimRecent(ctx, ai.ID)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = b.OpenBody(ctx, r.MessageID)
	wantErr(t, err, store.ErrNotFound)
	eq(t, "alice INBOX", uidsOf(entries(t, a, ai.ID)), []uint32{1})
}

func testFlagModes(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	appendN(t, a, in, 0, 4)

	r := setFlags(t, a, in, store.FlagsAdd, []string{store.FlagSeen, store.FlagDeleted}, 1, 2)
	if len(r.Changed) != 2 || len(r.Modified) != 0 {
		t.Fatalf("add: %+v", r)
	}
	ms := r.Changed[0].ModSeq
	eq(t, "add result", r.Changed, []store.Entry{
		{UID: 1, Flags: []string{store.FlagDeleted, store.FlagSeen}, ModSeq: ms},
		{UID: 2, Flags: []string{store.FlagDeleted, store.FlagSeen}, ModSeq: ms},
	})
	st := checkCounters(t, a, in)
	if st.Unseen != 2 || st.Deleted != 2 || st.HighestModSeq != ms {
		t.Fatalf("after add: %+v", st)
	}

	r = setFlags(t, a, in, store.FlagsRemove, []string{store.FlagDeleted, store.FlagAnswered}, 2, 3)
	ms2 := r.Changed[0].ModSeq
	if ms2 <= ms {
		t.Fatalf("modseq did not grow: %d then %d", ms, ms2)
	}
	eq(t, "remove result (3 unchanged)", r.Changed, []store.Entry{{UID: 2, Flags: []string{store.FlagSeen}, ModSeq: ms2}})
	st = checkCounters(t, a, in)
	if st.Unseen != 2 || st.Deleted != 1 {
		t.Fatalf("after remove: %+v", st)
	}

	r = setFlags(t, a, in, store.FlagsReplace, []string{store.FlagDraft, "Todo", `\Recent`}, 1, 2, 3, 4, 99)
	ms3 := r.Changed[0].ModSeq
	eq(t, "replace result", r.Changed, []store.Entry{
		{UID: 1, Flags: []string{"Todo", store.FlagDraft}, ModSeq: ms3},
		{UID: 2, Flags: []string{"Todo", store.FlagDraft}, ModSeq: ms3},
		{UID: 3, Flags: []string{"Todo", store.FlagDraft}, ModSeq: ms3},
		{UID: 4, Flags: []string{"Todo", store.FlagDraft}, ModSeq: ms3},
	})
	st = checkCounters(t, a, in)
	if st.Unseen != 4 || st.Deleted != 0 {
		t.Fatalf("after replace: %+v", st)
	}

	// A no-op store changes nothing and takes no modseq.
	r = setFlags(t, a, in, store.FlagsAdd, []string{"todo", store.FlagDraft}, 1, 2, 3, 4)
	if len(r.Changed) != 0 {
		t.Fatalf("no-op store changed %+v", r.Changed)
	}
	eq(t, "HIGHESTMODSEQ after no-op", status(t, a, in).HighestModSeq, ms3)

	r = setFlags(t, a, in, store.FlagsReplace, nil, 4)
	eq(t, "clear", r.Changed, []store.Entry{{UID: 4, ModSeq: r.Changed[0].ModSeq}})
	eq(t, "entries", entries(t, a, in), []store.Entry{
		{UID: 1, Flags: []string{"Todo", store.FlagDraft}, ModSeq: ms3},
		{UID: 2, Flags: []string{"Todo", store.FlagDraft}, ModSeq: ms3},
		{UID: 3, Flags: []string{"Todo", store.FlagDraft}, ModSeq: ms3},
		{UID: 4, ModSeq: r.Changed[0].ModSeq},
	})
	// Keywords once used stay listed (RFC 9051 7.3.5 allows it).
	eq(t, "keywords", status(t, a, in).Keywords, []string{"Todo"})
}

func testKeywordCase(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	appendRaw(t, a, in, msg(1), "$Work", "$WORK", "later")
	appendRaw(t, a, in, msg(2), "$work")
	es := entries(t, a, in)
	eq(t, "first spelling wins", es[0].Flags, []string{"$Work", "later"})
	eq(t, "mailbox spelling", es[1].Flags, []string{"$Work"})
	r := setFlags(t, a, in, store.FlagsRemove, []string{"$WORK", "LATER"}, 1, 2)
	eq(t, "removed case-insensitively", len(r.Changed), 2)
	eq(t, "flags", entries(t, a, in)[0].Flags, []string(nil))
	eq(t, "keywords", status(t, a, in).Keywords, []string{"$Work", "later"})
}

func testModSeqMonotonic(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	sent := mbox(t, a, "Sent").ID
	var last uint64
	check := func(what string, ms uint64) {
		t.Helper()
		if ms <= last {
			t.Fatalf("%s: modseq %d not above %d", what, ms, last)
		}
		last = ms
	}
	check("append INBOX", appendRaw(t, a, in, msg(1)).ModSeq)
	check("append Sent", appendRaw(t, a, sent, msg(2)).ModSeq)
	check("store INBOX", setFlags(t, a, in, store.FlagsAdd, []string{store.FlagSeen}, 1).Changed[0].ModSeq)
	check("append INBOX again", appendRaw(t, a, in, msg(3)).ModSeq)
	setFlags(t, a, in, store.FlagsAdd, []string{store.FlagDeleted}, 2)
	if _, err := a.Expunge(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	check("expunge", status(t, a, in).HighestModSeq)
	check("create", create(t, a, "New").HighestModSeq)
}

func testUnchangedSince(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	res := appendN(t, a, in, 0, 3)
	r := setFlags(t, a, in, store.FlagsAdd, []string{store.FlagFlagged}, 2)
	m2 := r.Changed[0].ModSeq

	// RFC 7162 3.1.3: UID 2 changed after res[2].ModSeq, so it fails the
	// test; 1 and 3 pass and change.
	out, err := a.StoreFlags(ctx, in, store.StoreRequest{
		UIDs: []uint32{1, 2, 3}, Mode: store.FlagsAdd, Flags: []string{store.FlagSeen}, UnchangedSince: res[2].ModSeq,
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Modified", out.Modified, []uint32{2})
	if len(out.Changed) != 2 {
		t.Fatalf("Changed %+v", out.Changed)
	}
	ms := out.Changed[0].ModSeq
	eq(t, "Changed", out.Changed, []store.Entry{
		{UID: 1, Flags: []string{store.FlagSeen}, ModSeq: ms},
		{UID: 3, Flags: []string{store.FlagSeen}, ModSeq: ms},
	})
	eq(t, "UID 2 untouched", entries(t, a, in)[1], store.Entry{UID: 2, Flags: []string{store.FlagFlagged}, ModSeq: m2})

	// Equal modseq passes the test ("equal to or less than").
	out, err = a.StoreFlags(ctx, in, store.StoreRequest{
		UIDs: []uint32{2}, Mode: store.FlagsRemove, Flags: []string{store.FlagFlagged}, UnchangedSince: m2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Modified) != 0 || len(out.Changed) != 1 {
		t.Fatalf("UNCHANGEDSINCE equal: %+v", out)
	}
	checkCounters(t, a, in)
}

// testCancelled: a cancelled context fails the call and changes nothing.
func testCancelled(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	c, cancel := context.WithCancel(ctx)
	cancel()
	_, err := a.Append(c, in, store.AppendRequest{Body: bytes.NewReader(msg(1)), Size: -1})
	wantErr(t, err, context.Canceled)
	_, err = a.Entries(c, in)
	wantErr(t, err, context.Canceled)
	_, err = a.CreateMailbox(c, "X", "")
	wantErr(t, err, context.Canceled)
	eq(t, "INBOX", status(t, a, in).Messages, uint32(0))
	_, err = a.Mailbox(ctx, "X")
	wantErr(t, err, store.ErrNoMailbox)
}
