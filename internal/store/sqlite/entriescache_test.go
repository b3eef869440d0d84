package sqlite

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/casier/casier/internal/store"
)

// TestEntriesCacheRandom applies random changes (appends, flag and keyword
// changes, expunges, moves in and out) and after each compares Entries of
// a cached store with Entries of a second, uncached store on the same
// database: the delta merge must always give the full read's answer.
func TestEntriesCacheRandom(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{NoSync: true})
	plain := openT(t, dir, Options{NoSync: true, CacheSize: -1})
	a, in := newAcct(t, s)
	other, err := a.CreateMailbox(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := plain.Account(ctx, a.user)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 30; i++ {
		appendT(t, a, in, fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i))
	}
	check := func(step int, what string) {
		t.Helper()
		got, err := a.Entries(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pa.Entries(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("step %d (%s): cached entries\n%v\nwant\n%v", step, what, got, want)
		}
	}
	check(-1, "initial")
	check(-1, "cached")
	randomChanges(t, a, pa, in, other.ID, rng, 150, check)
	check(999, "final")
	// A copy is returned: changing it does not change the cache.
	es, _ := a.Entries(ctx, in)
	if len(es) == 0 {
		t.Fatal("no entries left")
	}
	es[0].UID = 1 << 31
	check(1000, "after caller modified its copy")
}

func TestMergeEntries(t *testing.T) {
	e := func(uids ...uint32) []store.Entry {
		var out []store.Entry
		for _, u := range uids {
			out = append(out, store.Entry{UID: u, ModSeq: uint64(u)})
		}
		return out
	}
	changed := []store.Entry{{UID: 2, ModSeq: 99}, {UID: 7, ModSeq: 98}, {UID: 9, ModSeq: 97}}
	got := mergeEntries(e(1, 2, 3, 5), changed, []uint32{3, 4, 9})
	want := []store.Entry{{UID: 1, ModSeq: 1}, {UID: 2, ModSeq: 99}, {UID: 5, ModSeq: 5}, {UID: 7, ModSeq: 98}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("merge %v, want %v", got, want)
	}
	if got := mergeEntries(nil, nil, []uint32{1}); len(got) != 0 {
		t.Fatalf("empty merge %v", got)
	}
}

func TestEntriesCacheBudget(t *testing.T) {
	c := newEntriesCache(10)
	c.put(1, 5, make([]store.Entry, 4))
	c.put(2, 5, make([]store.Entry, 4))
	c.get(1) // 2 is now the least recently used
	c.put(3, 5, make([]store.Entry, 4))
	if c.get(2) != nil || c.get(1) == nil || c.get(3) == nil || c.used != 8 {
		t.Fatalf("eviction: used %d, have %v", c.used, c.m)
	}
	c.put(1, 4, make([]store.Entry, 1)) // older than cached: ignored
	if s := c.get(1); s.modseq != 5 || len(s.entries) != 4 {
		t.Fatalf("older list replaced a newer one: %+v", s)
	}
	c.put(9, 1, make([]store.Entry, 6)) // over half the budget: not cached
	if c.get(9) != nil {
		t.Fatal("oversized list cached")
	}
	if newEntriesCache(0) != nil {
		t.Fatal("zero budget must disable")
	}
}
