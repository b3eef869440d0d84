package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

// runIn runs a command line in this process (faster than the binary).
func runIn(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// withAccount opens the store of dir and the account of user (created if
// missing) for fn.
func withAccount(t *testing.T, dir, user string, fn func(store.Account)) {
	t.Helper()
	st, err := sqlite.Open(dir, sqlite.Options{NoSweep: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	u, err := st.User(ctx, user)
	if err != nil {
		if u, err = st.CreateUser(ctx, user, "x"); err != nil {
			t.Fatal(err)
		}
	}
	acct, err := st.Account(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	fn(acct)
}

// msgState is what import and export must keep of a message.
type msgState struct {
	Flags []string
	Date  int64
	Body  string
}

// dump returns the user's folders and their messages in UID order. All
// Mail and the label folders are left out: their UIDs follow the order
// in which messages reached any folder (labelView compares them).
func dump(t *testing.T, dir, user string) map[string][]msgState {
	t.Helper()
	out := map[string][]msgState{}
	withAccount(t, dir, user, func(acct store.Account) {
		ctx := context.Background()
		mbs, err := acct.Mailboxes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, mb := range mbs {
			if mb.Kind != store.KindFolder {
				continue
			}
			ents, err := acct.Entries(ctx, mb.ID)
			if err != nil {
				t.Fatal(err)
			}
			uids := []uint32{}
			for _, e := range ents {
				uids = append(uids, e.UID)
			}
			recs, err := acct.Records(ctx, mb.ID, uids)
			if err != nil {
				t.Fatal(err)
			}
			msgs := []msgState{}
			for _, r := range recs {
				b, err := acct.OpenBody(ctx, r.MessageID)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
				b.Close()
				flags := r.Flags
				if len(flags) == 0 {
					flags = nil
				}
				msgs = append(msgs, msgState{flags, r.InternalDate.Unix(), string(body)})
			}
			out[mb.Name] = msgs
		}
	})
	return out
}

func append1(t *testing.T, acct store.Account, name, body string, date time.Time, flags ...string) {
	t.Helper()
	ctx := context.Background()
	mb, err := acct.Mailbox(ctx, name)
	if err != nil {
		if mb, err = acct.CreateMailbox(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := acct.Append(ctx, mb.ID, store.AppendRequest{Body: strings.NewReader(body), Size: -1, Flags: flags, InternalDate: date}); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

var defaultFolders = []string{"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"}

func TestImportMbox(t *testing.T) {
	data := t.TempDir()
	withAccount(t, data, "alice", func(store.Account) {})
	src := filepath.Join(t.TempDir(), "old.mbox")
	writeFile(t, src, "From a@example.org Thu Jan  4 10:20:30 2024\nSubject: one\nStatus: RO\n\n>From here\n\n"+
		"From b Fri Jan  5 10:20:30 2024\r\nSubject: two\r\n\r\nbody\r\n\r\n")
	out, errOut, code := runIn(t, "import", "--data", data, "alice", src)
	if code != 0 || errOut != "" || out != "2 messages imported, 0 already present, 0 too big; 1 folders (0 created)\n" {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	got := dump(t, data, "alice")["INBOX"]
	want := []msgState{
		{[]string{`\Seen`}, time.Date(2024, 1, 4, 10, 20, 30, 0, time.UTC).Unix(), "Subject: one\r\nStatus: RO\r\n\r\nFrom here\r\n"},
		{nil, time.Date(2024, 1, 5, 10, 20, 30, 0, time.UTC).Unix(), "Subject: two\r\n\r\nbody\r\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("INBOX:\n got %v\nwant %v", got, want)
	}
	// --folder puts it elsewhere (created, subscribed); INBOX unchanged.
	out, errOut, code = runIn(t, "import", "alice", src, "--data", data, "--folder", "Old/2024")
	if code != 0 || errOut != "" || out != "2 messages imported, 0 already present, 0 too big; 1 folders (1 created)\n" {
		t.Fatalf("import --folder: %d %q %q", code, out, errOut)
	}
	d := dump(t, data, "alice")
	if !reflect.DeepEqual(d["Old/2024"], want) || len(d["INBOX"]) != 2 {
		t.Errorf("after --folder: %v", d)
	}
	withAccount(t, data, "alice", func(acct store.Account) {
		subs, _ := acct.Subscriptions(context.Background())
		if !strings.Contains(strings.Join(subs, ","), "Old/2024") {
			t.Errorf("subscriptions %q", subs)
		}
	})
}

func TestImportMaildirPlusPlus(t *testing.T) {
	data := t.TempDir()
	withAccount(t, data, "alice", func(store.Account) {})
	src := t.TempDir()
	for _, d := range []string{"", ".Work", ".Work.R&AOk-sum&AOk-", ".Sent"} {
		for _, s := range []string{"cur", "new", "tmp"} {
			os.MkdirAll(filepath.Join(src, d, s), 0o755)
		}
	}
	writeFile(t, filepath.Join(src, "cur", "1700000001.M1.h,S=5:2,RS"), "a\nb\n")
	writeFile(t, filepath.Join(src, "new", "1700000002.M2.h"), "new\n")
	writeFile(t, filepath.Join(src, ".Work.R&AOk-sum&AOk-", "dovecot-keywords"), "0 $Forwarded\n2 Project\n")
	writeFile(t, filepath.Join(src, ".Work.R&AOk-sum&AOk-", "cur", "1600000000.M3.h:2,FTac"), "cv\r\n")
	writeFile(t, filepath.Join(src, ".Sent", "cur", "1500000000.M4.h:2,DP"), "draft\n")

	out, errOut, code := runIn(t, "import", "--data", data, "alice", src)
	if code != 0 || errOut != "" || out != "4 messages imported, 0 already present, 0 too big; 4 folders (2 created)\n" {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	d := dump(t, data, "alice")
	want := map[string][]msgState{
		"INBOX":       {{[]string{`\Answered`, `\Seen`}, 1700000001, "a\r\nb\r\n"}, {nil, 1700000002, "new\r\n"}},
		"Work":        {},
		"Work/Résumé": {{[]string{"$Forwarded", "Project", `\Deleted`, `\Flagged`}, 1600000000, "cv\r\n"}},
		"Sent":        {{[]string{`\Draft`}, 1500000000, "draft\r\n"}},
		"Archive":     {}, "Drafts": {}, "Junk": {}, "Trash": {},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("state:\n got %v\nwant %v", d, want)
	}
}

// TestImportResume: an import interrupted half way (a "crash" after the
// first half was committed) and run again stores every message once;
// identical messages of the source are both kept.
func TestImportResume(t *testing.T) {
	data := t.TempDir()
	withAccount(t, data, "alice", func(store.Account) {})
	var full, half strings.Builder
	const n = 1200 // more than two batches
	for i := 0; i < n; i++ {
		m := fmt.Sprintf("From x Thu Jan  4 10:20:30 2024\nSubject: %d\n\nbody %d\n\n", i%1000, i%1000)
		full.WriteString(m)
		if i < n/2 {
			half.WriteString(m)
		}
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "half", "INBOX.mbox"), half.String())
	writeFile(t, filepath.Join(dir, "full", "INBOX.mbox"), full.String())
	if _, errOut, code := runIn(t, "import", "--data", data, "alice", filepath.Join(dir, "half")); code != 0 {
		t.Fatal(errOut)
	}
	// Subjects 0-199 appear twice: both copies are kept.
	out, _, _ := runIn(t, "import", "--data", data, "alice", filepath.Join(dir, "full"))
	if out != "600 messages imported, 600 already present, 0 too big; 1 folders (0 created)\n" {
		t.Errorf("resumed run: %q", out)
	}
	out, _, _ = runIn(t, "import", "--data", data, "alice", filepath.Join(dir, "full"))
	if out != "0 messages imported, 1200 already present, 0 too big; 1 folders (0 created)\n" {
		t.Errorf("third run: %q", out)
	}
	inbox := dump(t, data, "alice")["INBOX"]
	if len(inbox) != n {
		t.Fatalf("INBOX has %d messages, want %d", len(inbox), n)
	}
	for i, m := range inbox {
		if want := fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i%1000, i%1000); m.Body != want {
			t.Fatalf("message %d: %q, want %q", i+1, m.Body, want)
		}
	}
}

// TestExportImportRoundTrip: export to Maildir++ then import into another
// account gives the same state; a second export writes nothing; mbox keeps
// folders, dates and bytes.
func TestExportImportRoundTrip(t *testing.T) {
	data := t.TempDir()
	d1 := time.Date(2023, 5, 6, 7, 8, 9, 0, time.FixedZone("", 2*3600))
	withAccount(t, data, "alice", func(acct store.Account) {
		append1(t, acct, "INBOX", "Subject: a\r\n\r\nFrom me\r\n>From you\r\n", d1, `\Seen`, "$Forwarded", "Work")
		append1(t, acct, "INBOX", "Subject: dup\r\n\r\nsame\r\n", d1.Add(time.Hour))
		append1(t, acct, "INBOX", "Subject: dup\r\n\r\nsame\r\n", d1.Add(-time.Hour), `\Flagged`)
		append1(t, acct, "INBOX", "Subject: b\r\n\r\nno final newline", d1, `\Answered`, `\Deleted`, `\Draft`)
		append1(t, acct, "Work/Résumé.v2/100%", "Subject: c\r\n\r\nc\r\n", d1, "Project")
		append1(t, acct, ".hidden", "Subject: d\r\n\r\nd\r\n", d1)
		append1(t, acct, "Sent", "Subject: a\r\n\r\nFrom me\r\n>From you\r\n", d1.Add(24*time.Hour), `\Seen`)
	})
	want := dump(t, data, "alice")
	exp := filepath.Join(t.TempDir(), "export")
	out, errOut, code := runIn(t, "export", "--data", data, "alice", exp)
	if code != 0 || errOut != "" || out != "7 messages exported (7 written), 10 folders\n" {
		t.Fatalf("export: %d %q %q", code, out, errOut)
	}
	if out, _, _ := runIn(t, "export", "--data", data, "alice", exp); out != "7 messages exported (0 written), 10 folders\n" {
		t.Errorf("second export: %q", out)
	}
	if _, errOut, code := runIn(t, "import", "--data", data, "bob", exp); code != 1 || errOut != "casier: no such user bob\n" {
		t.Errorf("import for a missing user: %d %q", code, errOut)
	}
	withAccount(t, data, "bob", func(store.Account) {})
	if _, errOut, code := runIn(t, "import", "--data", data, "bob", exp); code != 0 {
		t.Fatal(errOut)
	}
	if got := dump(t, data, "bob"); !reflect.DeepEqual(got, want) {
		t.Errorf("after round trip:\n got %v\nwant %v", got, want)
	}

	// mbox: same folders, dates and bytes; flags are not carried.
	mb := filepath.Join(t.TempDir(), "mbox")
	if out, errOut, code := runIn(t, "export", "--format", "mbox", "--data", data, "alice", mb); code != 0 || out != "7 messages exported (7 written), 10 folders\n" {
		t.Fatalf("mbox export: %q %q", out, errOut)
	}
	withAccount(t, data, "carol", func(store.Account) {})
	if _, errOut, code := runIn(t, "import", "--data", data, "carol", mb); code != 0 {
		t.Fatal(errOut)
	}
	got := dump(t, data, "carol")
	for name, msgs := range want {
		for i := range msgs {
			msgs[i].Flags = nil
			if msgs[i].Body == "Subject: b\r\n\r\nno final newline" {
				msgs[i].Body += "\r\n" // mbox lines end in a newline
			}
		}
		if !reflect.DeepEqual(got[name], msgs) {
			t.Errorf("mbox round trip %s:\n got %v\nwant %v", name, got[name], msgs)
		}
	}
	if len(got) != len(want) {
		t.Errorf("mbox round trip: %d folders, want %d", len(got), len(want))
	}
}

func TestImportExportErrors(t *testing.T) {
	data := t.TempDir()
	withAccount(t, data, "alice", func(store.Account) {})
	notMail := filepath.Join(t.TempDir(), "notes.txt")
	writeFile(t, notMail, "hello\n")
	for _, c := range []struct {
		args    []string
		errOut  string
		code    int
		wantOut string
	}{
		{[]string{"import", "--data", data, "nobody", notMail}, "casier: no such user nobody\n", 1, ""},
		{[]string{"import", "--data", data, "alice", "/nonexistent/x"}, "casier: stat /nonexistent/x: no such file or directory\n", 1, ""},
		{[]string{"import", "--data", data, "alice", notMail}, "casier: mailio: " + notMail + ": " + "mailio: not an mbox file (no \"From \" line at the start)\n", 1, ""},
		{[]string{"import", "--data", filepath.Join(data, "nope"), "alice", notMail}, "casier: no data directory " + filepath.Join(data, "nope") + "\n", 1, ""},
		{[]string{"import", "--data", data, "alice"}, "casier import: want 2 arguments (USER PATH), got 1\nRun 'casier import --help' for usage.\n", 2, ""},
		{[]string{"export", "--data", data, "--format", "mh", "alice", "x"}, "casier export: --format: want maildir or mbox, got \"mh\"\nRun 'casier export --help' for usage.\n", 2, ""},
		{[]string{"export", "--data", data, "nobody", t.TempDir()}, "casier: no such user nobody\n", 1, ""},
	} {
		out, errOut, code := runIn(t, c.args...)
		if code != c.code || errOut != c.errOut || out != c.wantOut {
			t.Errorf("casier %q:\n got %d %q %q\nwant %d %q %q", c.args, code, out, errOut, c.code, c.wantOut, c.errOut)
		}
	}
	// Help goes to stdout with exit 0; the binary lists the commands.
	if out, _, code := runIn(t, "import", "--help"); code != 0 || !strings.HasPrefix(out, "Usage:\n  casier import") {
		t.Errorf("import --help: %d %q", code, out)
	}
	if out, _, _ := casier(t, "", "help"); !strings.Contains(out, "casier import USER PATH") || !strings.Contains(out, "casier export USER PATH") {
		t.Errorf("help lacks import/export: %q", out)
	}
}

// labelView returns every mailbox of user, virtual ones included, as
// sorted "subject flags" lines: two accounts with the same view have the
// same folders, label folders and All Mail, each message as often.
func labelView(t *testing.T, dir, user string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	withAccount(t, dir, user, func(acct store.Account) {
		ctx := context.Background()
		mbs, err := acct.Mailboxes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, mb := range mbs {
			if !mb.Selectable() {
				out[mb.Name] = nil
				continue
			}
			ents, err := acct.Entries(ctx, mb.ID)
			if err != nil {
				t.Fatal(err)
			}
			uids := []uint32{}
			for _, e := range ents {
				uids = append(uids, e.UID)
			}
			recs, err := acct.Records(ctx, mb.ID, uids)
			if err != nil {
				t.Fatal(err)
			}
			lines := []string{}
			for _, r := range recs {
				subj, _, _ := strings.Cut(strings.TrimPrefix(string(r.Header), "Subject: "), "\r\n")
				lines = append(lines, strings.TrimSpace(subj+" "+strings.Join(r.Flags, " ")))
			}
			slices.Sort(lines)
			out[mb.Name] = lines
		}
	})
	return out
}

// TestExportImportLabels: labels travel as keywords. Export writes the
// folders only, never All Mail or a label folder, and importing it into
// an empty account gives the same folders, the same label folders and
// All Mail, each message once.
func TestExportImportLabels(t *testing.T) {
	data := t.TempDir()
	d1 := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	withAccount(t, data, "alice", func(acct store.Account) {
		append1(t, acct, "INBOX", "Subject: a\r\n\r\na\r\n", d1, "Work")
		append1(t, acct, "INBOX", "Subject: b\r\n\r\nb\r\n", d1, `\Seen`, "Travel", "Work")
		append1(t, acct, "Archive", "Subject: c\r\n\r\nc\r\n", d1, "Travel")
		append1(t, acct, "Trash", "Subject: d\r\n\r\nd\r\n", d1, "Work") // in Trash: shown in no label folder
		append1(t, acct, "Sent", "Subject: e\r\n\r\ne\r\n", d1, "$Forwarded")
	})
	want := labelView(t, data, "alice")
	wantVirtual := map[string][]string{
		"All Mail":      {"a Work", "b Travel Work \\Seen", "c Travel", "e $Forwarded"},
		"Labels":        nil,
		"Labels/Travel": {"b Travel Work \\Seen", "c Travel"},
		"Labels/Work":   {"a Work", "b Travel Work \\Seen"},
	}
	for name, w := range wantVirtual {
		if !reflect.DeepEqual(want[name], w) {
			t.Errorf("alice's %s: %q, want %q", name, want[name], w)
		}
	}

	exp := filepath.Join(t.TempDir(), "export")
	out, errOut, code := runIn(t, "export", "--data", data, "alice", exp)
	if code != 0 || errOut != "" || out != "5 messages exported (5 written), 6 folders\n" {
		t.Fatalf("export: %d %q %q", code, out, errOut)
	}
	for _, d := range []string{".All Mail", ".Labels", ".Labels.Work", ".Labels.Travel"} {
		if _, err := os.Stat(filepath.Join(exp, d)); err == nil {
			t.Errorf("export wrote virtual mailbox %s", d)
		}
	}
	withAccount(t, data, "bob", func(store.Account) {})
	out, errOut, code = runIn(t, "import", "--data", data, "bob", exp)
	if code != 0 || errOut != "" || out != "5 messages imported, 0 already present, 0 too big; 6 folders (0 created)\n" {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if got := labelView(t, data, "bob"); !reflect.DeepEqual(got, want) {
		t.Errorf("after round trip:\n got %q\nwant %q", got, want)
	}
}

// TestImportRefusesVirtualFolders: a Maildir copy of All Mail or of a
// label folder (what a folder-only sync tool makes of Casier's) is not
// imported, since its messages are those of the other folders; the other
// folders are, the exit code says a folder failed, and importing the
// folder alone under another name keeps it as an ordinary folder.
func TestImportRefusesVirtualFolders(t *testing.T) {
	data := t.TempDir()
	withAccount(t, data, "alice", func(store.Account) {})
	src := t.TempDir()
	for _, d := range []string{"", ".Labels.Work", ".All Mail", ".Work"} {
		for _, s := range []string{"cur", "new", "tmp"} {
			os.MkdirAll(filepath.Join(src, d, s), 0o755)
		}
	}
	writeFile(t, filepath.Join(src, "cur", "1700000001.M1.h:2,S"), "Subject: a\n\na\n")
	writeFile(t, filepath.Join(src, ".All Mail", "cur", "1700000001.M1.h:2,S"), "Subject: a\n\na\n")
	writeFile(t, filepath.Join(src, ".Labels.Work", "cur", "1700000001.M1.h:2,S"), "Subject: a\n\na\n")
	writeFile(t, filepath.Join(src, ".Work", "cur", "1700000002.M2.h:2,"), "Subject: w\n\nw\n")

	out, errOut, code := runIn(t, "import", "--data", data, "alice", src)
	refused := func(name, dir string) string {
		p := filepath.Join(src, dir)
		return "casier: folder " + name + " (" + p + "): not imported: " + name + " is a label folder or All Mail, " +
			"which only show the messages of other folders (their keywords carry the labels); to keep it as an " +
			"ordinary folder, import it alone under another name: casier import --folder NAME USER " + p + "\n"
	}
	if code != 1 || out != "2 messages imported, 0 already present, 0 too big; 4 folders (1 created)\n" ||
		!strings.Contains(errOut, refused("All Mail", ".All Mail")) || !strings.Contains(errOut, refused("Labels/Work", ".Labels.Work")) {
		t.Fatalf("import: %d %q\n%s", code, out, errOut)
	}
	v := labelView(t, data, "alice")
	if !reflect.DeepEqual(v["INBOX"], []string{`a \Seen`}) || !reflect.DeepEqual(v["Work"], []string{"w"}) ||
		!reflect.DeepEqual(v["All Mail"], []string{`a \Seen`, "w"}) || v["Labels/Work"] != nil {
		t.Errorf("after import: %q", v)
	}

	// Alone, under another name: an ordinary folder.
	out, errOut, code = runIn(t, "import", "--data", data, "--folder", "Old labels/Work", "alice", filepath.Join(src, ".Labels.Work"))
	if code != 0 || errOut != "" || out != "1 messages imported, 0 already present, 0 too big; 1 folders (1 created)\n" {
		t.Fatalf("import --folder: %d %q %q", code, out, errOut)
	}
	if v := labelView(t, data, "alice"); !reflect.DeepEqual(v["Old labels/Work"], []string{`a \Seen`}) {
		t.Errorf("Old labels/Work: %q", v["Old labels/Work"])
	}
}

// TestLabelSettingsWired: label_prefix and label_exclude from --config
// reach the store in casier user and casier import (the server passes the
// same, serve.go): the new account's label root is the configured one,
// and with an empty exclusion list $Forwarded is a label too.
func TestLabelSettingsWired(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "casier.conf")
	writeFile(t, conf, "data_dir = "+data+"\nlabel_prefix = Tags\nlabel_exclude =\n")
	var out, errOut bytes.Buffer
	if code := run([]string{"user", "add", "--config", conf, "alice"}, strings.NewReader("pw\n"), &out, &errOut); code != 0 {
		t.Fatalf("user add: %d %q", code, errOut.String())
	}
	src := t.TempDir()
	for _, s := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(src, s), 0o755)
	}
	writeFile(t, filepath.Join(src, "dovecot-keywords"), "0 $Forwarded\n1 Work\n")
	writeFile(t, filepath.Join(src, "cur", "1700000001.M1.h:2,Sab"), "Subject: a\n\na\n")
	if out, errOut, code := runIn(t, "import", "--config", conf, "alice", src); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	st, err := sqlite.Open(data, sqlite.Options{NoSweep: true, NoSync: true, LabelPrefix: "Tags", LabelExclude: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	u, err := st.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.Account(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	mbs, err := acct.Mailboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]store.MailboxKind{}
	for _, mb := range mbs {
		kinds[mb.Name] = mb.Kind
	}
	want := map[string]store.MailboxKind{
		"INBOX": store.KindFolder, "Archive": store.KindFolder, "Drafts": store.KindFolder, "Junk": store.KindFolder,
		"Sent": store.KindFolder, "Trash": store.KindFolder, "All Mail": store.KindAll,
		"Tags": store.KindLabelRoot, "Tags/$Forwarded": store.KindLabel, "Tags/Work": store.KindLabel,
	}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("mailboxes: %v\nwant %v", kinds, want)
	}
	st.Close()

	// A command run without the server's configuration keeps the
	// settings the data has (sqlite.Options.KeepLabelSettings): the label
	// folders are not renamed back to Labels/ under a running server.
	out.Reset()
	errOut.Reset()
	if code := run([]string{"user", "add", "--data", data, "bob"}, strings.NewReader("pw\n"), &out, &errOut); code != 0 {
		t.Fatalf("user add bob: %d %q", code, errOut.String())
	}
	st, err = sqlite.Open(data, sqlite.Options{NoSweep: true, NoSync: true, KeepLabelSettings: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, name := range []string{"alice", "bob"} {
		u, err := st.User(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := st.Account(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := acct.Mailbox(ctx, "Tags"); err != nil || m.Kind != store.KindLabelRoot {
			t.Errorf("%s: Tags = %+v, %v; want the label root", name, m, err)
		}
		if _, err := acct.Mailbox(ctx, "Labels"); err == nil {
			t.Errorf("%s: a Labels mailbox appeared", name)
		}
	}
}
