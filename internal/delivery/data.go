package delivery

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/emersion/go-smtp"
)

// errSpool wraps failures to keep the message (temporary file), as
// opposed to failures to read it from the client.
var errSpool = errors.New("spool")

// errTooBig reports a message larger than the SIZE limit.
var errTooBig = errors.New("message too big")

// spool holds one message: in memory up to a limit, then in a temporary
// file, so a large message is never held in memory while the store reads
// it for each recipient.
type spool struct {
	limit int64
	dir   string
	mem   []byte
	f     *os.File
	size  int64
}

func newSpool(limit int64, dir string) *spool { return &spool{limit: limit, dir: dir} }

func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && int64(len(s.mem)+len(p)) > s.limit {
		f, err := os.CreateTemp(s.dir, "lmtp-*")
		if err != nil {
			return 0, fmt.Errorf("%w: %v", errSpool, err)
		}
		s.f = f
		if _, err := f.Write(s.mem); err != nil {
			return 0, fmt.Errorf("%w: %v", errSpool, err)
		}
		s.mem = nil
	}
	if s.f != nil {
		n, err := s.f.Write(p)
		s.size += int64(n)
		if err != nil {
			err = fmt.Errorf("%w: %v", errSpool, err)
		}
		return n, err
	}
	s.mem = append(s.mem, p...)
	s.size += int64(len(p))
	return len(p), nil
}

// Size is the number of octets written.
func (s *spool) Size() int64 { return s.size }

// Reader returns a reader over the whole message; each call starts anew,
// so each recipient reads its own copy.
func (s *spool) Reader() io.Reader {
	if s.f != nil {
		return io.NewSectionReader(s.f, 0, s.size)
	}
	return bytes.NewReader(s.mem)
}

// Close removes the temporary file, if any.
func (s *spool) Close() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
		s.f = nil
	}
	s.mem = nil
}

// refreshEvery is how many octets of message data may arrive between two
// extensions of the read deadline: go-smtp sets it once per command line,
// and a large message may take longer than Options.Timeout to arrive.
const refreshEvery = 64 << 10

// receive copies the message, as go-smtp's reader gives it (dot-unstuffed,
// line endings untouched), into sp. It returns the number of octets read
// and errTooBig past max octets (the rest is then not kept; go-smtp's own
// limit, one octet over max, usually stops the reading there), an errSpool
// error when the message could not be kept (the message is still read to
// its end, so that the connection stays in step), or the reader's error
// (the connection is gone, or a line is too long). refresh, when not nil,
// is called every refreshEvery octets.
func receive(r io.Reader, sp *spool, max int64, refresh func()) (n int64, err error) {
	buf := make([]byte, 32<<10)
	var werr error
	tooBig := false
	var since int64
	for {
		m, rerr := r.Read(buf)
		if m > 0 {
			n += int64(m)
			if n > max {
				tooBig = true
			}
			if !tooBig && werr == nil {
				_, werr = sp.Write(buf[:m])
			}
			if since += int64(m); since >= refreshEvery && refresh != nil {
				since = 0
				refresh()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr == smtp.ErrDataTooLarge {
			tooBig = true
			break
		}
		if rerr != nil {
			return n, rerr
		}
	}
	if tooBig {
		return n, errTooBig
	}
	return n, werr
}
