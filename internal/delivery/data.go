package delivery

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// errSpool wraps failures to keep the message (temporary file), as
// opposed to failures to read it from the client.
var errSpool = errors.New("spool")

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
// extensions of the read deadline.
const refreshEvery = 64 << 10

// readData reads message data up to the end-of-data line and writes it,
// dot-unstuffed (RFC 5321 4.5.2), to w. Only CRLF "." CRLF ends the data
// (RFC 5321 4.1.1.4): a "." line after a bare LF is content, so that the
// end cannot be smuggled with other line endings. Line endings are kept as
// sent. Past max octets nothing more is written but the data is still read
// to its end, and tooBig is true. n counts every octet of content, kept or
// not. refresh is called every refreshEvery octets (to extend the read
// deadline). An error from w is returned (after reading to the end, so the
// connection stays in step); an error from r means the connection is gone.
func readData(r *bufio.Reader, w io.Writer, max int64, refresh func()) (n int64, tooBig bool, err error) {
	lineStart := true // the next octet begins a line (after CRLF)
	prevCR := false   // the last octet read was CR
	var werr error
	var sinceRefresh int64
	for {
		chunk, rerr := r.ReadSlice('\n')
		if rerr != nil && !errors.Is(rerr, bufio.ErrBufferFull) {
			if rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF
			}
			return n, tooBig, rerr
		}
		// chunk is never empty: ReadSlice returns a full buffer or a line.
		full := rerr == nil // chunk ends with '\n'
		if lineStart && full && string(chunk) == ".\r\n" {
			break
		}
		crlf := false
		if full {
			if len(chunk) >= 2 {
				crlf = chunk[len(chunk)-2] == '\r'
			} else {
				crlf = prevCR // the CR ended the previous piece of a long line
			}
		}
		prevCR = chunk[len(chunk)-1] == '\r'
		if lineStart && chunk[0] == '.' {
			chunk = chunk[1:]
		}
		lineStart = crlf
		n += int64(len(chunk))
		if n > max {
			tooBig = true
		}
		if !tooBig && werr == nil {
			_, werr = w.Write(chunk)
		}
		if sinceRefresh += int64(len(chunk)); sinceRefresh >= refreshEvery {
			sinceRefresh = 0
			if refresh != nil {
				refresh()
			}
		}
	}
	return n, tooBig, werr
}
