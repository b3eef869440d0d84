package mailio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Maildir info flags (the "2," experimental semantics of the Maildir
// specification), in the ASCII order the info part lists them. P (passed:
// resent or bounced) has no IMAP flag and is dropped.
var infoFlags = []struct {
	c    byte
	flag string
}{
	{'D', `\Draft`},
	{'F', `\Flagged`},
	{'R', `\Answered`},
	{'S', `\Seen`},
	{'T', `\Deleted`},
}

// KeywordsFile is Dovecot's per-folder list of keywords: lines "N name";
// the letter 'a'+N in a file's info part stands for keyword N.
const KeywordsFile = "dovecot-keywords"

// maxKeywords is how many keywords the letters a-z can name.
const maxKeywords = 26

// IsMaildir reports whether dir holds cur/ and new/ directories.
func IsMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// ReadKeywords reads a folder's dovecot-keywords file; a missing file
// means no keywords. The result is indexed by letter - 'a'.
func ReadKeywords(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, KeywordsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	kws := make([]string, maxKeywords)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		num, name, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 || n >= maxKeywords {
			continue // not a letter: unusable, as in Dovecot
		}
		kws[n] = strings.TrimSpace(name)
	}
	return kws, sc.Err()
}

// MaildirReader lists a Maildir folder's messages (cur/ and new/; tmp/
// holds deliveries in progress) and reads them one at a time, ordered by
// the timestamp that starts their file names, then by name.
type MaildirReader struct {
	dir      string
	max      int64
	keywords []string
	files    []mdFile
	next     int
}

type mdFile struct {
	path string
	name string
	secs int64  // -1: no timestamp in the name
	uid  uint32 // from dovecot-uidlist; 0: not listed
}

// OpenMaildir lists the folder dir; messages over maxSize bytes (in CRLF
// form) are reported TooBig.
func OpenMaildir(dir string, maxSize int64) (*MaildirReader, error) {
	kws, err := ReadKeywords(dir)
	if err != nil {
		return nil, err
	}
	r := &MaildirReader{dir: dir, max: maxSize, keywords: kws}
	for _, sub := range []string{"cur", "new"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			if n[0] == '.' || e.IsDir() {
				continue
			}
			r.files = append(r.files, mdFile{path: filepath.Join(dir, sub, n), name: n, secs: nameTime(n)})
		}
	}
	// Dovecot's dovecot-uidlist gives the UID order (which an export
	// keeps); files it does not list follow, oldest first.
	uids, err := ReadUIDList(dir)
	if err != nil {
		return nil, err
	}
	for i := range r.files {
		base, _, _ := strings.Cut(r.files[i].name, ":")
		r.files[i].uid = uids[base]
	}
	slices.SortFunc(r.files, func(a, b mdFile) int {
		if (a.uid == 0) != (b.uid == 0) {
			if a.uid != 0 {
				return -1
			}
			return 1
		}
		if a.uid != b.uid {
			if a.uid < b.uid {
				return -1
			}
			return 1
		}
		if a.secs != b.secs {
			if a.secs < b.secs {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return r, nil
}

// Len returns the number of messages.
func (r *MaildirReader) Len() int { return len(r.files) }

// nameTime returns the leading decimal timestamp of a Maildir file name
// ("1700000000.M1P2.host:2,S"), or -1.
func nameTime(name string) int64 {
	i := 0
	for i < len(name) && name[i] >= '0' && name[i] <= '9' {
		i++
	}
	if i == 0 || i > 12 || (i < len(name) && name[i] != '.') {
		return -1
	}
	n, err := strconv.ParseInt(name[:i], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Next returns the next message, or io.EOF after the last one. A file
// that vanished since the listing (a client moved it) is skipped.
func (r *MaildirReader) Next() (*Message, error) {
	for r.next < len(r.files) {
		f := r.files[r.next]
		r.next++
		m, err := r.read(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return m, err
	}
	return nil, io.EOF
}

func (r *MaildirReader) read(f mdFile) (*Message, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	m := &Message{Flags: r.infoFlags(f.name), Size: fi.Size()}
	if f.secs >= 0 {
		m.Date = time.Unix(f.secs, 0)
	} else {
		m.Date = fi.ModTime().Truncate(time.Second)
	}
	if fi.Size() > r.max {
		m.TooBig = true
		return m, nil
	}
	raw, err := io.ReadAll(io.LimitReader(fh, r.max+1))
	if err != nil {
		return nil, fmt.Errorf("mailio: %s: %w", f.path, err)
	}
	m.Body = ToCRLF(raw)
	if int64(len(m.Body)) > r.max {
		m.TooBig, m.Body = true, nil
	}
	m.Size = int64(len(m.Body))
	return m, nil
}

// infoFlags maps the info part of a file name (after ":2,") to flags.
func (r *MaildirReader) infoFlags(name string) []string {
	i := strings.LastIndex(name, ":2,")
	if i < 0 {
		return nil
	}
	var out []string
	for _, c := range []byte(name[i+3:]) {
		switch {
		case c >= 'a' && c <= 'z':
			if k := int(c - 'a'); k < len(r.keywords) && r.keywords[k] != "" && validKeyword(r.keywords[k]) {
				out = append(out, r.keywords[k])
			}
		default:
			for _, f := range infoFlags {
				if f.c == c {
					out = append(out, f.flag)
				}
			}
		}
	}
	return out
}

// MaildirWriter writes messages into a Maildir folder. File names are
// given by the caller (a stable key per message) plus ",S=size" and the
// info part, so writing the same messages again skips those already there
// and renames those whose flags changed: an interrupted export resumes.
type MaildirWriter struct {
	dir      string
	keywords []string          // index: letter - 'a'
	existing map[string]string // key -> current file name in cur/
	done     map[string]bool   // keys written (or found intact) by this run
	written  []written
}

type written struct {
	uid  uint32
	name string
}

// CreateMaildir creates (or reopens) the folder dir with cur/, new/ and
// tmp/, and gives each of keywords a letter: letters already in the
// folder's dovecot-keywords file keep their keyword. Keywords past the 26
// letters are returned in dropped.
func CreateMaildir(dir string, keywords []string) (w *MaildirWriter, dropped []string, err error) {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, nil, err
		}
	}
	old, err := ReadKeywords(dir)
	if err != nil {
		return nil, nil, err
	}
	w = &MaildirWriter{dir: dir, keywords: make([]string, maxKeywords), existing: map[string]string{}, done: map[string]bool{}}
	copy(w.keywords, old)
	for _, k := range keywords {
		if w.letter(k) >= 0 {
			continue
		}
		free := slices.Index(w.keywords, "")
		if free < 0 {
			dropped = append(dropped, k)
			continue
		}
		w.keywords[free] = k
	}
	if err := w.writeKeywords(); err != nil {
		return nil, nil, err
	}
	ents, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		key, _, _ := strings.Cut(e.Name(), ",S=")
		w.existing[key] = e.Name()
	}
	return w, dropped, nil
}

func (w *MaildirWriter) letter(k string) int {
	for i, x := range w.keywords {
		if x != "" && strings.EqualFold(x, k) {
			return i
		}
	}
	return -1
}

func (w *MaildirWriter) writeKeywords() error {
	var b bytes.Buffer
	for i, k := range w.keywords {
		if k != "" {
			fmt.Fprintf(&b, "%d %s\n", i, k)
		}
	}
	p := filepath.Join(w.dir, KeywordsFile)
	if b.Len() == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return writeFileAtomic(p, b.Bytes())
}

// Info returns the info part (":2,...") for flags.
func (w *MaildirWriter) Info(flags []string) string {
	var sys []byte
	var kws []byte
	for _, f := range infoFlags {
		if slices.ContainsFunc(flags, func(x string) bool { return strings.EqualFold(x, f.flag) }) {
			sys = append(sys, f.c)
		}
	}
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) {
			continue
		}
		if l := w.letter(f); l >= 0 {
			kws = append(kws, byte('a'+l))
		}
	}
	slices.Sort(kws)
	return ":2," + string(sys) + string(slices.Compact(kws))
}

// Write stores the message of UID uid under key (which must be unique in
// the folder and contain no ',' or ':'), unless a complete file with that
// key is there already; a file whose flags differ is renamed. The file's
// mtime is set to date, which also starts key by convention. It reports
// whether it wrote or renamed anything. Call it in ascending UID order.
func (w *MaildirWriter) Write(uid uint32, key string, body []byte, flags []string, date time.Time) (bool, error) {
	name := key + ",S=" + strconv.Itoa(len(body)) + w.Info(flags)
	changed, err := w.write(key, name, body, date)
	if err != nil {
		return false, err
	}
	w.done[key] = true
	w.written = append(w.written, written{uid, name})
	return changed, nil
}

func (w *MaildirWriter) write(key, name string, body []byte, date time.Time) (bool, error) {
	cur := filepath.Join(w.dir, "cur")
	if old, ok := w.existing[key]; ok {
		fi, err := os.Stat(filepath.Join(cur, old))
		if err == nil && fi.Size() == int64(len(body)) {
			if old == name {
				return false, nil
			}
			if err := os.Rename(filepath.Join(cur, old), filepath.Join(cur, name)); err != nil {
				return false, err
			}
			w.existing[key] = name
			return true, nil
		}
		os.Remove(filepath.Join(cur, old)) // incomplete: write again
	}
	// The Maildir protocol: write in tmp/, then rename into cur/, so a
	// reader never sees a partial file.
	tmp := filepath.Join(w.dir, "tmp", name)
	if err := os.WriteFile(tmp, body, 0o600); err != nil {
		return false, err
	}
	if !date.IsZero() {
		if err := os.Chtimes(tmp, date, date); err != nil {
			os.Remove(tmp)
			return false, err
		}
	}
	if err := os.Rename(tmp, filepath.Join(cur, name)); err != nil {
		os.Remove(tmp)
		return false, err
	}
	w.existing[key] = name
	return true, nil
}

// writeFileAtomic replaces p with data through a temporary file.
func writeFileAtomic(p string, data []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// UIDListFile is Dovecot's per-folder map of file names to UIDs.
const UIDListFile = "dovecot-uidlist"

// ReadUIDList reads a folder's dovecot-uidlist (version 3: a header line
// "3 V<uidvalidity> N<uidnext> ...", then "<uid> [fields] :<base name>"
// lines, the base name being the file name before ':'). A missing or
// unreadable-format file gives an empty map: the order is then by time.
func ReadUIDList(dir string) (map[string]uint32, error) {
	f, err := os.Open(filepath.Join(dir, UIDListFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint32{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if !strings.HasPrefix(line, "3 ") {
				return nil, nil // versions 1 and 2: not worth reading
			}
			continue
		}
		num, _, _ := strings.Cut(line, " ")
		i := strings.Index(line, " :")
		uid, err := strconv.ParseUint(num, 10, 32)
		if i < 0 || err != nil || uid == 0 {
			continue
		}
		out[line[i+2:]] = uint32(uid)
	}
	return out, sc.Err()
}

// Finish writes the folder's dovecot-uidlist for the messages written
// since CreateMaildir, in the order written (ascending UID), so the UID
// order survives an import by Casier or by Dovecot; and it removes the
// files of an earlier export (names with our ".casier," marker) that this
// one did not write: their messages are gone from the mailbox.
func (w *MaildirWriter) Finish(uidValidity, uidNext uint32) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "3 V%d N%d\n", uidValidity, uidNext)
	for _, x := range w.written {
		base, _, _ := strings.Cut(x.name, ":")
		fmt.Fprintf(&b, "%d :%s\n", x.uid, base)
	}
	if err := writeFileAtomic(filepath.Join(w.dir, UIDListFile), b.Bytes()); err != nil {
		return err
	}
	for key, name := range w.existing {
		if !w.done[key] && strings.Contains(name, ".casier,") {
			if err := os.Remove(filepath.Join(w.dir, "cur", name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
