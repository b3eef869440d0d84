package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/casier/casier/internal/store"
)

// checkMirrors verifies, from the tables, the invariants of labels.go for
// every user: each entry of a folder other than Trash and Junk has a
// mirror in All Mail and in the label folder of each of its keywords that
// is a label (and no other), entries of Trash and Junk have none, each
// mirror shows its entry's message and flags, and the counters and
// keyword index of every mailbox match its rows.
func checkMirrors(t *testing.T, s *Store, when string) {
	t.Helper()
	db := s.rdb
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: "+format, append([]any{when}, args...)...)
	}
	type box struct {
		id                        store.MailboxID
		user                      store.UserID
		name, use, label          string
		kind                      store.MailboxKind
		uidnext, firstRecent      uint32
		messages, unseen, deleted int
		recent                    int
		size                      int64
	}
	rows, err := db.Query(`SELECT id, user_id, name, special_use, label, kind, uidnext, first_recent_uid, messages, unseen, deleted, recent, size FROM mailboxes ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var boxes []box
	for rows.Next() {
		var b box
		if err := rows.Scan(&b.id, &b.user, &b.name, &b.use, &b.label, &b.kind, &b.uidnext, &b.firstRecent, &b.messages, &b.unseen, &b.deleted, &b.recent, &b.size); err != nil {
			t.Fatal(err)
		}
		boxes = append(boxes, b)
	}
	rows.Close()
	type entry struct {
		box         store.MailboxID
		uid         uint32
		mid         int64
		bits        int
		kws         string
		size, idate int64
	}
	entriesOf := func(id store.MailboxID) []entry {
		rows, err := db.Query(`SELECT uid, message_id, flags, keywords, size, internal_date FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid`, id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []entry
		for rows.Next() {
			e := entry{box: id}
			if err := rows.Scan(&e.uid, &e.mid, &e.bits, &e.kws, &e.size, &e.idate); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}
	type key struct {
		box store.MailboxID
		uid uint32
	}
	all := map[key]entry{}
	for _, b := range boxes {
		es := entriesOf(b.id)
		var unseen, deleted, recent int
		var size int64
		idx := 0
		for _, e := range es {
			all[key{b.id, e.uid}] = e
			unseen += b2i(e.bits&bitSeen == 0)
			deleted += b2i(e.bits&bitDeleted != 0)
			recent += b2i(e.uid >= b.firstRecent)
			size += e.size
			for _, k := range splitKeywords(e.kws) {
				idx++
				var n int
				db.QueryRow(`SELECT count(*) FROM message_keywords WHERE mailbox_id = ? AND keyword = ? AND uid = ?`, b.id, fold(k), e.uid).Scan(&n)
				if n != 1 {
					fail("%s uid %d: keyword %s not indexed", b.name, e.uid, k)
				}
			}
			if e.uid >= b.uidnext {
				fail("%s: uid %d >= uidnext %d", b.name, e.uid, b.uidnext)
			}
		}
		var nidx int
		db.QueryRow(`SELECT count(*) FROM message_keywords WHERE mailbox_id = ?`, b.id).Scan(&nidx)
		if nidx != idx {
			fail("%s: %d keyword index rows, want %d", b.name, nidx, idx)
		}
		if b.messages != len(es) || b.unseen != unseen || b.deleted != deleted || b.recent != recent || b.size != size {
			fail("%s counters %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d", b.name, b.messages, b.unseen, b.deleted, b.recent, b.size,
				len(es), unseen, deleted, recent, size)
		}
		if b.kind == store.KindLabelRoot && len(es) > 0 {
			fail("label root %s holds messages", b.name)
		}
	}
	// The mirrors, by folder entry.
	mrows, err := db.Query(`SELECT mailbox_id, uid, src_mailbox_id, src_uid FROM mirrors`)
	if err != nil {
		t.Fatal(err)
	}
	have := map[key][]store.MailboxID{}
	shown := map[key]bool{}
	for mrows.Next() {
		var v, src key
		if err := mrows.Scan(&v.box, &v.uid, &src.box, &src.uid); err != nil {
			t.Fatal(err)
		}
		ve, ok := all[v]
		if !ok {
			fail("mirror %v has no row", v)
		}
		se, ok := all[src]
		if !ok {
			fail("mirror %v shows missing entry %v", v, src)
		}
		if ve.mid != se.mid || ve.bits != se.bits || !sameKeywords(splitKeywords(ve.kws), splitKeywords(se.kws)) || ve.size != se.size || ve.idate != se.idate {
			fail("mirror %v = %+v, entry %v = %+v", v, ve, src, se)
		}
		have[src] = append(have[src], v.box)
		shown[v] = true
	}
	mrows.Close()
	byID := map[store.MailboxID]box{}
	for _, b := range boxes {
		byID[b.id] = b
	}
	for k := range all {
		b := byID[k.box]
		if (b.kind == store.KindAll || b.kind == store.KindLabel) && !shown[k] {
			fail("%s uid %d shows nothing", b.name, k.uid)
		}
	}
	for _, b := range boxes {
		if b.kind != store.KindFolder {
			continue
		}
		var want []store.MailboxID
		var allMail store.MailboxID
		labels := map[string]store.MailboxID{}
		names := map[string]bool{}
		for _, o := range boxes {
			if o.user != b.user {
				continue
			}
			names[o.name] = true
			switch o.kind {
			case store.KindAll:
				allMail = o.id
			case store.KindLabel:
				if o.label != fold(labelOf(o.name)) || o.name != s.labels.labelName(labelOf(o.name)) {
					fail("label folder %s has label %q", o.name, o.label)
				}
				labels[o.label] = o.id
			}
		}
		for _, e := range entriesOf(b.id) {
			want = want[:0]
			if b.use != `\Trash` && b.use != `\Junk` {
				if allMail != 0 {
					want = append(want, allMail)
				}
				for _, k := range splitKeywords(e.kws) {
					if !s.labels.isLabel(k) {
						continue
					}
					id := labels[fold(k)]
					if id == 0 {
						if !names[s.labels.labelName(k)] {
							fail("%s uid %d: keyword %s has no label folder", b.name, e.uid, k)
						}
						continue
					}
					want = append(want, id)
				}
			}
			got := slices.Clone(have[key{b.id, e.uid}])
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				fail("%s uid %d (%q): mirrors in %v, want %v", b.name, e.uid, e.kws, got, want)
			}
		}
	}
}

func acctOf(t *testing.T, s *Store, name string) *Account {
	t.Helper()
	u, err := s.User(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Account(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a.(*Account)
}

func mboxT(t *testing.T, a store.Account, name string) store.Mailbox {
	t.Helper()
	m, err := a.Mailbox(ctx, name)
	if err != nil {
		t.Fatalf("Mailbox(%q): %v", name, err)
	}
	return m
}

// TestLabelsRandom drives random operations through folders, label
// folders and All Mail and checks the mirror invariants after each, and
// that the cached entry lists of the virtual mailboxes agree with an
// uncached read (their modseqs and tombstones are right).
func TestLabelsRandom(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{NoSync: true})
	plain := openT(t, dir, Options{NoSync: true, CacheSize: -1})
	a, _ := newAcct(t, s)
	pa, _ := plain.Account(ctx, a.user)
	for _, n := range []string{"Labels/Work", "Labels/Travel", "Projects"} {
		if _, err := a.CreateMailbox(ctx, n, ""); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	kws := []string{"Work", "travel", "$Forwarded", "Home", "$Label", store.FlagSeen, store.FlagDeleted, store.FlagFlagged}
	for step := 0; step < 400; step++ {
		ms, err := a.Mailboxes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var sel []store.Mailbox
		for _, m := range ms {
			if m.Selectable() {
				sel = append(sel, m)
			}
		}
		src := sel[rng.IntN(len(sel))]
		dst := sel[rng.IntN(len(sel))]
		es, err := a.Entries(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		var uids []uint32
		for _, e := range es {
			if rng.IntN(3) == 0 {
				uids = append(uids, e.UID)
			}
		}
		flags := []string{kws[rng.IntN(len(kws))], kws[rng.IntN(len(kws))]}
		var what string
		switch rng.IntN(10) {
		case 0, 1:
			what = "append to " + src.Name
			raw := fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", step, rng.IntN(50))
			_, err = a.Append(ctx, src.ID, store.AppendRequest{Body: strings.NewReader(raw), Size: int64(len(raw)), Flags: flags[:rng.IntN(3)]})
		case 2, 3:
			what = fmt.Sprintf("store %v in %s", flags, src.Name)
			mode := []store.FlagMode{store.FlagsAdd, store.FlagsRemove, store.FlagsReplace}[rng.IntN(3)]
			_, err = a.StoreFlags(ctx, src.ID, store.StoreRequest{UIDs: uids, Mode: mode, Flags: flags})
		case 4:
			what = "expunge " + src.Name
			_, err = a.Expunge(ctx, src.ID, nil)
		case 5, 6:
			what = fmt.Sprintf("copy %v %s -> %s", uids, src.Name, dst.Name)
			_, err = a.Copy(ctx, src.ID, uids, dst.ID)
		case 7, 8:
			what = fmt.Sprintf("move %v %s -> %s", uids, src.Name, dst.Name)
			_, err = a.Move(ctx, src.ID, uids, dst.ID)
		case 9:
			switch rng.IntN(4) {
			case 0:
				what = "rename label"
				from, to := "Labels/Home", "Labels/House"
				if rng.IntN(2) == 0 {
					from, to = to, from
				}
				err = a.RenameMailbox(ctx, from, to)
			case 1:
				what = "delete label"
				err = a.DeleteMailbox(ctx, []string{"Labels/Home", "Labels/House", "Labels/Travel"}[rng.IntN(3)])
			case 2:
				what = "replace in " + src.Name
				if len(es) > 0 {
					raw := fmt.Sprintf("Subject: r%d\r\n\r\nnew\r\n", step)
					_, err = a.Replace(ctx, src.ID, es[0].UID, dst.ID, store.AppendRequest{Body: strings.NewReader(raw), Size: int64(len(raw))})
				}
			case 3:
				what = "create label"
				_, err = a.CreateMailbox(ctx, "Labels/House", "")
			}
		}
		if err != nil && !errors.Is(err, store.ErrNoMailbox) && !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("step %d (%s): %v", step, what, err)
		}
		when := fmt.Sprintf("step %d (%s)", step, what)
		checkMirrors(t, s, when)
		for _, m := range sel {
			got, err1 := a.Entries(ctx, m.ID)
			want, err2 := pa.Entries(ctx, m.ID)
			if err1 == nil && err2 == nil && fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: %s cached entries\n%v\nwant\n%v", when, m.Name, got, want)
			}
		}
	}
}

// olderSchema turns a current database into one at schema version 4, as
// an older Casier left it: no virtual mailboxes, no mirrors, no kind or
// label columns.
func olderSchema(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dir+"/casier.db?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DELETE FROM mailboxes WHERE kind <> 0`,
		`DROP TABLE mirrors`,
		`DROP INDEX mailboxes_label`,
		`ALTER TABLE mailboxes DROP COLUMN kind`,
		`ALTER TABLE mailboxes DROP COLUMN label`,
		`DELETE FROM meta WHERE key IN ('labels_config', 'labels_backfill')`,
		`DELETE FROM subscriptions WHERE name = 'All Mail'`,
		`UPDATE schema_version SET version = 4`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestLabelsMigration opens a database of schema version 4 holding mail:
// migration 5 and the backfill give every user All Mail, the label root
// and label folders, with the mirrors of all the mail.
func TestLabelsMigration(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{NoSync: true})
	a, in := newAcct(t, s)
	for i, f := range [][]string{{"Work"}, {"work", store.FlagSeen}, {"$Forwarded"}, {"Travel", "Home"}, nil} {
		appendT(t, a, in, fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i))
		if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: []uint32{uint32(i + 1)}, Mode: store.FlagsReplace, Flags: f}); err != nil {
			t.Fatal(err)
		}
	}
	trash := mboxT(t, a, "Trash")
	appendT(t, a, trash.ID, "Subject: gone\r\n\r\ngone\r\n")
	if _, err := a.StoreFlags(ctx, trash.ID, store.StoreRequest{UIDs: []uint32{1}, Mode: store.FlagsAdd, Flags: []string{"Secret"}}); err != nil {
		t.Fatal(err)
	}
	// Bob has folders with the names the migration would use.
	ub, _ := s.CreateUser(ctx, "bob", "x")
	ab, _ := s.Account(ctx, ub.ID)
	bin := mboxT(t, ab, "INBOX")
	appendT(t, ab.(*Account), bin.ID, "Subject: b\r\n\r\nb\r\n")
	if _, err := ab.StoreFlags(ctx, bin.ID, store.StoreRequest{UIDs: []uint32{1}, Mode: store.FlagsAdd, Flags: []string{"Work", "Old"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	olderSchema(t, dir)
	db, _ := sql.Open("sqlite", "file:"+dir+"/casier.db")
	for _, n := range []string{"All Mail", "Labels", "Labels/Old"} {
		if _, err := db.Exec(`INSERT INTO mailboxes (user_id, name, uidvalidity, highestmodseq) VALUES (?, ?, 1, 1)`, ub.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s = openT(t, dir, Options{NoSync: true})
	checkMirrors(t, s, "after migration")
	a = acctOf(t, s, "alice")
	all := mboxT(t, a, "All Mail")
	if all.Kind != store.KindAll || !all.Subscribed {
		t.Fatalf("All Mail %+v", all)
	}
	if m := mboxT(t, a, "Labels"); m.Kind != store.KindLabelRoot {
		t.Fatalf("Labels %+v", m)
	}
	es, _ := a.Entries(ctx, all.ID)
	if len(es) != 5 {
		t.Fatalf("All Mail has %d messages, want 5", len(es))
	}
	w := mboxT(t, a, "Labels/Work")
	wes, _ := a.Entries(ctx, w.ID)
	if len(wes) != 2 || w.Label != "Work" {
		t.Fatalf("Labels/Work %+v: %v", w, wes)
	}
	for _, n := range []string{"Labels/Travel", "Labels/Home"} {
		mboxT(t, a, n)
	}
	for _, n := range []string{"Labels/$Forwarded", "Labels/Secret", "Labels/work"} {
		if _, err := a.Mailbox(ctx, n); !errors.Is(err, store.ErrNoMailbox) {
			t.Fatalf("%s: %v", n, err)
		}
	}
	// Bob's folders keep their names and kinds: his labels go under his
	// Labels folder, except Old, whose name is his folder's.
	b := acctOf(t, s, "bob")
	for _, n := range []string{"All Mail", "Labels", "Labels/Old"} {
		if m := mboxT(t, b, n); m.Kind != store.KindFolder {
			t.Fatalf("bob's %s: %+v", n, m)
		}
	}
	if m := mboxT(t, b, "Labels/Work"); m.Kind != store.KindLabel {
		t.Fatalf("bob's Labels/Work: %+v", m)
	}
	// Reopening runs nothing again.
	hm, _ := a.Status(ctx, all.ID)
	s.Close()
	s = openT(t, dir, Options{NoSync: true})
	a = acctOf(t, s, "alice")
	if st, _ := a.Status(ctx, all.ID); st.HighestModSeq != hm.HighestModSeq || st.Messages != 5 {
		t.Fatalf("All Mail after reopening %+v, was %+v", st, hm)
	}
}

// TestLabelSettingsChange reopens a store with another prefix and other
// excluded keywords: the label folders follow, keeping their UIDs.
func TestLabelSettingsChange(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{NoSync: true})
	a, in := newAcct(t, s)
	appendT(t, a, in, "Subject: 1\r\n\r\none\r\n")
	appendT(t, a, in, "Subject: 2\r\n\r\ntwo\r\n")
	if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: []uint32{1, 2}, Mode: store.FlagsAdd, Flags: []string{"Work", "$Forwarded"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Subscribe(ctx, "Labels/Work", true); err != nil {
		t.Fatal(err)
	}
	w := mboxT(t, a, "Labels/Work")
	s.Close()

	s = openT(t, dir, Options{NoSync: true, LabelPrefix: "Tags/Mine"})
	a = acctOf(t, s, "alice")
	checkMirrors(t, s, "after prefix change")
	tw := mboxT(t, a, "Tags/Mine/Work")
	if tw.ID != w.ID || tw.UIDValidity != w.UIDValidity || !tw.Subscribed || tw.Label != "Work" {
		t.Fatalf("Tags/Mine/Work %+v, was %+v", tw, w)
	}
	if m := mboxT(t, a, "Tags/Mine"); m.Kind != store.KindLabelRoot {
		t.Fatalf("root %+v", m)
	}
	if m := mboxT(t, a, "Tags"); m.Kind != store.KindFolder {
		t.Fatalf("parent of the root %+v", m)
	}
	for _, n := range []string{"Labels", "Labels/Work"} {
		if _, err := a.Mailbox(ctx, n); !errors.Is(err, store.ErrNoMailbox) {
			t.Fatalf("%s: %v", n, err)
		}
	}
	if es, _ := a.Entries(ctx, tw.ID); len(es) != 2 {
		t.Fatalf("Tags/Mine/Work: %v", es)
	}
	if _, err := a.CreateMailbox(ctx, "Tags/Mine/Todo", ""); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Every keyword a label: $Forwarded gets a folder. Work excluded:
	// its folder goes.
	s = openT(t, dir, Options{NoSync: true, LabelPrefix: "Tags/Mine", LabelExclude: []string{"work"}})
	a = acctOf(t, s, "alice")
	checkMirrors(t, s, "after exclusion change")
	if es, _ := a.Entries(ctx, mboxT(t, a, "Tags/Mine/$Forwarded").ID); len(es) != 2 {
		t.Fatalf("Tags/Mine/$Forwarded: %v", es)
	}
	if _, err := a.Mailbox(ctx, "Tags/Mine/Work"); !errors.Is(err, store.ErrNoMailbox) {
		t.Fatalf("excluded label kept: %v", err)
	}
	if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: []uint32{1}, Mode: store.FlagsAdd, Flags: []string{"WORK", "New"}}); err != nil {
		t.Fatal(err)
	}
	mboxT(t, a, "Tags/Mine/New")
	if _, err := a.Mailbox(ctx, "Tags/Mine/WORK"); !errors.Is(err, store.ErrNoMailbox) {
		t.Fatalf("excluded keyword got a folder: %v", err)
	}
	checkMirrors(t, s, "after store")
	s.Close()

	for _, p := range []string{"INBOX/Labels", "inbox", "a//b", "/x"} {
		if s, err := Open(dir, Options{NoSync: true, LabelPrefix: p}); err == nil {
			s.Close()
			t.Fatalf("prefix %q accepted", p)
		}
	}
}

// BenchmarkStoreFlagsAll10k sets and clears \Flagged on every message of
// the 10k mailbox (STORE 1:* +FLAGS): one durable commit that changes
// 10,000 entries, and with labels their 10,000 mirrors in All Mail.
func BenchmarkStoreFlagsAll10k(b *testing.B) {
	a, in := benchMailbox(b)
	uids := make([]uint32, benchSize)
	for i := range uids {
		uids[i] = uint32(i + 1)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mode := store.FlagsAdd
		if i%2 == 1 {
			mode = store.FlagsRemove
		}
		if _, err := a.StoreFlags(ctx, in, store.StoreRequest{UIDs: uids, Mode: mode, Flags: []string{store.FlagFlagged}}); err != nil {
			b.Fatal(err)
		}
	}
}
