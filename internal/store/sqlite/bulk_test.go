package sqlite

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// TestAppendBatch checks what import relies on: skipping by occurrence,
// flags and keywords, counters, one MODSEQ and one change per batch, and
// the size limit.
func TestAppendBatch(t *testing.T) {
	bctx := context.Background()
	s, err := Open(t.TempDir(), Options{NoSweep: true, MaxMessageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.CreateUser(bctx, "bulk", "x")
	if err != nil {
		t.Fatal(err)
	}
	acct, _ := s.Account(bctx, u.ID)
	mb, _ := acct.Mailbox(bctx, "INBOX")
	sub := s.Hub().Subscribe(u.ID)
	defer sub.Close()

	date := time.Unix(1700000000, 0).UTC()
	a := []byte("Subject: a\r\n\r\na\r\n")
	b := []byte("Subject: b\r\n\r\nb\r\n")
	batch := []store.BatchMessage{
		{Body: a, Flags: []string{`\Seen`, "Work"}, InternalDate: date},
		{Body: b, Flags: []string{`\Deleted`}},
		{Body: a, Occurrence: 1}, // a second copy in the source: kept
	}
	res, err := acct.AppendBatch(bctx, mb.ID, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].UID != 1 || res[1].UID != 2 || res[2].UID != 3 ||
		res[0].MessageID != res[2].MessageID || res[0].ModSeq != res[2].ModSeq || res[0].ModSeq == 0 {
		t.Fatalf("results %+v", res)
	}
	select {
	case <-sub.Ready():
	default:
		t.Error("no change published")
	}
	// The same batch again, then with a third copy: only that is added.
	res, err = acct.AppendBatch(bctx, mb.ID, batch)
	if err != nil || res[0].UID != 0 || res[1].UID != 0 || res[2].UID != 0 {
		t.Fatalf("re-run: %+v %v", res, err)
	}
	res, err = acct.AppendBatch(bctx, mb.ID, []store.BatchMessage{{Body: a, Occurrence: 2}, {Body: a, Occurrence: 3}})
	if err != nil || res[0].UID != 4 || res[1].UID != 5 {
		t.Fatalf("more copies: %+v %v", res, err)
	}
	ents, err := acct.Entries(bctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var flags [][]string
	for _, e := range ents {
		flags = append(flags, e.Flags)
	}
	if want := [][]string{{"Work", `\Seen`}, {`\Deleted`}, nil, nil, nil}; !reflect.DeepEqual(flags, want) {
		t.Errorf("flags %q, want %q", flags, want)
	}
	st, err := acct.Status(bctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 5 || st.Unseen != 4 || st.Deleted != 1 || st.UIDNext != 6 ||
		st.Size != int64(4*len(a)+len(b)) || !reflect.DeepEqual(st.Keywords, []string{"Work"}) {
		t.Errorf("status %+v", st)
	}
	recs, err := acct.Records(bctx, mb.ID, []uint32{1})
	if err != nil || len(recs) != 1 || !recs[0].InternalDate.Equal(date) || recs[0].Parsed == nil {
		t.Errorf("record %+v %v", recs, err)
	}
	big := make([]byte, 1001)
	if _, err := acct.AppendBatch(bctx, mb.ID, []store.BatchMessage{{Body: big}}); !errors.Is(err, store.ErrTooBig) {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := acct.AppendBatch(bctx, 99999, batch); !errors.Is(err, store.ErrNoMailbox) {
		t.Errorf("no mailbox: %v", err)
	}
}
