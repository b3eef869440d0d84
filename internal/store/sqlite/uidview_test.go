package sqlite

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/casier/casier/internal/store"
)

// TestUIDListRandom applies random changes and after each compares UIDList
// of a cached store with the UIDs and first unseen message found in the
// entries of a second, uncached store on the same database: the delta
// update, including the carried first unseen UID, must always agree.
func TestUIDListRandom(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{NoSync: true})
	plain := openT(t, dir, Options{NoSync: true, CacheSize: -1})
	a, in := newAcct(t, s)
	other, err := a.CreateMailbox(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := plain.Account(ctx, a.user)
	rng := rand.New(rand.NewPCG(3, 9))
	for i := 0; i < 30; i++ {
		appendT(t, a, in, fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i))
	}
	check := func(step int, what string) {
		t.Helper()
		es, err := pa.Entries(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var want []uint32
		wantFU := uint32(0)
		for _, e := range es {
			want = append(want, e.UID)
			if wantFU == 0 && !slices.Contains(e.Flags, store.FlagSeen) {
				wantFU = e.UID
			}
		}
		st, _ := pa.Status(ctx, in)
		for _, ask := range []bool{rng.IntN(2) == 0, true} {
			got, err := a.UIDList(ctx, in, ask)
			if err != nil {
				t.Fatal(err)
			}
			fu := uint32(0)
			if ask {
				fu = wantFU
			}
			if fmt.Sprint(got.UIDs) != fmt.Sprint(want) || got.FirstUnseen != fu || got.ModSeq != st.HighestModSeq {
				t.Fatalf("step %d (%s, unseen %v): got %v first unseen %d modseq %d\nwant %v first unseen %d modseq %d",
					step, what, ask, got.UIDs, got.FirstUnseen, got.ModSeq, want, fu, st.HighestModSeq)
			}
			if cap(got.UIDs) != len(got.UIDs) {
				t.Fatalf("step %d: capacity %d not clipped to %d", step, cap(got.UIDs), len(got.UIDs))
			}
		}
		unc, err := pa.(*Account).UIDList(ctx, in, true)
		if err != nil || fmt.Sprint(unc.UIDs) != fmt.Sprint(want) || unc.FirstUnseen != wantFU {
			t.Fatalf("step %d: uncached %v %d %v", step, unc.UIDs, unc.FirstUnseen, err)
		}
	}
	check(-1, "initial")
	check(-1, "cached")
	randomChanges(t, a, pa, in, other.ID, rng, 200, check)
	check(999, "final")
}

// TestUIDListShared checks that callers share one array while only flags
// change, and that an append builds a new one without touching the old.
func TestUIDListShared(t *testing.T) {
	s := openT(t, t.TempDir(), Options{NoSync: true})
	a, in := newAcct(t, s)
	for i := 0; i < 5; i++ {
		appendT(t, a, in, fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i))
	}
	l1, err := a.UIDList(ctx, in, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: []uint32{2}, Mode: store.FlagsAdd, Flags: []string{store.FlagSeen}}); err != nil {
		t.Fatal(err)
	}
	l2, err := a.UIDList(ctx, in, false)
	if err != nil {
		t.Fatal(err)
	}
	if &l1.UIDs[0] != &l2.UIDs[0] || l2.ModSeq <= l1.ModSeq {
		t.Fatalf("flag change: not shared (%p %p) or modseq %d -> %d", &l1.UIDs[0], &l2.UIDs[0], l1.ModSeq, l2.ModSeq)
	}
	appendT(t, a, in, "Subject: new\r\n\r\nbody\r\n")
	l3, err := a.UIDList(ctx, in, false)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(l1.UIDs) != "[1 2 3 4 5]" || fmt.Sprint(l3.UIDs) != "[1 2 3 4 5 6]" {
		t.Fatalf("after append: old %v new %v", l1.UIDs, l3.UIDs)
	}
	if _, err := a.UIDList(ctx, 9999, false); err == nil {
		t.Fatal("UIDList of a missing mailbox succeeded")
	}
}

// TestUIDListPruned checks that a list older than the tombstone floor is
// read again in full: the pruned expunge is missing from the delta, which
// then has one UID more than the mailbox's message count.
func TestUIDListPruned(t *testing.T) {
	s := openT(t, t.TempDir(), Options{NoSync: true})
	a, in := newAcct(t, s)
	for i := 0; i < 3; i++ {
		appendT(t, a, in, fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i))
	}
	if _, err := a.UIDList(ctx, in, true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: []uint32{2}, Mode: store.FlagsAdd, Flags: []string{store.FlagDeleted}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Expunge(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	appendT(t, a, in, "Subject: new\r\n\r\nbody\r\n")
	st, _ := a.Status(ctx, in)
	if err := a.PruneTombstones(ctx, in, st.HighestModSeq); err != nil {
		t.Fatal(err)
	}
	l, err := a.UIDList(ctx, in, true)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(l.UIDs) != "[1 3 4]" || l.FirstUnseen != 1 {
		t.Fatalf("got %v first unseen %d, want [1 3 4] and 1", l.UIDs, l.FirstUnseen)
	}
}

func TestMergeUIDs(t *testing.T) {
	old := []uint32{1, 2, 3, 5}
	if got := mergeUIDs(old, nil, nil); &got[0] != &old[0] {
		t.Fatal("no change must keep the array")
	}
	if got := mergeUIDs(old, []uint32{4, 7}, []uint32{3, 9}); fmt.Sprint(got) != "[1 2 4 5 7]" {
		t.Fatalf("merge %v", got)
	}
	if got := mergeUIDs(old, []uint32{6, 8}, nil); fmt.Sprint(got) != "[1 2 3 5 6 8]" || cap(got) != len(got) {
		t.Fatalf("append %v cap %d", got, cap(got))
	}
	if got := mergeUIDs(nil, nil, []uint32{1}); len(got) != 0 {
		t.Fatalf("empty merge %v", got)
	}
}
