package sqlite

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/casier/casier/internal/store"
)

// randomChanges applies steps random changes to mailbox in of a (appends,
// flag and keyword changes, expunges, moves out to other and copies back
// in), reading the current entries through pa (an uncached account on the
// same database), and calls check after most steps, so that several
// changes sometimes pile up between checks.
func randomChanges(t *testing.T, a *Account, pa store.Account, in, other store.MailboxID, rng *rand.Rand, steps int, check func(step int, what string)) {
	t.Helper()
	for step := 0; step < steps; step++ {
		es, _ := pa.Entries(ctx, in)
		pick := func() []uint32 {
			var u []uint32
			for _, e := range es {
				if rng.IntN(4) == 0 {
					u = append(u, e.UID)
				}
			}
			return u
		}
		var what string
		switch op := rng.IntN(7); op {
		case 0:
			what = "append"
			appendT(t, a, in, fmt.Sprintf("Subject: s%d\r\n\r\nx%d\r\n", step, rng.IntN(5)))
		case 1, 2, 3:
			what = "store"
			flags := [][]string{{store.FlagSeen}, {store.FlagSeen, store.FlagDeleted}, {"$Label"}, {store.FlagDeleted}, {"$Other", store.FlagFlagged}}[rng.IntN(5)]
			mode := []store.FlagMode{store.FlagsAdd, store.FlagsAdd, store.FlagsRemove, store.FlagsReplace}[rng.IntN(4)]
			if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: pick(), Mode: mode, Flags: flags}); err != nil {
				t.Fatal(err)
			}
		case 4:
			what = "expunge"
			if _, err := a.Expunge(ctx, in, nil); err != nil {
				t.Fatal(err)
			}
		case 5:
			what = "move out"
			if u := pick(); len(u) > 0 {
				if _, err := a.Move(ctx, in, u, other); err != nil {
					t.Fatal(err)
				}
			}
		case 6:
			what = "copy in"
			oes, _ := a.Entries(ctx, other)
			if len(oes) > 0 {
				if _, err := a.Copy(ctx, other, []uint32{oes[rng.IntN(len(oes))].UID}, in); err != nil {
					t.Fatal(err)
				}
			}
		}
		if rng.IntN(3) > 0 {
			check(step, what)
		}
	}
}
