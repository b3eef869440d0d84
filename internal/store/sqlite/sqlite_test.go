package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
	"github.com/casier/casier/internal/store/storetest"
)

var ctx = context.Background()

func openT(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunWith(t, storetest.Harness{
		New: func(t *testing.T) store.Store { return openT(t, t.TempDir(), Options{}) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			dir := s.(*Store).Dir()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openT(t, dir, Options{})
		},
	})
}

// TestRun checks the plain entry point the PostgreSQL engine will use.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("covered by TestConformance")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openT(t, t.TempDir(), Options{NoSync: true}) })
}

func newAcct(t *testing.T, s *Store) (*Account, store.MailboxID) {
	t.Helper()
	u, err := s.CreateUser(ctx, "alice", "x")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Account(ctx, u.ID)
	m, err := a.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	return a.(*Account), m.ID
}

func TestMaxMessageSize(t *testing.T) {
	s := openT(t, t.TempDir(), Options{MaxMessageSize: 100})
	a, in := newAcct(t, s)
	body := "Subject: x\r\n\r\n" + strings.Repeat("y", 86) // exactly 100 bytes
	if _, err := a.Append(ctx, in, store.AppendRequest{Body: strings.NewReader(body), Size: -1}); err != nil {
		t.Fatalf("100-byte message refused: %v", err)
	}
	_, err := a.Append(ctx, in, store.AppendRequest{Body: strings.NewReader(body + "z"), Size: -1})
	if !errors.Is(err, store.ErrTooBig) {
		t.Fatalf("101-byte message (size unknown): %v", err)
	}
	_, err = a.Append(ctx, in, store.AppendRequest{Body: strings.NewReader(body), Size: 101})
	if !errors.Is(err, store.ErrTooBig) {
		t.Fatalf("size hint 101: %v", err)
	}
	if n, _ := s.BlobCount(); n != 1 {
		t.Fatalf("%d blobs, want 1", n)
	}
}

// TestSweep: a body file without metadata (crash between the body write
// and the commit) and a stale temporary file are removed at Open.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	a, in := newAcct(t, s)
	keep := []byte("Subject: keep\r\n\r\nkeep\r\n")
	if _, err := a.Append(ctx, in, store.AppendRequest{Body: bytes.NewReader(keep), Size: -1}); err != nil {
		t.Fatal(err)
	}
	orphan := []byte("orphan")
	if err := s.blobs.Put(blobstore.Sum(orphan), orphan); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "blobs", "tmp", "put-stale")
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(tmp, old, old)
	fresh := filepath.Join(dir, "blobs", "tmp", "put-fresh")
	os.WriteFile(fresh, []byte("in progress elsewhere"), 0o600)
	s.Close()

	s2 := openT(t, dir, Options{})
	<-s2.sweepDone
	if n, _ := s2.BlobCount(); n != 1 {
		t.Fatalf("%d blobs after sweep, want 1", n)
	}
	if ok, _ := s2.blobs.Has(blobstore.Sum(keep)); !ok {
		t.Fatal("referenced body removed")
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatal("stale temp file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("fresh temp file removed")
	}
}

// TestBodyRestoredUnderLock: if a collection removed the body between the
// Put and the metadata transaction, Append writes it again under the lock.
func TestBodyRestoredUnderLock(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	a, _ := newAcct(t, s)
	raw := []byte("Subject: race\r\n\r\nbody\r\n")
	h := blobstore.Sum(raw)
	var mid int64
	err := s.write(ctx, func(tx *Tx) error {
		var err error
		mid, err = s.messageRow(ctx, tx, a.user, newMessage{hash: h, raw: raw, header: raw[:17], parsed: []byte("{}")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if mid == 0 {
		t.Fatal("no message row")
	}
	body, err := a.OpenBody(ctx, store.MessageID(mid))
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got := make([]byte, body.Size())
	body.ReadAt(got, 0)
	if !bytes.Equal(got, raw) {
		t.Fatalf("body %q", got)
	}
}

// TestTwoProcesses: two engines on one directory (as `casier user` next to
// the server) serialise through SQLite's lock: no SQLITE_BUSY surfaces and
// UIDs stay unique.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	s1 := openT(t, dir, Options{NoSync: true})
	s2 := openT(t, dir, Options{NoSync: true, NoSweep: true})
	a1, in := newAcct(t, s1)
	acct2, err := s2.Account(ctx, a1.UserID())
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for k, a := range []store.Account{a1, acct2} {
		wg.Add(1)
		go func(k int, a store.Account) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				raw := fmt.Sprintf("Subject: p%d m%d\r\n\r\nx\r\n", k, i)
				if _, err := a.Append(ctx, in, store.AppendRequest{Body: strings.NewReader(raw), Size: -1}); err != nil {
					errs <- err
					return
				}
			}
		}(k, a)
	}
	// Meanwhile the second process manages users.
	for i := 0; i < 10; i++ {
		if _, err := s2.CreateUser(ctx, fmt.Sprintf("u%d", i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	es, err := a1.Entries(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2*n || es[len(es)-1].UID != 2*n {
		t.Fatalf("%d entries, last UID %d", len(es), es[len(es)-1].UID)
	}
	st, _ := a1.Status(ctx, in)
	if st.Messages != 2*n || st.UIDNext != 2*n+1 {
		t.Fatalf("status %+v", st)
	}
}

// TestQueryPlans guards the cost rules: Changes reads the modseq indexes,
// EXPUNGE the partial \Deleted index, Records and Entries the primary key,
// and the model lookup of Records finds each message by rowid.
func TestQueryPlans(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	for _, c := range []struct{ q, want string }{
		{`SELECT uid, flags, keywords, modseq FROM mailbox_messages INDEXED BY mailbox_messages_modseq WHERE mailbox_id = 1 AND modseq > 5 ORDER BY uid`, "mailbox_messages_modseq (mailbox_id=? AND modseq>?)"},
		{`SELECT uid FROM expunged INDEXED BY expunged_modseq WHERE mailbox_id = 1 AND modseq > 5 ORDER BY uid`, "expunged_modseq (mailbox_id=? AND modseq>?)"},
		{`SELECT uid FROM mailbox_messages INDEXED BY mailbox_messages_deleted WHERE mailbox_id = 1 AND flags & 2 <> 0 ORDER BY uid`, "mailbox_messages_deleted"},
		{entryQuery, "PRIMARY KEY (mailbox_id=? AND uid>? AND uid<?)"},
		{modelQuery, "SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)"},
		{`SELECT (flags << 32) | uid, modseq, keywords FROM mailbox_messages WHERE mailbox_id = 1 ORDER BY uid`, "PRIMARY KEY (mailbox_id=?)"},
		{`SELECT count(*) FROM messages WHERE blob = x'00'`, "sqlite_autoindex_messages_1 (blob=?)"},
		// Labels: the mirrors of folder entries, a label by keyword.
		{mirrorsQuery, "mirrors_src (src_mailbox_id=? AND src_uid>? AND src_uid<?)\nSEARCH mm USING PRIMARY KEY (mailbox_id=? AND uid=?)"},
		{strings.ReplaceAll(labelQuery, "label = ?", "label = 'x'"), "mailboxes_label (user_id=? AND label=?)"},
		{relinkQuery, "mirrors_src (src_mailbox_id=? AND src_uid=?)"},
		// The thread lookup of the insert trigger (threadsTriggerMigration):
		// by primary key, not a walk of the user's thread_keys.
		{`SELECT min(k.thread_id) FROM thread_keys k WHERE k.user_id = 1
			AND k.msgid IN (SELECT value FROM json_each(casier_thread_keys(x'')))`, "k USING PRIMARY KEY (user_id=? AND msgid=?)"},
	} {
		q := strings.ReplaceAll(c.q, "?", "1")
		rows, err := s.rdb.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "\n"), c.want) {
			t.Errorf("plan for %q:\n%s\nwant %q", c.q, strings.Join(plan, "\n"), c.want)
		}
	}
}

func TestSpans(t *testing.T) {
	u, sp := spans([]uint32{9, 0, 1, 2, 3, 3, 7, 30, 31, 100}, 4)
	if fmt.Sprint(u) != "[1 2 3 7 9 30 31 100]" {
		t.Fatalf("uids %v", u)
	}
	if fmt.Sprint(sp) != "[{1 9} {30 31} {100 100}]" {
		t.Fatalf("spans %v", sp)
	}
	w := wanted{u: u}
	var got []uint32
	for x := uint32(1); x <= 100; x++ {
		if w.has(x) {
			got = append(got, x)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(u) {
		t.Fatalf("wanted walk %v", got)
	}
}

func TestNormName(t *testing.T) {
	for in, want := range map[string]string{
		"inbox": "INBOX", "InBox/a": "INBOX/a", "INBOXES": "INBOXES", "inboxes/x": "inboxes/x", "a/inbox": "a/inbox",
	} {
		got, err := normName(in)
		if err != nil || got != want {
			t.Errorf("normName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	bits, kws := parseFlags([]string{`\SEEN`, `\Recent`, `\Bogus`, "$a", "$A", "b(c", "", "ok", `\deleted`})
	if bits != bitSeen|bitDeleted || fmt.Sprint(kws) != "[$a ok]" {
		t.Fatalf("parseFlags = %b %v", bits, kws)
	}
	if l := flagList(bitSeen|bitAnswered, "zeta Alpha"); fmt.Sprint(l) != `[Alpha \Answered \Seen zeta]` {
		t.Fatalf("flagList = %v", l)
	}
}

// TestParseFallback: a message the parser rejects is still stored.
func TestParseFallback(t *testing.T) {
	raw := []byte("Subject: x\n\nbody\nmore")
	p := parse(raw)
	if p.Root == nil || p.Root.BodyStart < 0 || p.Root.BodyStart > int64(len(raw)) {
		t.Fatalf("parse = %+v", p.Root)
	}
}
