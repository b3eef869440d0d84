package sqlite

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/casier/casier/internal/store"
)

func TestThreadKeys(t *testing.T) {
	h := "Subject: x\r\nmessage-id:  <own@x>\r\nIn-Reply-To: <parent@x> (comment)\r\n" +
		"References: <root@x>\r\n\t<mid@x> <parent@x>\r\n <bad id@x> <unclosed@x\r\n\r\nReferences: <body@x>\r\n"
	want := []string{"<own@x>", "<parent@x>", "<root@x>", "<mid@x>"}
	if got := threadKeys([]byte(h)); !reflect.DeepEqual(got, want) {
		t.Fatalf("threadKeys = %q, want %q", got, want)
	}
	if got := threadKeys([]byte("Subject: none\r\n\r\n")); got != nil {
		t.Fatalf("no ids: %q", got)
	}
	// A long References list keeps the root and the newest ids.
	var refs []string
	for i := 0; i < 100; i++ {
		refs = append(refs, fmt.Sprintf("<r%d@x>", i))
	}
	got := threadKeys([]byte("References: " + strings.Join(refs, " ") + "\r\n\r\n"))
	if len(got) != maxThreadKeys || got[0] != "<r0@x>" || got[1] != "<r99@x>" || got[maxThreadKeys-1] != "<r69@x>" {
		t.Fatalf("long References: %d keys %q", len(got), got)
	}
}

func FuzzThreadKeys(f *testing.F) {
	f.Add([]byte("Message-ID: <a@b>\r\nReferences: <c@d>\r\n <e@f>\r\n\r\n"))
	f.Add([]byte("References: <<<>>>\r\n"))
	f.Fuzz(func(t *testing.T, h []byte) {
		keys := threadKeys(h)
		if len(keys) > maxThreadKeys {
			t.Fatalf("%d keys", len(keys))
		}
		for _, k := range keys {
			if len(k) < 3 || k[0] != '<' || k[len(k)-1] != '>' || strings.ContainsAny(k, " \t") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}

func threadOf(t *testing.T, a *Account, in store.MailboxID, uid uint32) string {
	t.Helper()
	rs := recordsT(t, a, in, uid)
	if len(rs) != 1 {
		t.Fatalf("uid %d: %d records", uid, len(rs))
	}
	return rs[0].Parsed.ThreadID
}

func TestThreadsAtDelivery(t *testing.T) {
	s := openT(t, t.TempDir(), Options{NoSync: true})
	a, in := newAcct(t, s)
	r1 := appendT(t, a, in, "Message-ID: <c@x>\r\nIn-Reply-To: <p@x>\r\n\r\nchild\r\n")
	appendT(t, a, in, "Message-ID: <p@x>\r\n\r\nparent\r\n")
	r3 := appendT(t, a, in, "Message-ID: <q@x>\r\n\r\nother\r\n")
	appendT(t, a, in, "Message-ID: <g@x>\r\nReferences: <q@x> <c@x>\r\n\r\nlinks both\r\n")
	t1, t3 := fmt.Sprintf("T%d", r1.MessageID), fmt.Sprintf("T%d", r3.MessageID)
	// A message naming two threads joins the oldest; threads never merge.
	for uid, want := range map[uint32]string{1: t1, 2: t1, 3: t3, 4: t1} {
		if got := threadOf(t, a, in, uid); got != want {
			t.Errorf("uid %d thread %q, want %q", uid, got, want)
		}
	}
	var n int
	if err := s.wdb.QueryRow(`SELECT count(*) FROM thread_keys`).Scan(&n); err != nil || n != 4 { // <c@x> <p@x> <q@x> <g@x>
		t.Fatalf("thread_keys: %d rows, %v", n, err)
	}
	// Once every message of thread t3 is gone, its keys go too, and a new
	// message naming <q@x> starts a thread of its own.
	if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: []uint32{3}, Mode: store.FlagsAdd, Flags: []string{store.FlagDeleted}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Expunge(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.wdb.QueryRow(`SELECT count(*) FROM thread_keys WHERE msgid = '<q@x>'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("keys of a deleted thread: %d, %v", n, err)
	}
	r5 := appendT(t, a, in, "Message-ID: <q2@x>\r\nIn-Reply-To: <q@x>\r\n\r\nlate\r\n")
	if got, want := threadOf(t, a, in, 5), fmt.Sprintf("T%d", r5.MessageID); got != want {
		t.Fatalf("thread after cleanup %q, want %q", got, want)
	}
}

func TestReplaceStore(t *testing.T) {
	s := openT(t, t.TempDir(), Options{NoSync: true})
	a, in := newAcct(t, s)
	appendT(t, a, in, "Subject: v1\r\n\r\none\r\n")
	appendT(t, a, in, "Subject: keep\r\n\r\nkeep\r\n")
	req := func(body string) store.AppendRequest {
		return store.AppendRequest{Body: strings.NewReader(body), Size: int64(len(body)), Flags: []string{store.FlagDraft}}
	}
	// A UID that is not there: nothing changes.
	if _, err := a.Replace(ctx, in, 9, in, req("Subject: v2\r\n\r\ntwo\r\n")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing uid: %v", err)
	}
	// A missing target: nothing changes either.
	if _, err := a.Replace(ctx, in, 1, store.MailboxID(1<<40), req("Subject: v2\r\n\r\ntwo\r\n")); !errors.Is(err, store.ErrNoMailbox) {
		t.Fatalf("missing target: %v", err)
	}
	st, err := a.Status(ctx, in)
	if err != nil || st.Messages != 2 || st.UIDNext != 3 {
		t.Fatalf("after failures: %+v %v", st, err)
	}
	res, err := a.Replace(ctx, in, 1, in, req("Subject: v2\r\n\r\ntwo\r\n"))
	if err != nil || res.UID != 3 {
		t.Fatalf("replace: %+v %v", res, err)
	}
	cs, err := a.Changes(ctx, in, res.ModSeq-1)
	if err != nil || len(cs.Expunged) != 1 || cs.Expunged[0] != 1 || len(cs.Changed) != 1 || cs.Changed[0].UID != 3 ||
		cs.Changed[0].ModSeq != res.ModSeq {
		t.Fatalf("changes: %+v %v", cs, err)
	}
	st, err = a.Status(ctx, in)
	if err != nil || st.Messages != 2 || st.Size != int64(len("Subject: keep\r\n\r\nkeep\r\n")+len("Subject: v2\r\n\r\ntwo\r\n")) {
		t.Fatalf("counters: %+v %v", st, err)
	}
	// Replacing a message by the same bytes keeps its body row (EMAILID).
	res2, err := a.Replace(ctx, in, 3, in, req("Subject: v2\r\n\r\ntwo\r\n"))
	if err != nil || res2.MessageID != res.MessageID {
		t.Fatalf("same body: %+v (was %d) %v", res2, res.MessageID, err)
	}
}
