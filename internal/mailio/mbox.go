package mailio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotMbox reports a file that does not start with a From_ line.
var ErrNotMbox = errors.New("mailio: not an mbox file (no \"From \" line at the start)")

// MboxReader splits an mbox file into messages, streaming.
//
// A message starts at a From_ line: a line beginning with "From " that
// carries an asctime date, at the start of the file or after an empty
// line. The empty line before a From_ line (and at the end of the file)
// is the separator, not part of the message. Lines matching ">+From " lose
// one '>' (mboxrd; for mboxo files only ">From " lines were escaped, which
// this unescapes the same way). Status, X-Status and X-Keywords header
// fields, written by mutt, Thunderbird and Dovecot, give the flags; they
// stay in the message.
type MboxReader struct {
	r       *bufio.Reader
	max     int64
	line    []byte // the current line, when longer than the buffer
	started bool
	pending []byte // a From_ line read ahead: starts the next message
	eof     bool
}

// NewMboxReader returns a reader of r; messages over maxSize bytes (in
// CRLF form) are reported TooBig.
func NewMboxReader(r io.Reader, maxSize int64) *MboxReader {
	return &MboxReader{r: bufio.NewReaderSize(r, 64<<10), max: maxSize}
}

// readLine returns the next line with its ending ("" ending at EOF). The
// slice is valid until the next call.
func (m *MboxReader) readLine() ([]byte, error) {
	l, err := m.r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return l, err
	}
	m.line = append(m.line[:0], l...)
	for err == bufio.ErrBufferFull {
		l, err = m.r.ReadSlice('\n')
		m.line = append(m.line, l...)
	}
	return m.line, err
}

// Next returns the next message, or io.EOF after the last one.
func (m *MboxReader) Next() (*Message, error) {
	if !m.started {
		m.started = true
		l, err := m.readLine()
		if len(l) == 0 && err == io.EOF {
			m.eof = true
			return nil, io.EOF // an empty file is an empty mailbox
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if !bytes.HasPrefix(l, []byte("From ")) {
			return nil, ErrNotMbox
		}
		m.pending = append([]byte(nil), l...)
		m.eof = err == io.EOF
	}
	if m.pending == nil {
		return nil, io.EOF
	}
	msg := &Message{Date: fromLineDate(m.pending)}
	m.pending = nil
	var (
		body     []byte
		size     int64
		inHeader = true
		lastLen  = -1 // length of body before the last line, if that line was empty
		flags    mboxFlags
	)
	for !m.eof {
		l, err := m.readLine()
		if err != nil && err != io.EOF {
			return nil, err
		}
		m.eof = err == io.EOF
		if len(l) == 0 {
			break
		}
		if lastLen >= 0 && isFromLine(l) {
			m.pending = append(m.pending[:0], l...)
			break
		}
		empty := isEmptyLine(l)
		if inHeader {
			if empty {
				inHeader = false
			} else {
				flags.header(l)
			}
		}
		if bytes.HasPrefix(l, []byte(">")) && bytes.HasPrefix(bytes.TrimLeft(l, ">"), []byte("From ")) {
			l = l[1:]
		}
		before := size
		if !msg.TooBig {
			body = toCRLF(body, l)
			size = int64(len(body))
			if size > m.max {
				msg.TooBig, body = true, nil
			}
		} else {
			size += int64(len(l)) + 1
		}
		lastLen = -1
		if empty {
			lastLen = int(before)
		}
	}
	// The empty line before the next From_ line (or at the end of the
	// file) separates messages.
	if lastLen >= 0 {
		if !msg.TooBig {
			body = body[:lastLen]
		}
		size = int64(lastLen)
	}
	if !msg.TooBig && body == nil {
		body = []byte{}
	}
	msg.Body, msg.Size, msg.Flags = body, size, flags.list()
	return msg, nil
}

func isEmptyLine(l []byte) bool {
	return len(l) == 1 && l[0] == '\n' || len(l) == 2 && l[0] == '\r' && l[1] == '\n'
}

// isFromLine reports a From_ line: "From " then a sender and an asctime
// date. Requiring the date keeps an unescaped "From " line of a sloppy
// mboxo writer, after an empty line, inside the message.
func isFromLine(l []byte) bool {
	return bytes.HasPrefix(l, []byte("From ")) && !fromLineDate(l).IsZero()
}

// fromLayouts are the date forms seen on From_ lines, after the sender:
// asctime (ctime(3)), optionally with a zone before or after the year.
var fromLayouts = []string{
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 2006 -0700",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04 2006",
}

// fromLineDate parses the date of a From_ line; asctime has no zone, and
// is read as UTC (what MboxWriter writes). Zero if there is none.
func fromLineDate(l []byte) time.Time {
	f := strings.Fields(string(l))
	if len(f) < 3 {
		return time.Time{}
	}
	f = f[2:] // "From" and the sender
	for _, n := range []int{5, 6} {
		if len(f) < n {
			continue
		}
		s := strings.Join(f[len(f)-n:], " ")
		for _, layout := range fromLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// mboxFlags collects flags from the header fields mbox writers use.
type mboxFlags struct {
	status, xstatus string
	keywords        []string
	last            string // field of the previous line, for folding
}

func (f *mboxFlags) header(l []byte) {
	s := strings.TrimRight(string(l), "\r\n")
	if s != "" && (s[0] == ' ' || s[0] == '\t') {
		if f.last == "x-keywords" {
			f.keywords = append(f.keywords, splitKeywords(s)...)
		}
		return
	}
	name, val, ok := strings.Cut(s, ":")
	if !ok {
		f.last = ""
		return
	}
	f.last = strings.ToLower(strings.TrimSpace(name))
	switch f.last {
	case "status":
		f.status += val
	case "x-status":
		f.xstatus += val
	case "x-keywords":
		f.keywords = append(f.keywords, splitKeywords(val)...)
	}
}

func splitKeywords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// list maps Status (R: read, O: old) and X-Status (A: answered,
// F: flagged, T: draft, D: deleted) to IMAP flags.
func (f *mboxFlags) list() []string {
	var out []string
	if strings.ContainsRune(f.status, 'R') {
		out = append(out, `\Seen`)
	}
	for _, c := range []struct {
		r    rune
		flag string
	}{{'A', `\Answered`}, {'F', `\Flagged`}, {'T', `\Draft`}, {'D', `\Deleted`}} {
		if strings.ContainsRune(f.xstatus, c.r) {
			out = append(out, c.flag)
		}
	}
	for _, k := range f.keywords {
		if validKeyword(k) {
			out = append(out, k)
		}
	}
	return out
}

// validKeyword reports an IMAP atom that is not a system flag (RFC 9051
// 9: flag-keyword = atom).
func validKeyword(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// MboxWriter writes messages to an mbox file in mboxrd form: a From_ line
// with the internal date (asctime, UTC), the message with CRLF turned into
// LF and every line matching ">*From " given one more '>', a final LF if
// the message had none, and an empty line.
type MboxWriter struct {
	w *bufio.Writer
}

// NewMboxWriter returns a writer to w; call Flush at the end.
func NewMboxWriter(w io.Writer) *MboxWriter {
	return &MboxWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write appends one message.
func (m *MboxWriter) Write(body []byte, date time.Time) error {
	if date.IsZero() {
		date = time.Now()
	}
	fmt.Fprintf(m.w, "From MAILER-DAEMON %s\n", date.UTC().Format("Mon Jan _2 15:04:05 2006"))
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		var l []byte
		if i < 0 {
			l, body = body, nil
		} else {
			l, body = body[:i], body[i+1:]
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if bytes.HasPrefix(bytes.TrimLeft(l, ">"), []byte("From ")) {
			m.w.WriteByte('>')
		}
		m.w.Write(l)
		m.w.WriteByte('\n')
	}
	_, err := m.w.WriteString("\n")
	return err
}

// Flush writes what is buffered.
func (m *MboxWriter) Flush() error { return m.w.Flush() }
