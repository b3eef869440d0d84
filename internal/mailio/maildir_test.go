package mailio

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkMaildir(t *testing.T, dir string) {
	t.Helper()
	for _, s := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

type got struct {
	body  string
	flags []string
	date  int64
}

func readMaildir(t *testing.T, dir string) []got {
	t.Helper()
	r, err := OpenMaildir(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out []got
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got{string(m.Body), m.Flags, m.Date.Unix()})
	}
}

func TestMaildirReader(t *testing.T) {
	dir := t.TempDir()
	mkMaildir(t, dir)
	write(t, filepath.Join(dir, KeywordsFile), "0 $Forwarded\n1 Work\n3 Later\n30 TooFar\nbad line\n")
	write(t, filepath.Join(dir, "cur", "1700000300.M1P1.host,S=9:2,DFPRSTabd"), "all\nflags\n")
	write(t, filepath.Join(dir, "cur", "1700000100.M2P1.host:2,S"), "seen\r\n")
	write(t, filepath.Join(dir, "new", "1700000200.M3P1.host"), "new\n")
	write(t, filepath.Join(dir, "cur", "1700000400.M4P1.host:2,cz"), "unknown letters\n")
	write(t, filepath.Join(dir, "tmp", "1700000000.M5P1.host"), "in progress")
	write(t, filepath.Join(dir, "cur", ".hidden"), "not mail")
	noStamp := filepath.Join(dir, "cur", "courier-style:2,")
	write(t, noStamp, "mtime\n")
	mtime := time.Unix(1600000000, 0)
	if err := os.Chtimes(noStamp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	want := []got{
		{"mtime\r\n", nil, 1600000000},
		{"seen\r\n", []string{`\Seen`}, 1700000100},
		{"new\r\n", nil, 1700000200},
		{"all\r\nflags\r\n", []string{`\Draft`, `\Flagged`, `\Answered`, `\Seen`, `\Deleted`, "$Forwarded", "Work", "Later"}, 1700000300},
		{"unknown letters\r\n", nil, 1700000400},
	}
	if g := readMaildir(t, dir); !reflect.DeepEqual(g, want) {
		t.Fatalf("got  %v\nwant %v", g, want)
	}

	// dovecot-uidlist orders the files it lists before the others.
	write(t, filepath.Join(dir, UIDListFile), "3 V1 N9\n4 :1700000200.M3P1.host\n7 W12 :1700000300.M1P1.host,S=9\n")
	var order []int64
	for _, g := range readMaildir(t, dir) {
		order = append(order, g.date)
	}
	if want := []int64{1700000200, 1700000300, 1600000000, 1700000100, 1700000400}; !reflect.DeepEqual(order, want) {
		t.Errorf("order with uidlist %v, want %v", order, want)
	}
}

func TestMaildirWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "md")
	date := time.Unix(1700000000, 0)
	w, dropped, err := CreateMaildir(dir, []string{"Work", "$Label1"})
	if err != nil || dropped != nil {
		t.Fatal(err, dropped)
	}
	if changed, err := w.Write(3, "1700000000.U3V1.casier", []byte("a\r\n"), []string{`\Seen`, `\Flagged`, "Work", "$label1"}, date); err != nil || !changed {
		t.Fatal(changed, err)
	}
	if err := w.Finish(1, 4); err != nil {
		t.Fatal(err)
	}
	name := "1700000000.U3V1.casier,S=3:2,FSab"
	fi, err := os.Stat(filepath.Join(dir, "cur", name))
	if err != nil || !fi.ModTime().Equal(date) {
		t.Fatalf("file %s: %v %v", name, fi, err)
	}
	for f, want := range map[string]string{
		KeywordsFile: "0 Work\n1 $Label1\n",
		UIDListFile:  "3 V1 N4\n3 :1700000000.U3V1.casier,S=3\n",
	} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != want {
			t.Errorf("%s = %q, want %q", f, b, want)
		}
	}

	// Again, with one flag changed and a new keyword: the file is
	// renamed, letters already given keep their keyword, and a file of
	// an earlier export that is no longer written is removed.
	write(t, filepath.Join(dir, "cur", "1600000000.U1V1.casier,S=1:2,"), "x")
	write(t, filepath.Join(dir, "cur", "foreign:2,S"), "kept")
	w, _, err = CreateMaildir(dir, []string{"New", "Work"})
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := w.Write(3, "1700000000.U3V1.casier", []byte("a\r\n"), []string{`\Seen`, "New"}, date); err != nil || !changed {
		t.Fatal(changed, err)
	}
	if changed, err := w.Write(3, "1700000000.U3V1.casier", []byte("a\r\n"), []string{`\Seen`, "New"}, date); err != nil || changed {
		t.Fatal("unchanged message rewritten", changed, err)
	}
	if err := w.Finish(1, 4); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "cur"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"1700000000.U3V1.casier,S=3:2,Sc", "foreign:2,S"}; !reflect.DeepEqual(names, want) {
		t.Errorf("cur/ = %q, want %q", names, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, KeywordsFile)); string(b) != "0 Work\n1 $Label1\n2 New\n" {
		t.Errorf("keywords %q", b)
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	md := filepath.Join(root, "alice")
	mkMaildir(t, md)
	// Maildir++: "Archives/2024", "R&AOk-sum&AOk-.Caf&AOk-" (Résumé/Café),
	// a dot inside a level, and things that are not folders.
	for _, n := range []string{".Archives", ".Archives.2024", ".R&AOk-sum&AOk-.Caf&AOk-", ".a%2Eb", ".INBOX.Sub"} {
		mkMaildir(t, filepath.Join(md, n))
	}
	mkMaildir(t, filepath.Join(md, "..bad")) // empty level
	os.MkdirAll(filepath.Join(md, ".notmaildir"), 0o755)
	if _, err := Discover(md, "INBOX"); err == nil {
		t.Error("empty level accepted")
	}
	os.RemoveAll(filepath.Join(md, "..bad"))
	fs, err := Discover(md, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
		if f.Kind != KindMaildir {
			t.Errorf("%s: kind %v", f.Name, f.Kind)
		}
	}
	if want := []string{"Archives", "Archives/2024", "INBOX", "INBOX/Sub", "Résumé/Café", "a.b"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Maildir++ folders %q, want %q", names, want)
	}

	// A directory of mbox files (Thunderbird layout) and Maildirs.
	tb := filepath.Join(root, "tb")
	write(t, filepath.Join(tb, "Inbox"), "From a Thu Jan  4 10:20:30 2024\n\n")
	write(t, filepath.Join(tb, "Inbox.msf"), "index")
	write(t, filepath.Join(tb, "Work.sbd", "Projects"), "From a Thu Jan  4 10:20:30 2024\n\n")
	write(t, filepath.Join(tb, "Empty.mbox"), "")
	write(t, filepath.Join(tb, "%2Ehidden.mbox"), "")
	write(t, filepath.Join(tb, "notes.txt"), "not mail")
	write(t, filepath.Join(tb, ".Trash"), "From a Thu Jan  4 10:20:30 2024\n\n")
	mkMaildir(t, filepath.Join(tb, "Old"))
	mkMaildir(t, filepath.Join(tb, "Old", ".Sub"))
	fs, err = Discover(tb, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range fs {
		kinds = append(kinds, f.Name+":"+f.Kind.String())
	}
	if want := []string{".hidden:mbox", "Empty:mbox", "INBOX:mbox", "Old:maildir", "Old/Sub:maildir", "Work/Projects:mbox"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("folders %q, want %q", kinds, want)
	}

	// One mbox file; errors.
	if fs, err := Discover(filepath.Join(tb, "Inbox"), "INBOX"); err != nil || len(fs) != 1 || fs[0].Name != "INBOX" {
		t.Errorf("mbox file: %v %v", fs, err)
	}
	if _, err := Discover(filepath.Join(tb, "notes.txt"), "INBOX"); err == nil {
		t.Error("text file accepted")
	}
	if _, err := Discover(filepath.Join(root, "missing"), "INBOX"); err == nil {
		t.Error("missing path accepted")
	}
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := Discover(empty, "INBOX"); err == nil {
		t.Error("empty directory accepted")
	}
}

func TestMaildirNames(t *testing.T) {
	for name, enc := range map[string]string{
		"Work":          "Work",
		"Work/Projects": "Work.Projects",
		"Résumé/Café":   "R&AOk-sum&AOk-.Caf&AOk-",
		"a.b/100%":      "a%2Eb.100%25",
		"&/.":           "&-.%2E",
	} {
		if got := EncodeMaildirName(name); got != enc {
			t.Errorf("EncodeMaildirName(%q) = %q, want %q", name, got, enc)
		}
		if got, err := DecodeMaildirName(enc); err != nil || got != name {
			t.Errorf("DecodeMaildirName(%q) = %q, %v", enc, got, err)
		}
	}
	// A writer that put UTF-8 in names: kept as it is.
	if got, _ := DecodeMaildirName("Café.x"); got != "Café/x" {
		t.Errorf("UTF-8 name: %q", got)
	}
}
