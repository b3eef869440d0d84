// Package blobstore keeps message bodies as content-addressed files: one
// file per distinct content, named by the hex SHA-256 of the bytes, in a
// two-level fanout (dir/ab/cdef...) so no directory grows too large.
//
// Durability: Put writes a temporary file, fsyncs it, renames it into place
// and fsyncs the directory, so once Put returns the body survives a power
// loss. A file that exists under its final name is therefore always
// complete; a crash leaves at most a stray temporary file (removed by
// CleanTemp) or a body no metadata references yet (removed by the engine's
// garbage collection).
//
// The package knows nothing about references: deciding when a body is no
// longer used, and serialising that decision against writers, is the
// engine's job.
package blobstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Hash is the SHA-256 of a body, its address.
type Hash [sha256.Size]byte

// Sum returns the address of data.
func Sum(data []byte) Hash { return sha256.Sum256(data) }

// String returns the lower-case hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash decodes a 64-character hex address.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("blobstore: bad hash %q", s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("blobstore: bad hash %q: %w", s, err)
	}
	return h, nil
}

// tmpDir holds files being written; it is not a fanout directory because
// its name is not two hex digits.
const tmpDir = "tmp"

// Store is a directory of bodies. It is safe for concurrent use.
type Store struct {
	dir    string
	noSync bool
}

// Open returns the store rooted at dir, creating it if needed. With noSync
// nothing is fsync'd: only for tests and benchmark setup, a crash may then
// lose or truncate bodies.
func Open(dir string, noSync bool) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return &Store{dir: dir, noSync: noSync}, nil
}

// Dir returns the root directory.
func (s *Store) Dir() string { return s.dir }

// Path returns the file name of h.
func (s *Store) Path(h Hash) string {
	x := h.String()
	return filepath.Join(s.dir, x[:2], x[2:])
}

// Has reports whether the body h is stored.
func (s *Store) Has(h Hash) (bool, error) {
	_, err := os.Stat(s.Path(h))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("blobstore: %w", err)
}

// Put stores data under h (which must be Sum(data)) durably. It is
// idempotent: an existing file is left alone, since a file under its final
// name is always complete.
func (s *Store) Put(h Hash, data []byte) error {
	if ok, err := s.Has(h); err != nil || ok {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), "put-*")
	if err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("blobstore: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if !s.noSync {
		if err := f.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("blobstore: %w", err)
	}
	final := s.Path(h)
	dir := filepath.Dir(final)
	if err := s.mkdir(dir); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("blobstore: %w", err)
	}
	// The rename is durable only once the directory entry is.
	return s.syncDir(dir)
}

// mkdir creates a fanout directory and makes its entry in the root durable.
func (s *Store) mkdir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("blobstore: %w", err)
	}
	return s.syncDir(s.dir)
}

func (s *Store) syncDir(dir string) error {
	if s.noSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("blobstore: sync %s: %w", dir, err)
	}
	return nil
}

// Body is an open stored body.
type Body struct {
	f    *os.File
	size int64
}

// ReadAt implements io.ReaderAt.
func (b *Body) ReadAt(p []byte, off int64) (int, error) { return b.f.ReadAt(p, off) }

// Close releases the file.
func (b *Body) Close() error { return b.f.Close() }

// Size is the body length in bytes.
func (b *Body) Size() int64 { return b.size }

// Open opens the body h for reading. A missing body yields an error
// matching fs.ErrNotExist.
func (s *Store) Open(h Hash) (*Body, error) {
	f, err := os.Open(s.Path(h))
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return &Body{f: f, size: fi.Size()}, nil
}

// Remove deletes the body h; a missing body is not an error. The caller
// guarantees nothing references h (and nothing is about to).
func (s *Store) Remove(h Hash) error {
	err := os.Remove(s.Path(h))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blobstore: %w", err)
	}
	return nil
}

// Prefixes returns the fanout directory names present (two hex digits
// each), for a garbage-collection pass that works one directory at a time.
func (s *Store) Prefixes() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && isHex(e.Name(), 2) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// List returns the hashes stored in fanout directory prefix. Files whose
// names are not addresses are ignored.
func (s *Store) List(prefix string) ([]Hash, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, prefix))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	out := make([]Hash, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		h, err := ParseHash(prefix + e.Name())
		if err != nil {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// Count returns the number of stored bodies.
func (s *Store) Count() (int, error) {
	ps, err := s.Prefixes()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		hs, err := s.List(p)
		if err != nil {
			return 0, err
		}
		n += len(hs)
	}
	return n, nil
}

// CleanTemp removes temporary files older than age: leftovers of a crash
// during Put. The age guard spares a Put in progress in another process.
func (s *Store) CleanTemp(age time.Duration) error {
	dir := filepath.Join(s.dir, tmpDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	cutoff := time.Now().Add(-age)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "put-") {
			continue
		}
		fi, err := e.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

var _ io.ReaderAt = (*Body)(nil)
