package blobstore

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutOpenRemove(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("Subject: hi\r\n\r\nbody\r\n")
	h := Sum(data)
	if ok, err := s.Has(h); ok || err != nil {
		t.Fatalf("Has before Put = %v, %v", ok, err)
	}
	if err := s.Put(h, data); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(h, data); err != nil { // idempotent
		t.Fatal(err)
	}
	x := h.String()
	want := filepath.Join(dir, x[:2], x[2:])
	if s.Path(h) != want {
		t.Fatalf("Path = %s, want %s", s.Path(h), want)
	}
	got, err := os.ReadFile(want)
	if err != nil || string(got) != string(data) {
		t.Fatalf("file = %q, %v", got, err)
	}
	b, err := s.Open(h)
	if err != nil {
		t.Fatal(err)
	}
	if b.Size() != int64(len(data)) {
		t.Fatalf("Size = %d", b.Size())
	}
	buf := make([]byte, 4)
	if n, err := b.ReadAt(buf, 9); n != 4 || err != nil || string(buf) != "hi\r\n" {
		t.Fatalf("ReadAt = %d %v %q", n, err, buf)
	}
	if _, err := b.ReadAt(buf, int64(len(data))-2); err != io.EOF {
		t.Fatalf("short ReadAt err = %v", err)
	}
	b.Close()

	other := []byte("other")
	if err := s.Put(Sum(other), other); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(); n != 2 || err != nil {
		t.Fatalf("Count = %d, %v", n, err)
	}
	ps, _ := s.Prefixes()
	var all []Hash
	for _, p := range ps {
		hs, err := s.List(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, hs...)
	}
	if len(all) != 2 || (all[0] != h && all[1] != h) {
		t.Fatalf("List = %v", all)
	}
	// Foreign files in the tree are ignored.
	os.WriteFile(filepath.Join(dir, x[:2], "README"), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, "zz"), 0o700)
	if n, _ := s.Count(); n != 2 {
		t.Fatalf("Count with foreign files = %d", n)
	}

	if err := s.Remove(h); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(h); err != nil { // missing is fine
		t.Fatal(err)
	}
	if _, err := s.Open(h); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open removed = %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, tmpDir)); len(ents) != 0 {
		t.Fatalf("temp files left: %v", ents)
	}
}

func TestParseHash(t *testing.T) {
	h := Sum([]byte("x"))
	got, err := ParseHash(h.String())
	if err != nil || got != h {
		t.Fatalf("ParseHash round trip = %v, %v", got, err)
	}
	for _, bad := range []string{"", "00", strings.Repeat("g", 64), strings.Repeat("0", 63)} {
		if _, err := ParseHash(bad); err == nil {
			t.Fatalf("ParseHash(%q) succeeded", bad)
		}
	}
}
