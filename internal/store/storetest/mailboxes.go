package storetest

import (
	"testing"

	"github.com/casier/casier/internal/store"
)

func testUsers(t *testing.T, h Harness) {
	s := newStore(t, h)
	bob, err := s.CreateUser(ctx, "bob", "hash-b")
	if err != nil {
		t.Fatal(err)
	}
	alice, err := s.CreateUser(ctx, "alice", "hash-a")
	if err != nil {
		t.Fatal(err)
	}
	if bob.ID == alice.ID || bob.Name != "bob" || bob.PassHash != "hash-b" || bob.Created.IsZero() {
		t.Fatalf("CreateUser returned %+v, %+v", bob, alice)
	}
	_, err = s.CreateUser(ctx, "bob", "other")
	wantErr(t, err, store.ErrExists)

	u, err := s.User(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "User(bob)", u, bob)
	_, err = s.User(ctx, "carol")
	wantErr(t, err, store.ErrNotFound)

	us, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Users", us, []store.User{alice, bob})

	if err := s.SetPassword(ctx, "bob", "hash-b2"); err != nil {
		t.Fatal(err)
	}
	u, _ = s.User(ctx, "bob")
	eq(t, "PassHash after SetPassword", u.PassHash, "hash-b2")
	wantErr(t, s.SetPassword(ctx, "carol", "x"), store.ErrNotFound)

	a, err := s.Account(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "UserID", a.UserID(), bob.ID)
	_, err = s.Account(ctx, bob.ID+alice.ID+100)
	wantErr(t, err, store.ErrNotFound)
}

func testDefaultMailboxes(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	ms, err := a.Mailboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type nu struct {
		Name, Use string
		Sub       bool
	}
	var got []nu
	for _, m := range ms {
		got = append(got, nu{m.Name, m.SpecialUse, m.Subscribed})
		if m.UIDNext != 1 || m.UIDValidity == 0 || m.HighestModSeq == 0 {
			t.Fatalf("new mailbox %+v", m)
		}
	}
	// All Mail and the parent of the label folders come with every user
	// (docs/labels.md).
	eq(t, "default mailboxes", got, []nu{
		{"All Mail", `\All`, true},
		{"Archive", `\Archive`, true},
		{"Drafts", `\Drafts`, true},
		{"INBOX", "", true},
		{"Junk", `\Junk`, true},
		{"Labels", "", false},
		{"Sent", `\Sent`, true},
		{"Trash", `\Trash`, true},
	})
	for _, m := range ms {
		want := store.KindFolder
		switch m.Name {
		case "All Mail":
			want = store.KindAll
		case "Labels":
			want = store.KindLabelRoot
		}
		if m.Kind != want || m.Label != "" {
			t.Fatalf("%s: kind %d label %q, want kind %d", m.Name, m.Kind, m.Label, want)
		}
	}
	subs, err := a.Subscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "subscriptions", subs, []string{"All Mail", "Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"})
	st := status(t, a, mbox(t, a, "INBOX").ID)
	if st.Messages != 0 || st.Unseen != 0 || st.Deleted != 0 || st.Size != 0 || st.Recent != 0 || len(st.Keywords) != 0 {
		t.Fatalf("empty INBOX status %+v", st)
	}
}

func names(t *testing.T, a store.Account) []string {
	t.Helper()
	ms, err := a.Mailboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func testCreateMailbox(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	m := create(t, a, "Work/Projects/Casier")
	if m.Name != "Work/Projects/Casier" || m.UIDNext != 1 || m.Subscribed {
		t.Fatalf("created %+v", m)
	}
	eq(t, "names", names(t, a), []string{"All Mail", "Archive", "Drafts", "INBOX", "Junk", "Labels", "Sent", "Trash", "Work", "Work/Projects", "Work/Projects/Casier"})
	_, err := a.CreateMailbox(ctx, "Work/Projects", "")
	wantErr(t, err, store.ErrExists)
	_, err = a.CreateMailbox(ctx, "inbox", "")
	wantErr(t, err, store.ErrExists)

	// INBOX is case-insensitive, also as the first level of a path.
	k := create(t, a, "inbox/Kids")
	eq(t, "child of inbox", k.Name, "INBOX/Kids")
	eq(t, "Mailbox(iNbOx)", mbox(t, a, "iNbOx").Name, "INBOX")
	eq(t, "Mailbox(Inbox/Kids)", mbox(t, a, "Inbox/Kids").ID, k.ID)
	// Other names are case-sensitive.
	_, err = a.Mailbox(ctx, "work")
	wantErr(t, err, store.ErrNoMailbox)
	create(t, a, "work")

	u, err := a.CreateMailbox(ctx, "Starred", `\flagged`)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "special use", u.SpecialUse, `\Flagged`)
	// There is one All Mail (docs/labels.md).
	_, err = a.CreateMailbox(ctx, "Everything", `\all`)
	wantErr(t, err, store.ErrExists)
	_, err = a.CreateMailbox(ctx, "Odd", `\Bogus`)
	wantErr(t, err, store.ErrUseAttr)

	// Unicode names are kept as given (UTF-8).
	create(t, a, "Reçus/日本")
	eq(t, "utf-8", mbox(t, a, "Reçus/日本").Name, "Reçus/日本")
}

func testInvalidNames(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	for _, n := range []string{"", "/", "/a", "a/", "a//b", "a\x00b", "a\rb", "a\nb", "\xff\xfe"} {
		_, err := a.CreateMailbox(ctx, n, "")
		if err == nil {
			t.Fatalf("CreateMailbox(%q) succeeded", n)
		}
		wantErr(t, err, store.ErrInvalidName)
		_, err = a.Mailbox(ctx, n)
		wantErr(t, err, store.ErrNoMailbox)
	}
}

func testDeleteMailbox(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	wantErr(t, a.DeleteMailbox(ctx, "INBOX"), store.ErrInbox)
	wantErr(t, a.DeleteMailbox(ctx, "inbox"), store.ErrInbox)
	wantErr(t, a.DeleteMailbox(ctx, "Nope"), store.ErrNoMailbox)

	p := create(t, a, "P/C")
	appendN(t, a, p.ID, 0, 3)
	parent := mbox(t, a, "P")
	appendN(t, a, parent.ID, 10, 2)
	if err := a.Subscribe(ctx, "P/C", true); err != nil {
		t.Fatal(err)
	}
	wantErr(t, a.DeleteMailbox(ctx, "P"), store.ErrHasChildren)
	// A sibling whose name merely starts with the same characters is not
	// a child.
	create(t, a, "PQ")
	if err := a.DeleteMailbox(ctx, "P/C"); err != nil {
		t.Fatal(err)
	}
	_, err := a.Mailbox(ctx, "P/C")
	wantErr(t, err, store.ErrNoMailbox)
	_, err = a.Status(ctx, p.ID)
	wantErr(t, err, store.ErrNoMailbox)
	_, err = a.Entries(ctx, p.ID)
	wantErr(t, err, store.ErrNoMailbox)
	if err := a.DeleteMailbox(ctx, "P"); err != nil {
		t.Fatal(err)
	}
	// RFC 9051 6.3.9: subscriptions survive the mailbox.
	subs, _ := a.Subscriptions(ctx)
	eq(t, "subscriptions", subs, []string{"All Mail", "Archive", "Drafts", "INBOX", "Junk", "P/C", "Sent", "Trash"})
	eq(t, "names", names(t, a), []string{"All Mail", "Archive", "Drafts", "INBOX", "Junk", "Labels", "PQ", "Sent", "Trash"})
}

func testUIDValidityRecreate(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	m1 := create(t, a, "X")
	appendN(t, a, m1.ID, 0, 2)
	if err := a.DeleteMailbox(ctx, "X"); err != nil {
		t.Fatal(err)
	}
	m2 := create(t, a, "X")
	if m2.UIDValidity == m1.UIDValidity || m2.ID == m1.ID {
		t.Fatalf("recreated mailbox kept UIDVALIDITY %d / id %d", m2.UIDValidity, m2.ID)
	}
	if m2.UIDValidity < m1.UIDValidity {
		t.Fatalf("UIDVALIDITY went down: %d then %d", m1.UIDValidity, m2.UIDValidity)
	}
	eq(t, "UIDNext of recreated", m2.UIDNext, uint32(1))
	if len(entries(t, a, m2.ID)) != 0 {
		t.Fatal("recreated mailbox has messages")
	}
	ch, err := a.Changes(ctx, m2.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Expunged) != 0 || len(ch.Changed) != 0 {
		t.Fatalf("recreated mailbox inherited changes %+v", ch)
	}
}

func testRenameSubtree(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	c := create(t, a, "A/B/C")
	appendN(t, a, c.ID, 0, 2)
	ab := mbox(t, a, "A/B")
	aa := mbox(t, a, "A")
	create(t, a, "AB") // not part of the subtree
	if err := a.Subscribe(ctx, "A/B", true); err != nil {
		t.Fatal(err)
	}
	if err := a.RenameMailbox(ctx, "A", "Z/Y"); err != nil {
		t.Fatal(err)
	}
	eq(t, "names", names(t, a), []string{"AB", "All Mail", "Archive", "Drafts", "INBOX", "Junk", "Labels", "Sent", "Trash", "Z", "Z/Y", "Z/Y/B", "Z/Y/B/C"})
	for _, x := range []struct {
		old  store.Mailbox
		name string
	}{{aa, "Z/Y"}, {ab, "Z/Y/B"}, {c, "Z/Y/B/C"}} {
		m := mbox(t, a, x.name)
		if m.ID != x.old.ID || m.UIDValidity != x.old.UIDValidity {
			t.Fatalf("%s: id/uidvalidity %d/%d, want %d/%d", x.name, m.ID, m.UIDValidity, x.old.ID, x.old.UIDValidity)
		}
	}
	eq(t, "messages kept", uidsOf(entries(t, a, c.ID)), []uint32{1, 2})
	m := mbox(t, a, "Z/Y/B")
	if !m.Subscribed {
		t.Fatal("subscription did not follow the rename")
	}
	subs, _ := a.Subscriptions(ctx)
	eq(t, "subscriptions", subs, []string{"All Mail", "Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash", "Z/Y/B"})
	_, err := a.Mailbox(ctx, "A/B/C")
	wantErr(t, err, store.ErrNoMailbox)
}

func testRenameErrors(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	create(t, a, "A/X")
	create(t, a, "B/X")
	create(t, a, "C")
	wantErr(t, a.RenameMailbox(ctx, "Nope", "D"), store.ErrNoMailbox)
	wantErr(t, a.RenameMailbox(ctx, "C", "A"), store.ErrExists)
	wantErr(t, a.RenameMailbox(ctx, "C", "INBOX"), store.ErrExists)
	wantErr(t, a.RenameMailbox(ctx, "C", "inbox"), store.ErrExists)
	wantErr(t, a.RenameMailbox(ctx, "C", "C"), store.ErrExists)
	wantErr(t, a.RenameMailbox(ctx, "A", "A/Sub"), store.ErrInvalidName)
	wantErr(t, a.RenameMailbox(ctx, "C", "bad//name"), store.ErrInvalidName)
	// The whole target name must be free; since parents always exist
	// (no \Noselect placeholders), a free target has free descendants.
	wantErr(t, a.RenameMailbox(ctx, "A", "B"), store.ErrExists)
	create(t, a, "F/X")
	if err := a.RenameMailbox(ctx, "F", "G"); err != nil {
		t.Fatal(err)
	}
	eq(t, "names", names(t, a), []string{"A", "A/X", "All Mail", "Archive", "B", "B/X", "C", "Drafts", "G", "G/X", "INBOX", "Junk", "Labels", "Sent", "Trash"})
}

func testRenameInbox(t *testing.T, h Harness) {
	_, a := newAccount(t, h)
	inbox := mbox(t, a, "INBOX")
	kid := create(t, a, "INBOX/Kid")
	r := appendN(t, a, inbox.ID, 0, 3)
	setFlags(t, a, inbox.ID, store.FlagsAdd, []string{store.FlagSeen, "$Work"}, 2)
	before := status(t, a, inbox.ID)

	if err := a.RenameMailbox(ctx, "inbox", "Old/Mail"); err != nil {
		t.Fatal(err)
	}
	old := mbox(t, a, "Old/Mail")
	if old.UIDValidity == inbox.UIDValidity {
		t.Fatal("new mailbox reuses INBOX's UIDVALIDITY")
	}
	recs, err := a.Records(ctx, old.ID, []uint32{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("moved %d messages, want 3", len(recs))
	}
	for i, rec := range recs {
		if rec.UID != uint32(i+1) || rec.MessageID != r[i].MessageID {
			t.Fatalf("record %d: uid %d mid %d", i, rec.UID, rec.MessageID)
		}
	}
	eq(t, "flags kept", recs[1].Flags, []string{"$Work", store.FlagSeen})

	st := checkCounters(t, a, inbox.ID)
	if st.Messages != 0 || st.UIDNext != before.UIDNext || st.UIDValidity != inbox.UIDValidity {
		t.Fatalf("INBOX after rename: %+v", st)
	}
	ch, err := a.Changes(ctx, inbox.ID, before.HighestModSeq)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "INBOX expunged", ch.Expunged, []uint32{1, 2, 3})
	eq(t, "INBOX kid stays", mbox(t, a, "INBOX/Kid").ID, kid.ID)
	st = checkCounters(t, a, old.ID)
	if st.Messages != 3 || st.Unseen != 2 {
		t.Fatalf("Old/Mail status %+v", st)
	}
	if _, err := a.Mailbox(ctx, "Old"); err != nil {
		t.Fatal("parent of the new name not created:", err)
	}
	wantErr(t, a.RenameMailbox(ctx, "INBOX", "Old/Mail"), store.ErrExists)
}

func testSubscriptions(t *testing.T, h Harness) {
	s, a := newAccount(t, h)
	sub := s.Hub().Subscribe(a.UserID())
	defer sub.Close()
	if err := a.Subscribe(ctx, "Ghost/Town", true); err != nil {
		t.Fatal(err)
	}
	if err := a.Subscribe(ctx, "Ghost/Town", true); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := a.Subscribe(ctx, "Sent", false); err != nil {
		t.Fatal(err)
	}
	if err := a.Subscribe(ctx, "Never", false); err != nil {
		t.Fatal(err)
	}
	if err := a.Subscribe(ctx, "inbox", false); err != nil {
		t.Fatal(err)
	}
	subs, err := a.Subscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "subscriptions", subs, []string{"All Mail", "Archive", "Drafts", "Ghost/Town", "Junk", "Trash"})
	if mbox(t, a, "Sent").Subscribed {
		t.Fatal("Sent still subscribed")
	}
	got := sub.Take()
	if len(got) == 0 || got[0].Kind != store.ChangeSubscription || got[0].User != a.UserID() {
		t.Fatalf("hub got %+v", got)
	}
	wantErr(t, a.Subscribe(ctx, "a//b", true), store.ErrInvalidName)
}
