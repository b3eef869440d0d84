package storetest

import (
	"bytes"
	"slices"
	"testing"

	"github.com/casier/casier/internal/store"
)

// Labels, label folders and All Mail (docs/labels.md), with the engine's
// default label settings: prefix "Labels", the default list of keywords
// that are not labels.

var labelTests = []struct {
	name string
	fn   func(t *testing.T, h Harness)
}{
	{"LabelBasics", testLabelBasics},
	{"LabelStore", testLabelStore},
	{"LabelKeywords", testLabelKeywords},
	{"LabelCopyInto", testLabelCopyInto},
	{"LabelMove", testLabelMove},
	{"LabelAppend", testLabelAppend},
	{"LabelExpunge", testLabelExpunge},
	{"LabelTrash", testLabelTrash},
	{"LabelMoveKeepsUIDs", testLabelMoveKeepsUIDs},
	{"LabelMailboxes", testLabelMailboxes},
	{"LabelAllMailMailbox", testLabelAllMailMailbox},
	{"LabelQuota", testLabelQuota},
}

// flagsAt returns the flags of message uid of mailbox id, nil if absent.
func flagsAt(t *testing.T, a store.Account, id store.MailboxID, uid uint32) []string {
	t.Helper()
	for _, e := range entries(t, a, id) {
		if e.UID == uid {
			return e.Flags
		}
	}
	t.Fatalf("mailbox %d has no UID %d", id, uid)
	return nil
}

func changes(t *testing.T, a store.Account, id store.MailboxID, since uint64) store.ChangeSet {
	t.Helper()
	cs, err := a.Changes(ctx, id, since)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	return cs
}

func mustCopy(t *testing.T, a store.Account, move bool, src store.MailboxID, uids []uint32, dst store.MailboxID) store.CopyResult {
	t.Helper()
	op := a.Copy
	if move {
		op = a.Move
	}
	r, err := op(ctx, src, uids, dst)
	if err != nil {
		t.Fatalf("copy/move %d %v -> %d: %v", src, uids, dst, err)
	}
	return r
}

func checkAll(t *testing.T, a store.Account) {
	t.Helper()
	ms, err := a.Mailboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Selectable() {
			checkCounters(t, a, m.ID)
		}
	}
}

const (
	seen    = store.FlagSeen
	flagged = store.FlagFlagged
	deleted = store.FlagDeleted
)

func testLabelBasics(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX")
	all := mbox(t, a, "All Mail")
	root := mbox(t, a, "Labels")
	if all.Kind != store.KindAll || !all.Virtual() || !all.Selectable() || all.SpecialUse != `\All` {
		t.Fatalf("All Mail %+v", all)
	}
	if root.Kind != store.KindLabelRoot || root.Virtual() || root.Selectable() {
		t.Fatalf("Labels %+v", root)
	}
	if in.Kind != store.KindFolder || in.Virtual() || !in.Selectable() {
		t.Fatalf("INBOX %+v", in)
	}

	r := appendN(t, a, in.ID, 0, 2)
	eq(t, "All Mail", entries(t, a, all.ID), []store.Entry{{UID: 1, ModSeq: r[0].ModSeq}, {UID: 2, ModSeq: r[1].ModSeq}})
	recs, err := a.Records(ctx, all.ID, []uint32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := a.Records(ctx, in.ID, []uint32{1, 2})
	for i := range recs {
		if recs[i].MessageID != r[i].MessageID || recs[i].Size != orig[i].Size || !recs[i].InternalDate.Equal(orig[i].InternalDate) {
			t.Fatalf("All Mail record %+v, INBOX %+v", recs[i], orig[i])
		}
	}
	eq(t, "All Mail body", readBody(t, a, recs[1].MessageID), msg(1))

	// A keyword makes a label folder showing the message.
	_, err = a.Mailbox(ctx, "Labels/Work")
	wantErr(t, err, store.ErrNoMailbox)
	sr := setFlags(t, a, in.ID, store.FlagsAdd, []string{"Work"}, 2)
	ms := sr.Changed[0].ModSeq
	w := mbox(t, a, "Labels/Work")
	if w.Kind != store.KindLabel || w.Label != "Work" || !w.Virtual() || !w.Selectable() {
		t.Fatalf("Labels/Work %+v", w)
	}
	eq(t, "Labels/Work", entries(t, a, w.ID), []store.Entry{{UID: 1, Flags: []string{"Work"}, ModSeq: ms}})
	wr, _ := a.Records(ctx, w.ID, []uint32{1})
	eq(t, "EMAILID in the label folder", wr[0].MessageID, r[1].MessageID)
	eq(t, "All Mail flags", entries(t, a, all.ID)[1], store.Entry{UID: 2, Flags: []string{"Work"}, ModSeq: ms})
	eq(t, "label keywords", status(t, a, w.ID).Keywords, []string{"Work"})
	eq(t, "Status of the label", status(t, a, w.ID).Messages, uint32(1))
	checkAll(t, a)

	// The root holds nothing and takes nothing.
	_, err = a.Append(ctx, root.ID, store.AppendRequest{Body: bytes.NewReader(msg(9)), Size: int64(len(msg(9)))})
	wantErr(t, err, store.ErrNoSelect)
	_, err = a.StoreFlags(ctx, root.ID, store.StoreRequest{UIDs: []uint32{1}, Mode: store.FlagsAdd, Flags: []string{seen}})
	wantErr(t, err, store.ErrNoSelect)
	_, err = a.Expunge(ctx, root.ID, nil)
	wantErr(t, err, store.ErrNoSelect)
	_, err = a.Copy(ctx, in.ID, []uint32{1}, root.ID)
	wantErr(t, err, store.ErrNoSelect)
	_, err = a.Move(ctx, in.ID, []uint32{1}, root.ID)
	wantErr(t, err, store.ErrNoSelect)
	_, err = a.Copy(ctx, root.ID, []uint32{1}, in.ID)
	wantErr(t, err, store.ErrNoSelect)
	_, err = a.AppendBatch(ctx, root.ID, []store.BatchMessage{{Body: msg(9)}})
	wantErr(t, err, store.ErrNoSelect)
}

func testLabelStore(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	all := mbox(t, a, "All Mail").ID
	appendN(t, a, in, 0, 1)
	setFlags(t, a, in, store.FlagsAdd, []string{"Work"}, 1)
	w := mbox(t, a, "Labels/Work").ID
	m0 := status(t, a, w).HighestModSeq

	// STORE in the label folder changes the message everywhere.
	sr := setFlags(t, a, w, store.FlagsAdd, []string{seen}, 1)
	s1 := status(t, a, w).HighestModSeq
	if s1 <= m0 {
		t.Fatalf("label HIGHESTMODSEQ %d after %d", s1, m0)
	}
	eq(t, "label STORE", sr, store.StoreResult{Changed: []store.Entry{{UID: 1, Flags: []string{"Work", seen}, ModSeq: s1}}})
	eq(t, "INBOX", entries(t, a, in), []store.Entry{{UID: 1, Flags: []string{"Work", seen}, ModSeq: s1}})
	eq(t, "All Mail", entries(t, a, all), []store.Entry{{UID: 1, Flags: []string{"Work", seen}, ModSeq: s1}})
	eq(t, "label changes", changes(t, a, w, m0), store.ChangeSet{
		Changed: []store.Entry{{UID: 1, Flags: []string{"Work", seen}, ModSeq: s1}}, HighestModSeq: s1, UIDNext: 2})

	// And STORE in the folder changes the label folder.
	s2 := setFlags(t, a, in, store.FlagsAdd, []string{flagged}, 1).Changed[0].ModSeq
	if s2 <= s1 {
		t.Fatalf("modseq %d after %d", s2, s1)
	}
	eq(t, "label after INBOX STORE", entries(t, a, w), []store.Entry{{UID: 1, Flags: []string{"Work", flagged, seen}, ModSeq: s2}})
	eq(t, "label HIGHESTMODSEQ", status(t, a, w).HighestModSeq, s2)

	// UNCHANGEDSINCE is tested against the label folder's modseqs.
	ur, err := a.StoreFlags(ctx, w, store.StoreRequest{UIDs: []uint32{1}, Mode: store.FlagsAdd, Flags: []string{store.FlagAnswered}, UnchangedSince: s1})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "UNCHANGEDSINCE", ur, store.StoreResult{Modified: []uint32{1}})

	// Removing the label takes the message out of the label folder, and
	// the change feed says so; the message stays in INBOX.
	sr = setFlags(t, a, w, store.FlagsRemove, []string{"work"}, 1)
	s3 := status(t, a, in).HighestModSeq
	eq(t, "-FLAGS (Work)", sr, store.StoreResult{Changed: []store.Entry{{UID: 1, Flags: []string{flagged, seen}, ModSeq: s3}}})
	eq(t, "label emptied", len(entries(t, a, w)), 0)
	eq(t, "label changes", changes(t, a, w, s2), store.ChangeSet{Expunged: []uint32{1}, HighestModSeq: s3, UIDNext: 2})
	eq(t, "INBOX keeps it", entries(t, a, in), []store.Entry{{UID: 1, Flags: []string{flagged, seen}, ModSeq: s3}})
	eq(t, "the empty label stays", mbox(t, a, "Labels/Work").ID, w)

	// Labelled again, it comes back under a new UID.
	s4 := setFlags(t, a, in, store.FlagsAdd, []string{"work"}, 1).Changed[0].ModSeq
	eq(t, "label again", entries(t, a, w), []store.Entry{{UID: 2, Flags: []string{"Work", flagged, seen}, ModSeq: s4}})

	// STORE in All Mail changes the message everywhere too.
	s5 := setFlags(t, a, all, store.FlagsRemove, []string{seen}, 1).Changed[0].ModSeq
	eq(t, "after All Mail STORE", flagsAt(t, a, in, 1), []string{"Work", flagged})
	eq(t, "label after All Mail STORE", entries(t, a, w), []store.Entry{{UID: 2, Flags: []string{"Work", flagged}, ModSeq: s5}})
	checkAll(t, a)
}

func testLabelKeywords(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	trash := mbox(t, a, "Trash").ID
	before := names(t, a)
	appendN(t, a, in, 0, 1)

	// Keywords that clients set by themselves are not labels.
	setFlags(t, a, in, store.FlagsAdd, []string{"$Forwarded", "$MDNSent", "Junk", "$junk", "NonJunk", "$notjunk"}, 1)
	eq(t, "no label folders", names(t, a), before)

	// Keywords are case-insensitive: one label, spelled as first seen.
	appendRaw(t, a, in, msg(1), "travel")
	appendRaw(t, a, in, msg(2), "TRAVEL")
	tr := mbox(t, a, "Labels/travel")
	_, err := a.Mailbox(ctx, "Labels/TRAVEL")
	wantErr(t, err, store.ErrNoMailbox)
	eq(t, "one label", uidsOf(entries(t, a, tr.ID)), []uint32{1, 2})
	eq(t, "label spelling", tr.Label, "travel")

	// Nothing in Trash (or Junk) shows in labels or All Mail.
	appendRaw(t, a, trash, msg(3), "Secret")
	_, err = a.Mailbox(ctx, "Labels/Secret")
	wantErr(t, err, store.ErrNoMailbox)
	eq(t, "All Mail", len(entries(t, a, mbox(t, a, "All Mail").ID)), 3)
	// Restored, it does.
	mustCopy(t, a, true, trash, []uint32{1}, in)
	eq(t, "restored", len(entries(t, a, mbox(t, a, "Labels/Secret").ID)), 1)
	checkAll(t, a)
}

func testLabelCopyInto(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	trash := mbox(t, a, "Trash").ID
	arch := mbox(t, a, "Archive").ID
	all := mbox(t, a, "All Mail")
	r := appendN(t, a, in, 0, 2)
	w := create(t, a, "Labels/Work")
	if w.Kind != store.KindLabel || w.UIDNext != 1 {
		t.Fatalf("created label %+v", w)
	}
	q0 := quota(t, a)

	// COPY into a label folder labels the messages; nothing is copied.
	cr := mustCopy(t, a, false, in, []uint32{1, 2}, w.ID)
	eq(t, "COPY to label", cr, store.CopyResult{UIDValidity: w.UIDValidity, SrcUIDs: []uint32{1, 2}, DstUIDs: []uint32{1, 2}})
	eq(t, "INBOX", entries(t, a, in)[1].Flags, []string{"Work"})
	eq(t, "INBOX count", len(entries(t, a, in)), 2)
	eq(t, "no usage", quota(t, a), q0)
	// Into itself: nothing changes.
	eq(t, "COPY label to itself", mustCopy(t, a, false, w.ID, []uint32{2}, w.ID).DstUIDs, []uint32{2})

	// From Trash: a copy in Archive, with the label.
	tr := appendRaw(t, a, trash, msg(5))
	cr = mustCopy(t, a, false, trash, []uint32{1}, w.ID)
	eq(t, "COPY from Trash", cr, store.CopyResult{UIDValidity: w.UIDValidity, SrcUIDs: []uint32{1}, DstUIDs: []uint32{3}})
	eq(t, "Trash untouched", entries(t, a, trash)[0].Flags, []string(nil))
	ar, _ := a.Records(ctx, arch, []uint32{1})
	if len(ar) != 1 || ar[0].MessageID != tr.MessageID {
		t.Fatalf("Archive %+v", ar)
	}
	eq(t, "Archive copy", ar[0].Flags, []string{"Work"})
	eq(t, "usage of the Trash message and its Archive copy", quota(t, a).MessagesUsed, q0.MessagesUsed+2)

	// COPY into All Mail: nothing for what it shows; Trash to Archive.
	cr = mustCopy(t, a, false, in, []uint32{2}, all.ID)
	eq(t, "COPY to All Mail", cr, store.CopyResult{UIDValidity: all.UIDValidity, SrcUIDs: []uint32{2}, DstUIDs: []uint32{2}})
	cr = mustCopy(t, a, false, trash, []uint32{1}, all.ID)
	eq(t, "COPY from Trash to All Mail", cr, store.CopyResult{UIDValidity: all.UIDValidity, SrcUIDs: []uint32{1}, DstUIDs: []uint32{4}})
	eq(t, "Archive", uidsOf(entries(t, a, arch)), []uint32{1, 2})
	cr = mustCopy(t, a, false, w.ID, []uint32{1}, all.ID)
	eq(t, "COPY label to All Mail", cr, store.CopyResult{UIDValidity: all.UIDValidity, SrcUIDs: []uint32{1}, DstUIDs: []uint32{1}})

	// COPY out of a virtual mailbox copies the message, keywords kept.
	kept := create(t, a, "Kept")
	cr = mustCopy(t, a, false, w.ID, []uint32{2, 3}, kept.ID)
	eq(t, "COPY label to folder", cr, store.CopyResult{UIDValidity: kept.UIDValidity, SrcUIDs: []uint32{2, 3}, DstUIDs: []uint32{1, 2}})
	eq(t, "copy flags", entries(t, a, kept.ID)[0].Flags, []string{"Work"})
	eq(t, "copies are shown", uidsOf(entries(t, a, w.ID)), []uint32{1, 2, 3, 4, 5})
	cr = mustCopy(t, a, false, all.ID, []uint32{4}, kept.ID)
	eq(t, "COPY All Mail to folder", cr, store.CopyResult{UIDValidity: kept.UIDValidity, SrcUIDs: []uint32{4}, DstUIDs: []uint32{3}})
	eq(t, "usage of the copies", quota(t, a).MessagesUsed, q0.MessagesUsed+6)
	_ = r
	checkAll(t, a)
}

func testLabelMove(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX")
	arch := mbox(t, a, "Archive").ID
	all := mbox(t, a, "All Mail")
	r := appendN(t, a, in.ID, 0, 3)
	travel := create(t, a, "Labels/Travel")
	hm := status(t, a, all.ID).HighestModSeq

	// MOVE from a folder into a label: labelled and filed in Archive;
	// All Mail keeps its UID.
	cr := mustCopy(t, a, true, in.ID, []uint32{1}, travel.ID)
	eq(t, "MOVE to label", cr, store.CopyResult{UIDValidity: travel.UIDValidity, SrcUIDs: []uint32{1}, DstUIDs: []uint32{1}})
	eq(t, "INBOX", uidsOf(entries(t, a, in.ID)), []uint32{2, 3})
	eq(t, "Archive", entries(t, a, arch)[0].Flags, []string{"Travel"})
	eq(t, "All Mail UIDs", uidsOf(entries(t, a, all.ID)), []uint32{1, 2, 3})
	eq(t, "All Mail expunged nothing", changes(t, a, all.ID, hm).Expunged, []uint32(nil))
	eq(t, "All Mail flags", flagsAt(t, a, all.ID, 1), []string{"Travel"})

	// MOVE between labels relabels; the message stays in its folder.
	setFlags(t, a, in.ID, store.FlagsAdd, []string{"Work"}, 2)
	work := mbox(t, a, "Labels/Work")
	cr = mustCopy(t, a, true, work.ID, []uint32{1}, travel.ID)
	eq(t, "relabel", cr, store.CopyResult{UIDValidity: travel.UIDValidity, SrcUIDs: []uint32{1}, DstUIDs: []uint32{2}})
	eq(t, "old label", len(entries(t, a, work.ID)), 0)
	eq(t, "relabelled", flagsAt(t, a, in.ID, 2), []string{"Travel"})

	// MOVE from a label into All Mail removes the label.
	cr = mustCopy(t, a, true, travel.ID, []uint32{2}, all.ID)
	eq(t, "label to All Mail", cr, store.CopyResult{UIDValidity: all.UIDValidity, SrcUIDs: []uint32{2}, DstUIDs: []uint32{2}})
	eq(t, "unlabelled", flagsAt(t, a, in.ID, 2), []string(nil))
	eq(t, "label", uidsOf(entries(t, a, travel.ID)), []uint32{1})

	// MOVE from a label into a folder: the label goes, and the folder
	// gets a copy without it.
	proj := create(t, a, "Projects")
	cr = mustCopy(t, a, true, travel.ID, []uint32{1}, proj.ID)
	eq(t, "label to folder", cr, store.CopyResult{UIDValidity: proj.UIDValidity, SrcUIDs: []uint32{1}, DstUIDs: []uint32{1}})
	eq(t, "Archive keeps it", entries(t, a, arch)[0].Flags, []string(nil))
	eq(t, "the copy", entries(t, a, proj.ID)[0].Flags, []string(nil))
	eq(t, "label emptied", len(entries(t, a, travel.ID)), 0)
	eq(t, "All Mail", uidsOf(entries(t, a, all.ID)), []uint32{1, 2, 3, 4})
	// ...unless it is the message's own folder.
	setFlags(t, a, in.ID, store.FlagsAdd, []string{"Work"}, 3)
	cr = mustCopy(t, a, true, work.ID, []uint32{2}, in.ID)
	eq(t, "label to own folder", cr, store.CopyResult{UIDValidity: in.UIDValidity, SrcUIDs: []uint32{2}, DstUIDs: []uint32{3}})
	eq(t, "INBOX", uidsOf(entries(t, a, in.ID)), []uint32{2, 3})
	eq(t, "unlabelled", flagsAt(t, a, in.ID, 3), []string(nil))

	// MOVE from a folder into All Mail archives.
	cr = mustCopy(t, a, true, in.ID, []uint32{2}, all.ID)
	eq(t, "folder to All Mail", cr, store.CopyResult{UIDValidity: all.UIDValidity, SrcUIDs: []uint32{2}, DstUIDs: []uint32{2}})
	eq(t, "INBOX", uidsOf(entries(t, a, in.ID)), []uint32{3})
	eq(t, "Archive", uidsOf(entries(t, a, arch)), []uint32{1, 2})
	// A MOVE out of All Mail always takes the message out of it (RFC
	// 6851): even into All Mail, it comes back under a new UID.
	hm = status(t, a, all.ID).HighestModSeq
	cr = mustCopy(t, a, true, all.ID, []uint32{2}, all.ID)
	eq(t, "All Mail to itself", cr, store.CopyResult{UIDValidity: all.UIDValidity, SrcUIDs: []uint32{2}, DstUIDs: []uint32{5}})
	eq(t, "Archive unchanged", uidsOf(entries(t, a, arch)), []uint32{1, 2})
	ch := changes(t, a, all.ID, hm)
	eq(t, "All Mail expunged", ch.Expunged, []uint32{2})
	eq(t, "All Mail added", uidsOf(ch.Changed), []uint32{5})

	// MOVE out of All Mail into a folder moves the message from its
	// folder; it leaves All Mail and comes back under a new UID.
	hm = status(t, a, all.ID).HighestModSeq
	cr = mustCopy(t, a, true, all.ID, []uint32{3}, proj.ID)
	eq(t, "All Mail to folder", cr, store.CopyResult{UIDValidity: proj.UIDValidity, SrcUIDs: []uint32{3}, DstUIDs: []uint32{2}})
	eq(t, "INBOX", len(entries(t, a, in.ID)), 0)
	ch = changes(t, a, all.ID, hm)
	eq(t, "All Mail expunged", ch.Expunged, []uint32{3})
	eq(t, "All Mail added", uidsOf(ch.Changed), []uint32{6})

	// MOVE from All Mail into a label: labelled, and filed in Archive if
	// it is elsewhere; either way it leaves All Mail and comes back.
	cr = mustCopy(t, a, true, all.ID, []uint32{1}, travel.ID)
	eq(t, "All Mail to label", cr, store.CopyResult{UIDValidity: travel.UIDValidity, SrcUIDs: []uint32{1}, DstUIDs: []uint32{3}})
	eq(t, "archived message shown again", flagsAt(t, a, all.ID, 7), []string{"Travel"})
	cr = mustCopy(t, a, true, all.ID, []uint32{6}, travel.ID)
	eq(t, "All Mail to label, archiving", cr, store.CopyResult{UIDValidity: travel.UIDValidity, SrcUIDs: []uint32{6}, DstUIDs: []uint32{4}})
	eq(t, "Projects", uidsOf(entries(t, a, proj.ID)), []uint32{1})
	eq(t, "Archive", uidsOf(entries(t, a, arch)), []uint32{1, 2, 3})
	eq(t, "All Mail", uidsOf(entries(t, a, all.ID)), []uint32{4, 5, 7, 8})
	eq(t, "label", uidsOf(entries(t, a, travel.ID)), []uint32{3, 4})

	// Into the message's own folder: it stays there, and is shown again.
	cr = mustCopy(t, a, true, all.ID, []uint32{4}, proj.ID)
	eq(t, "All Mail to own folder", cr, store.CopyResult{UIDValidity: proj.UIDValidity, SrcUIDs: []uint32{4}, DstUIDs: []uint32{1}})
	eq(t, "All Mail", uidsOf(entries(t, a, all.ID)), []uint32{5, 7, 8, 9})
	_ = r
	checkAll(t, a)
}

func testLabelAppend(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	arch := mbox(t, a, "Archive").ID
	all := mbox(t, a, "All Mail")
	w := create(t, a, "Labels/Work")

	// APPEND to a label folder stores in Archive with the label.
	r := appendRaw(t, a, w.ID, msg(1), seen)
	if r.UIDValidity != w.UIDValidity || r.UID != 1 {
		t.Fatalf("APPEND to label: %+v", r)
	}
	ar, _ := a.Records(ctx, arch, []uint32{1})
	if len(ar) != 1 || ar[0].MessageID != r.MessageID {
		t.Fatalf("Archive %+v", ar)
	}
	eq(t, "Archive flags", ar[0].Flags, []string{"Work", seen})
	eq(t, "label", entries(t, a, w.ID), []store.Entry{{UID: 1, Flags: []string{"Work", seen}, ModSeq: r.ModSeq}})
	eq(t, "INBOX", len(entries(t, a, in)), 0)

	// APPEND to All Mail stores in Archive.
	r = appendRaw(t, a, all.ID, msg(2))
	if r.UIDValidity != all.UIDValidity || r.UID != 2 {
		t.Fatalf("APPEND to All Mail: %+v", r)
	}
	eq(t, "Archive", entries(t, a, arch)[1].Flags, []string(nil))

	// REPLACE through the label folder replaces the message in Archive.
	r, err := a.Replace(ctx, w.ID, 1, w.ID, store.AppendRequest{Body: bytes.NewReader(msg(3)), Size: int64(len(msg(3)))})
	if err != nil {
		t.Fatal(err)
	}
	if r.UIDValidity != w.UIDValidity || r.UID != 2 {
		t.Fatalf("REPLACE in label: %+v", r)
	}
	eq(t, "Archive after REPLACE", uidsOf(entries(t, a, arch)), []uint32{2, 3})
	eq(t, "label after REPLACE", uidsOf(entries(t, a, w.ID)), []uint32{2})
	eq(t, "All Mail after REPLACE", uidsOf(entries(t, a, all.ID)), []uint32{2, 3})
	_, err = a.Replace(ctx, w.ID, 1, w.ID, store.AppendRequest{Body: bytes.NewReader(msg(4)), Size: int64(len(msg(4)))})
	wantErr(t, err, store.ErrNotFound)

	// Bulk import is for folders.
	_, err = a.AppendBatch(ctx, w.ID, []store.BatchMessage{{Body: msg(5)}})
	wantErr(t, err, store.ErrCannot)
	res, err := a.AppendBatch(ctx, in, []store.BatchMessage{{Body: msg(6), Flags: []string{"Work"}}, {Body: msg(7)}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "imported, labelled", uidsOf(entries(t, a, w.ID)), []uint32{2, 3})
	eq(t, "imported, in All Mail", uidsOf(entries(t, a, all.ID)), []uint32{2, 3, 4, 5})
	_ = res

	// Without an Archive, one is made.
	if err := a.DeleteMailbox(ctx, "Archive"); err != nil {
		t.Fatal(err)
	}
	eq(t, "All Mail without Archive", uidsOf(entries(t, a, all.ID)), []uint32{4, 5})
	r = appendRaw(t, a, all.ID, msg(8))
	na := mbox(t, a, "Archive")
	if na.SpecialUse != `\Archive` || !na.Subscribed || na.ID == arch {
		t.Fatalf("new Archive %+v", na)
	}
	eq(t, "new Archive", uidsOf(entries(t, a, na.ID)), []uint32{1})
	eq(t, "APPEND to All Mail", r.UID, uint32(6))
	checkAll(t, a)
}

func testLabelExpunge(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	trash := mbox(t, a, "Trash").ID
	all := mbox(t, a, "All Mail").ID
	appendN(t, a, in, 0, 3)
	setFlags(t, a, in, store.FlagsAdd, []string{"Work"}, 1, 2, 3)
	w := mbox(t, a, "Labels/Work").ID
	setFlags(t, a, w, store.FlagsAdd, []string{deleted}, 1, 2)
	sz := int64(len(msg(0)))
	// EXPUNGE frees nothing in a label folder, nor in All Mail (the
	// messages go to Trash).
	for _, x := range []struct {
		id   store.MailboxID
		want int64
	}{{w, 0}, {all, 0}, {in, 2 * sz}} {
		if n, err := a.DeletedSize(ctx, x.id); err != nil || n != x.want {
			t.Fatalf("DeletedSize(%d) = %d, %v; want %d", x.id, n, err, x.want)
		}
	}

	// EXPUNGE in a label folder never deletes: the messages lose the
	// label and \Deleted.
	out, err := a.Expunge(ctx, w, []uint32{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "UID EXPUNGE in label", out, []uint32{2})
	eq(t, "label", uidsOf(entries(t, a, w)), []uint32{1, 3})
	eq(t, "INBOX keeps it", uidsOf(entries(t, a, in)), []uint32{1, 2, 3})
	eq(t, "without label nor \\Deleted", flagsAt(t, a, in, 2), []string(nil))
	out, err = a.Expunge(ctx, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "EXPUNGE in label", out, []uint32{1})
	eq(t, "INBOX", uidsOf(entries(t, a, in)), []uint32{1, 2, 3})
	eq(t, "without label nor \\Deleted", flagsAt(t, a, in, 1), []string(nil))
	out, err = a.Expunge(ctx, w, nil)
	if err != nil || len(out) != 0 {
		t.Fatalf("empty EXPUNGE in label: %v %v", out, err)
	}

	// EXPUNGE in All Mail moves to Trash, without \Deleted.
	setFlags(t, a, all, store.FlagsAdd, []string{deleted}, 1)
	eq(t, "\\Deleted everywhere", flagsAt(t, a, in, 1), []string{deleted})
	out, err = a.Expunge(ctx, all, nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "EXPUNGE in All Mail", out, []uint32{1})
	eq(t, "All Mail", uidsOf(entries(t, a, all)), []uint32{2, 3})
	eq(t, "INBOX", uidsOf(entries(t, a, in)), []uint32{2, 3})
	eq(t, "Trash", entries(t, a, trash)[0].Flags, []string(nil))

	// Without a Trash, the messages are expunged from their folders.
	if err := a.DeleteMailbox(ctx, "Trash"); err != nil {
		t.Fatal(err)
	}
	setFlags(t, a, in, store.FlagsAdd, []string{deleted}, 2)
	if n, err := a.DeletedSize(ctx, all); err != nil || n != sz {
		t.Fatalf("DeletedSize(All Mail) without Trash = %d, %v; want %d", n, err, sz)
	}
	out, err = a.Expunge(ctx, all, []uint32{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "EXPUNGE in All Mail without Trash", out, []uint32{2})
	eq(t, "INBOX", uidsOf(entries(t, a, in)), []uint32{3})
	checkAll(t, a)
}

func testLabelTrash(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	trash := mbox(t, a, "Trash").ID
	junk := mbox(t, a, "Junk").ID
	all := mbox(t, a, "All Mail").ID
	appendN(t, a, in, 0, 3)
	setFlags(t, a, in, store.FlagsAdd, []string{"Work"}, 1, 2)
	w := mbox(t, a, "Labels/Work").ID
	hm := status(t, a, all).HighestModSeq

	// MOVE to Trash (or Junk) removes from All Mail and the labels.
	mustCopy(t, a, true, in, []uint32{1}, trash)
	mustCopy(t, a, true, in, []uint32{2}, junk)
	eq(t, "All Mail", uidsOf(entries(t, a, all)), []uint32{3})
	eq(t, "label", len(entries(t, a, w)), 0)
	eq(t, "All Mail changes", changes(t, a, all, hm).Expunged, []uint32{1, 2})
	eq(t, "label kept on the message", entries(t, a, trash)[0].Flags, []string{"Work"})

	// Restored, it comes back under a new UID.
	mustCopy(t, a, true, trash, []uint32{1}, in)
	eq(t, "All Mail", uidsOf(entries(t, a, all)), []uint32{3, 4})
	eq(t, "label", uidsOf(entries(t, a, w)), []uint32{3})
	checkAll(t, a)
}

func testLabelMoveKeepsUIDs(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	all := mbox(t, a, "All Mail").ID
	appendN(t, a, in, 0, 3)
	setFlags(t, a, in, store.FlagsAdd, []string{"Work"}, 1, 2)
	w := mbox(t, a, "Labels/Work").ID
	allBefore, wBefore := entries(t, a, all), entries(t, a, w)
	hmAll, hmW := status(t, a, all).HighestModSeq, status(t, a, w).HighestModSeq

	// MOVE between folders: the virtual mailboxes do not change at all.
	f := create(t, a, "Work")
	mustCopy(t, a, true, in, []uint32{1, 2}, f.ID)
	eq(t, "All Mail", entries(t, a, all), allBefore)
	eq(t, "label", entries(t, a, w), wBefore)
	eq(t, "All Mail HIGHESTMODSEQ", status(t, a, all).HighestModSeq, hmAll)
	eq(t, "label HIGHESTMODSEQ", status(t, a, w).HighestModSeq, hmW)

	// The mirrors follow: a flag change in the new folder shows.
	setFlags(t, a, f.ID, store.FlagsAdd, []string{seen}, 2)
	eq(t, "label follows", flagsAt(t, a, w, 2), []string{"Work", seen})

	// So does renaming INBOX, which moves its messages.
	if err := a.RenameMailbox(ctx, "INBOX", "Old"); err != nil {
		t.Fatal(err)
	}
	eq(t, "All Mail after RENAME INBOX", uidsOf(entries(t, a, all)), []uint32{1, 2, 3})
	setFlags(t, a, mbox(t, a, "Old").ID, store.FlagsAdd, []string{flagged}, 1)
	eq(t, "All Mail follows", flagsAt(t, a, all, 3), []string{flagged})

	// Deleting a folder takes its messages out of the virtual mailboxes.
	if err := a.DeleteMailbox(ctx, "Work"); err != nil {
		t.Fatal(err)
	}
	eq(t, "All Mail after DELETE", uidsOf(entries(t, a, all)), []uint32{3})
	eq(t, "label after DELETE", len(entries(t, a, w)), 0)
	eq(t, "tombstones", changes(t, a, w, hmW).Expunged, []uint32{1, 2})
	checkAll(t, a)
}

func testLabelMailboxes(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	all := mbox(t, a, "All Mail").ID
	appendN(t, a, in, 0, 2)
	todo := create(t, a, "Labels/Todo")
	if todo.Kind != store.KindLabel || todo.Label != "Todo" || todo.UIDNext != 1 {
		t.Fatalf("CREATE Labels/Todo: %+v", todo)
	}
	for _, bad := range []string{"Labels/My Label", "Labels/a/b", `Labels/x"y`, "Labels/(x", "Labels/$Forwarded", "Labels/nonjunk"} {
		_, err := a.CreateMailbox(ctx, bad, "")
		wantErr(t, err, store.ErrCannot)
	}
	_, err := a.CreateMailbox(ctx, "Labels/todo", "")
	wantErr(t, err, store.ErrExists)
	_, err = a.CreateMailbox(ctx, "Labels", "")
	wantErr(t, err, store.ErrExists)

	setFlags(t, a, in, store.FlagsAdd, []string{"todo"}, 1, 2)
	eq(t, "Todo", uidsOf(entries(t, a, todo.ID)), []uint32{1, 2})

	// RENAME relabels every message; the folder keeps its UIDs.
	if err := a.RenameMailbox(ctx, "Labels/Todo", "Labels/Later"); err != nil {
		t.Fatal(err)
	}
	later := mbox(t, a, "Labels/Later")
	if later.ID != todo.ID || later.UIDValidity != todo.UIDValidity || later.Label != "Later" {
		t.Fatalf("renamed label %+v, was %+v", later, todo)
	}
	_, err = a.Mailbox(ctx, "Labels/Todo")
	wantErr(t, err, store.ErrNoMailbox)
	eq(t, "label UIDs", uidsOf(entries(t, a, later.ID)), []uint32{1, 2})
	eq(t, "label flags", flagsAt(t, a, later.ID, 1), []string{"Later"})
	eq(t, "INBOX flags", flagsAt(t, a, in, 2), []string{"Later"})
	eq(t, "All Mail flags", flagsAt(t, a, all, 2), []string{"Later"})

	create(t, a, "Labels/Other")
	wantErr(t, a.RenameMailbox(ctx, "Labels/Later", "Labels/other"), store.ErrExists)
	wantErr(t, a.RenameMailbox(ctx, "Labels/Later", "Labels/Bad Name"), store.ErrCannot)
	wantErr(t, a.RenameMailbox(ctx, "Labels/Later", "Later"), store.ErrCannot)
	wantErr(t, a.RenameMailbox(ctx, "Archive", "Labels/Archive"), store.ErrCannot)
	wantErr(t, a.RenameMailbox(ctx, "INBOX", "Labels/Inbox"), store.ErrCannot)
	wantErr(t, a.RenameMailbox(ctx, "Labels", "Tags"), store.ErrCannot)
	wantErr(t, a.DeleteMailbox(ctx, "Labels"), store.ErrCannot)

	// DELETE removes the label from every message; no mail is deleted.
	if err := a.DeleteMailbox(ctx, "Labels/Later"); err != nil {
		t.Fatal(err)
	}
	_, err = a.Mailbox(ctx, "Labels/Later")
	wantErr(t, err, store.ErrNoMailbox)
	eq(t, "INBOX", entries(t, a, in)[0].Flags, []string(nil))
	eq(t, "INBOX count", len(entries(t, a, in)), 2)
	eq(t, "All Mail", flagsAt(t, a, all, 1), []string(nil))

	// A folder may live under All Mail, which may be renamed.
	sub := create(t, a, "All Mail/Sub")
	if sub.Kind != store.KindFolder {
		t.Fatalf("folder under All Mail: %+v", sub)
	}
	if err := a.RenameMailbox(ctx, "All Mail", "Everything"); err != nil {
		t.Fatal(err)
	}
	eq(t, "renamed All Mail", mbox(t, a, "Everything").ID, all)
	eq(t, "and its child", mbox(t, a, "Everything/Sub").ID, sub.ID)
	checkAll(t, a)
}

func testLabelAllMailMailbox(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	appendN(t, a, in, 0, 2)
	setFlags(t, a, in, store.FlagsAdd, []string{"Work"}, 1)

	// Without All Mail, everything else works.
	if err := a.DeleteMailbox(ctx, "All Mail"); err != nil {
		t.Fatal(err)
	}
	appendRaw(t, a, in, msg(3), "Work")
	setFlags(t, a, in, store.FlagsAdd, []string{seen}, 1)
	w := mbox(t, a, "Labels/Work").ID
	eq(t, "label", entries(t, a, w)[0].Flags, []string{"Work", seen})
	eq(t, "label UIDs", uidsOf(entries(t, a, w)), []uint32{1, 2})

	// CREATE with \All makes a new one, showing every message; there is
	// only one.
	m, err := a.CreateMailbox(ctx, "Everything", `\All`)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != store.KindAll || m.SpecialUse != `\All` || m.UIDNext != 4 {
		t.Fatalf("new All Mail %+v", m)
	}
	eq(t, "new All Mail", uidsOf(entries(t, a, m.ID)), []uint32{1, 2, 3})
	eq(t, "its flags", flagsAt(t, a, m.ID, 1), []string{"Work", seen})
	_, err = a.CreateMailbox(ctx, "Another", `\All`)
	wantErr(t, err, store.ErrExists)
	checkAll(t, a)
}

func testLabelQuota(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	in := mbox(t, a, "INBOX").ID
	arch := mbox(t, a, "Archive").ID
	sz := int64(len(msg(1)))
	appendN(t, a, in, 0, 2)
	setFlags(t, a, in, store.FlagsAdd, []string{"Work"}, 1, 2)
	w := mbox(t, a, "Labels/Work").ID
	travel := create(t, a, "Labels/Travel").ID

	// Virtual mailboxes take no storage.
	eq(t, "usage", quota(t, a), store.Quota{StorageUsed: 2 * sz, MessagesUsed: 2})

	// At the limit, label operations still work; real copies do not.
	if err := s.SetQuota(ctx, "alice", 0, 2); err != nil {
		t.Fatal(err)
	}
	mustCopy(t, a, false, in, []uint32{1}, travel)
	mustCopy(t, a, true, in, []uint32{2}, travel)
	mustCopy(t, a, true, travel, []uint32{1}, w)
	_, err := a.Copy(ctx, w, []uint32{1}, arch)
	wantErr(t, err, store.ErrOverQuota)
	_, err = a.Append(ctx, w, store.AppendRequest{Body: bytes.NewReader(msg(5)), Size: sz})
	wantErr(t, err, store.ErrOverQuota)
	eq(t, "usage at the limit", quota(t, a), store.Quota{MessageLimit: 2, StorageUsed: 2 * sz, MessagesUsed: 2})
	if !slices.Equal(uidsOf(entries(t, a, arch)), []uint32{1}) {
		t.Fatalf("Archive %v", uidsOf(entries(t, a, arch)))
	}
	checkAll(t, a)
}
