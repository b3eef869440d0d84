package mailio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/casier/casier/internal/imapwire"
)

// Kind is the format of a folder on disk.
type Kind int

const (
	KindMbox Kind = iota
	KindMaildir
)

func (k Kind) String() string {
	if k == KindMaildir {
		return "maildir"
	}
	return "mbox"
}

// Folder is one mailbox found on disk.
type Folder struct {
	Name string // Casier name: UTF-8, '/' between levels
	Path string // the mbox file or the Maildir directory
	Kind Kind
}

// Reader is what MboxReader and MaildirReader have in common.
type Reader interface {
	Next() (*Message, error) // io.EOF after the last message
}

// Open returns a reader of the folder's messages and a function to
// release it.
func (f Folder) Open(maxSize int64) (Reader, func() error, error) {
	if f.Kind == KindMaildir {
		r, err := OpenMaildir(f.Path, maxSize)
		return r, func() error { return nil }, err
	}
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil, nil, err
	}
	return NewMboxReader(fh, maxSize), fh.Close, nil
}

// Discover finds the folders under path:
//   - an mbox file is one folder, named by inbox (normally "INBOX");
//   - a Maildir (cur/ and new/) is INBOX, and its ".A.B" subdirectories
//     are the Maildir++ folders "A/B" (levels in modified UTF-7, RFC 3501
//     5.1.3, as Dovecot writes them);
//   - any other directory holds such things: a file "X.mbox" (or a file
//     without that extension that starts with "From ") is folder "X", a
//     Maildir "X/" is folder "X" with its Maildir++ subfolders below it,
//     and a plain directory "X/" (or Thunderbird's "X.sbd/") adds the
//     level "X" to what it holds.
//
// Folders are returned sorted by name, parents first. Names are not
// validated here: the store does that.
func Discover(path, inbox string) ([]Folder, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var out []Folder
	switch {
	case fi.Mode().IsRegular():
		if !looksLikeMbox(path, true) {
			return nil, fmt.Errorf("mailio: %s: %w", path, ErrNotMbox)
		}
		out = append(out, Folder{Name: inbox, Path: path, Kind: KindMbox})
	case fi.IsDir() && IsMaildir(path):
		out, err = maildirTree(path, inbox, out)
	case fi.IsDir():
		out, err = walkDir(path, "", out)
		if err == nil && len(out) == 0 {
			err = fmt.Errorf("mailio: %s: no mbox file or Maildir found", path)
		}
	default:
		err = fmt.Errorf("mailio: %s: not a file or directory", path)
	}
	if err != nil {
		return nil, err
	}
	for i := range out {
		// RFC 9051 5.1: INBOX is case-insensitive, also as the first level.
		first, _, _ := strings.Cut(out[i].Name, "/")
		if strings.EqualFold(first, "INBOX") && first != "INBOX" {
			out[i].Name = "INBOX" + out[i].Name[len(first):]
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("mailio: folder %q found twice (%s and %s)", out[i].Name, out[i-1].Path, out[i].Path)
		}
	}
	return out, nil
}

// maildirTree adds the Maildir dir as folder name and its Maildir++
// subfolders under name.
func maildirTree(dir, name string, out []Folder) ([]Folder, error) {
	out = append(out, Folder{Name: name, Path: dir, Kind: KindMaildir})
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		n := e.Name()
		if len(n) < 2 || n[0] != '.' || n == ".." || !isDir(dir, e) {
			continue
		}
		p := filepath.Join(dir, n)
		if !IsMaildir(p) {
			continue
		}
		sub, err := DecodeMaildirName(n[1:])
		if err != nil {
			return nil, fmt.Errorf("mailio: %s: %w", p, err)
		}
		// The INBOX of a Maildir++ tree is its root: ".A" is "A", not
		// "INBOX/A". A tree found elsewhere hangs under its name.
		if name != "INBOX" {
			sub = name + "/" + sub
		}
		out = append(out, Folder{Name: sub, Path: p, Kind: KindMaildir})
	}
	return out, nil
}

// walkDir adds the folders in a directory that is not itself a Maildir.
func walkDir(dir, prefix string, out []Folder) ([]Folder, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	join := func(n string) string {
		n = unescapeLevel(n)
		if prefix == "" {
			return n
		}
		return prefix + "/" + n
	}
	for _, e := range ents {
		n := e.Name()
		if n[0] == '.' {
			continue // hidden, Thunderbird's .msf indexes, editors' files
		}
		p := filepath.Join(dir, n)
		switch {
		case isDir(dir, e) && IsMaildir(p):
			if out, err = maildirTree(p, join(n), out); err != nil {
				return nil, err
			}
		case isDir(dir, e):
			if out, err = walkDir(p, join(strings.TrimSuffix(n, ".sbd")), out); err != nil {
				return nil, err
			}
		case strings.HasSuffix(n, ".mbox") && len(n) > len(".mbox"):
			if !looksLikeMbox(p, true) {
				return nil, fmt.Errorf("mailio: %s: %w", p, ErrNotMbox)
			}
			out = append(out, Folder{Name: join(strings.TrimSuffix(n, ".mbox")), Path: p, Kind: KindMbox})
		case looksLikeMbox(p, false):
			out = append(out, Folder{Name: join(n), Path: p, Kind: KindMbox})
		}
	}
	return out, nil
}

func isDir(dir string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink != 0 {
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		return err == nil && fi.IsDir()
	}
	return false
}

// looksLikeMbox reports a regular file starting with "From " (or an empty
// one, when emptyOK).
func looksLikeMbox(p string, emptyOK bool) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	var b [5]byte
	n, err := io.ReadFull(f, b[:])
	if n == 0 && errors.Is(err, io.EOF) {
		return emptyOK
	}
	return bytes.Equal(b[:n], []byte("From "))
}

// DecodeMaildirName turns a Maildir++ folder name without its leading dot
// ("Work.R&AOk-sum&AOk-") into a Casier name ("Work/Résumé"): '.'
// separates levels, each level is modified UTF-7, and "%2E" / "%25" stand
// for '.' and '%' inside a level (what EncodeMaildirName writes).
func DecodeMaildirName(s string) (string, error) {
	levels := strings.Split(s, ".")
	for i, l := range levels {
		if l == "" {
			return "", fmt.Errorf("mailio: folder name %q: empty level", s)
		}
		d, err := imapwire.DecodeMailboxUTF7(l)
		if err != nil {
			// Not modified UTF-7 (a writer that used UTF-8): keep it.
			d = l
		}
		levels[i] = unescapeLevel(d)
	}
	return strings.Join(levels, "/"), nil
}

// EncodeMaildirName is the inverse of DecodeMaildirName.
func EncodeMaildirName(name string) string {
	levels := strings.Split(name, "/")
	for i, l := range levels {
		l = strings.ReplaceAll(l, "%", "%25")
		l = strings.ReplaceAll(l, ".", "%2E")
		levels[i] = imapwire.EncodeMailboxUTF7(l)
	}
	return strings.Join(levels, ".")
}

// EscapeLevel makes a name level safe as a file name: '%' and a leading
// '.' (hidden files, "..") are written %25 and %2E.
func EscapeLevel(l string) string {
	l = strings.ReplaceAll(l, "%", "%25")
	if strings.HasPrefix(l, ".") {
		l = "%2E" + l[1:]
	}
	return l
}

// unescapeLevel decodes %2E and %25 (any case); other '%' stay.
func unescapeLevel(l string) string {
	if !strings.Contains(l, "%") {
		return l
	}
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		if l[i] == '%' && i+2 < len(l) {
			if v, err := strconv.ParseUint(l[i+1:i+3], 16, 8); err == nil && (v == '.' || v == '%') {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(l[i])
	}
	return b.String()
}
