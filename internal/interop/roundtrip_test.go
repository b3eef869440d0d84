package interop

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// device is one machine syncing the account to a local Maildir.
type device interface {
	Name() string
	Maildir() string
	Sync(t *testing.T)
}

// twoDeviceRoundTrip syncs one account to two devices, changes things on
// every side (local new message and folder, local flag change, local
// deletion; flag change, new message and expunge on the server through a
// third connection) and checks after each round that the server and both
// devices hold exactly the same messages and flags, none duplicated or
// lost, and that a further round changes nothing. The sync programs know
// folders only: they see All Mail and the label folders (docs/labels.md)
// as ordinary folders, and a label given on the server, removed by
// deleting the message from a local label folder, or given by filing a
// new message there, reaches every side.
func twoDeviceRoundTrip(t *testing.T, s *server, dev1, dev2 device) {
	c := s.dial(t, "alice")
	if err := c.Create("Work/Sub", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	appendMessage(t, c, "INBOX", "a1@example.org", imap.FlagSeen)
	appendMessage(t, c, "INBOX", "a2@example.org", "$Label1")
	appendMessage(t, c, "INBOX", "a3@example.org", imap.FlagFlagged)
	appendMessage(t, c, "Work/Sub", "w1@example.org")

	check := func(round string, want mailState) {
		t.Helper()
		srv := serverState(t, c, true)
		if !equalStates(srv, want) {
			t.Fatalf("%s: server holds\n%swant\n%s", round, srv, want)
		}
		sys := serverState(t, c, false)
		for _, d := range []device{dev1, dev2} {
			if got := maildirState(t, d.Maildir()); !equalStates(got, sys) {
				t.Fatalf("%s: %s holds\n%sserver holds\n%s", round, d.Name(), got, sys)
			}
		}
	}

	dev1.Sync(t)
	dev2.Sync(t)
	check("first sync", mailState{
		"INBOX": {
			`<a1@example.org> \Seen`,
			`<a2@example.org> $Label1`,
			`<a3@example.org> \Flagged`,
		},
		"All Mail": {
			`<a1@example.org> \Seen`,
			`<a2@example.org> $Label1`,
			`<a3@example.org> \Flagged`,
			`<w1@example.org>`,
		},
		"Labels/$Label1": {`<a2@example.org> $Label1`},
		"Archive":        nil, "Drafts": nil, "Junk": nil, "Sent": nil, "Trash": nil,
		"Work": nil, "Work/Sub": {`<w1@example.org>`},
	})

	// Changes everywhere, none conflicting.
	inbox1 := filepath.Join(dev1.Maildir(), "INBOX")
	writeMaildirMessage(t, inbox1, "1000.1.dev1", "d1@dev1", "")
	writeMaildirMessage(t, filepath.Join(dev1.Maildir(), "Local"), "1000.2.dev1", "d2@dev1", "S")
	setMaildirFlags(t, inbox1, "a2@example.org", "FS")
	storeFlags(t, c, "INBOX", "a1@example.org", imap.StoreFlagsAdd, imap.FlagAnswered)
	appendMessage(t, c, "Work/Sub", "s1@example.org", imap.FlagDraft)
	expungeMessage(t, c, "INBOX", "a3@example.org")
	if err := os.Remove(findMaildirFile(t, filepath.Join(dev2.Maildir(), "Work", "Sub"), "w1@example.org")); err != nil {
		t.Fatal(err)
	}

	// dev1 pushes its changes, dev2 pushes its deletion and pulls all,
	// dev1 pulls dev2's deletion; the last round brings All Mail up to
	// date on dev2, where it may have been synced before the folders
	// whose changes it shows.
	syncRounds(t, dev1, dev2, dev1, dev2)
	second := mailState{
		"INBOX": {
			`<a1@example.org> \Answered \Seen`,
			`<a2@example.org> $Label1 \Flagged \Seen`, // the keyword survives the client's flag update
			`<d1@dev1>`,
		},
		"All Mail": {
			`<a1@example.org> \Answered \Seen`,
			`<a2@example.org> $Label1 \Flagged \Seen`,
			`<d1@dev1>`,
			`<d2@dev1> \Seen`,
			`<s1@example.org> \Draft`,
		},
		"Labels/$Label1": {`<a2@example.org> $Label1 \Flagged \Seen`},
		"Archive":        nil, "Drafts": nil, "Junk": nil, "Sent": nil, "Trash": nil,
		"Local": {`<d2@dev1> \Seen`},
		"Work":  nil, "Work/Sub": {`<s1@example.org> \Draft`},
	}
	check("second sync", second)

	// A third round on both devices must find nothing to do.
	syncRounds(t, dev2, dev1)
	check("third sync", second)

	// Labels through folders: the server labels a1 Work and both
	// devices get the new folder Labels/Work. Then dev1 removes a2's
	// label by deleting a2 from its local Labels/$Label1, and dev2 files
	// a new message into its local Labels/Work, which the server stores
	// in Archive with the label.
	storeFlags(t, c, "INBOX", "a1@example.org", imap.StoreFlagsAdd, "Work")
	syncRounds(t, dev1, dev2)
	labelled := cloneState(second)
	labelled["INBOX"][0] = `<a1@example.org> Work \Answered \Seen`
	labelled["All Mail"][0] = `<a1@example.org> Work \Answered \Seen`
	labelled["Labels/Work"] = []string{`<a1@example.org> Work \Answered \Seen`}
	check("labelled on the server", labelled)

	if err := os.Remove(findMaildirFile(t, filepath.Join(dev1.Maildir(), "Labels", "$Label1"), "a2@example.org")); err != nil {
		t.Fatal(err)
	}
	writeMaildirMessage(t, filepath.Join(dev2.Maildir(), "Labels", "Work"), "1000.3.dev2", "n1@dev2", "S")
	syncRounds(t, dev1, dev2, dev1, dev2)
	third := mailState{
		"INBOX": {
			`<a1@example.org> Work \Answered \Seen`,
			`<a2@example.org> \Flagged \Seen`, // unlabelled, still in INBOX, not \Deleted
			`<d1@dev1>`,
		},
		"All Mail": {
			`<a1@example.org> Work \Answered \Seen`,
			`<a2@example.org> \Flagged \Seen`,
			`<d1@dev1>`,
			`<d2@dev1> \Seen`,
			`<n1@dev2> Work \Seen`,
			`<s1@example.org> \Draft`,
		},
		"Labels/$Label1": nil,
		"Labels/Work": {
			`<a1@example.org> Work \Answered \Seen`,
			`<n1@dev2> Work \Seen`,
		},
		"Archive": {`<n1@dev2> Work \Seen`},
		"Drafts":  nil, "Junk": nil, "Sent": nil, "Trash": nil,
		"Local": {`<d2@dev1> \Seen`},
		"Work":  nil, "Work/Sub": {`<s1@example.org> \Draft`},
	}
	check("labels changed on the devices", third)
	syncRounds(t, dev2, dev1)
	check("labels, once more", third)
}

// syncRounds runs one sync on each device given, in order.
func syncRounds(t *testing.T, devs ...device) {
	t.Helper()
	for _, d := range devs {
		d.Sync(t)
	}
}

func cloneState(m mailState) mailState {
	out := mailState{}
	for n, e := range m {
		out[n] = append([]string(nil), e...)
	}
	return out
}
