package imapwire

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxQuoted is the longest string sent quoted; longer ones go as literals,
// which clients handle without line-length trouble.
const maxQuoted = 1024

// Writer writes responses. Errors are sticky: after the first failed write
// nothing more is written and CRLF/Flush/Err return that error.
type Writer struct {
	// UTF8 is set after ENABLE UTF8=ACCEPT or IMAP4rev2: mailbox names go
	// out in UTF-8 and quoted strings may hold UTF-8 (RFC 9051, RFC 6855).
	UTF8 bool

	bw  *bufio.Writer
	err error
	num [20]byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w *bufio.Writer) *Writer { return &Writer{bw: w} }

// Err returns the first write error, if any.
func (w *Writer) Err() error { return w.err }

func (w *Writer) ws(s string) *Writer {
	if w.err == nil {
		_, w.err = w.bw.WriteString(s)
	}
	return w
}

func (w *Writer) wb(b []byte) *Writer {
	if w.err == nil {
		_, w.err = w.bw.Write(b)
	}
	return w
}

func (w *Writer) wc(c byte) *Writer {
	if w.err == nil {
		w.err = w.bw.WriteByte(c)
	}
	return w
}

// Untagged starts an untagged response: "* ".
func (w *Writer) Untagged() *Writer { return w.ws("* ") }

// Tagged starts a tagged response: "tag ".
func (w *Writer) Tagged(tag string) *Writer { return w.ws(tag).wc(' ') }

// Continuation writes "+ text" CRLF and flushes (RFC 9051 7.6).
func (w *Writer) Continuation(text string) error {
	w.ws("+ ").ws(cleanText(text))
	if err := w.CRLF(); err != nil {
		return err
	}
	return w.Flush()
}

// Atom writes s as is (atoms, response names, "BODY[1]<0>"...).
func (w *Writer) Atom(s string) *Writer { return w.ws(s) }

// SP writes a space.
func (w *Writer) SP() *Writer { return w.wc(' ') }

// Number writes a decimal number.
func (w *Writer) Number(n uint32) *Writer { return w.Number64(uint64(n)) }

// Number64 writes a decimal number.
func (w *Writer) Number64(n uint64) *Writer {
	return w.wb(strconv.AppendUint(w.num[:0], n, 10))
}

// canQuote tells whether s can be sent as a quoted string: no CR, LF or NUL;
// 8-bit only as valid UTF-8 and only when UTF-8 was enabled.
func (w *Writer) canQuote(s string) bool {
	if len(s) > maxQuoted {
		return false
	}
	eight := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\n' || c == 0:
			return false
		case c >= 0x80:
			eight = true
		}
	}
	return !eight || (w.UTF8 && utf8.ValidString(s))
}

// String writes s quoted when it can be, else as a literal.
func (w *Writer) String(s string) *Writer {
	if w.canQuote(s) {
		return w.quoted(s)
	}
	return w.ws("{").Number64(uint64(len(s))).ws("}\r\n").ws(s)
}

func (w *Writer) quoted(s string) *Writer {
	if !strings.ContainsAny(s, `"\`) {
		return w.wc('"').ws(s).wc('"')
	}
	return w.wb(appendQuoted(nil, s))
}

// NString writes NIL for "" and a string otherwise.
func (w *Writer) NString(s string) *Writer {
	if s == "" {
		return w.ws("NIL")
	}
	return w.String(s)
}

// Mailbox writes a mailbox name: the atom INBOX, else a quoted string (or a
// literal), in modified UTF-7 unless UTF8 is set (RFC 9051 5.1, RFC 3501
// 5.1.3). Names are always quoted, as Dovecot does, which every client
// reads.
func (w *Writer) Mailbox(name string) *Writer {
	if name == "INBOX" {
		return w.ws("INBOX")
	}
	if !w.UTF8 {
		name = EncodeMailboxUTF7(name)
	}
	return w.String(name)
}

// Literal writes {n} CRLF and the bytes of b.
func (w *Writer) Literal(b []byte) *Writer {
	return w.ws("{").Number64(uint64(len(b))).ws("}\r\n").wb(b)
}

// Literal8 writes ~{n} CRLF and the bytes of b (RFC 3516 literal8).
func (w *Writer) Literal8(b []byte) *Writer {
	return w.ws("~{").Number64(uint64(len(b))).ws("}\r\n").wb(b)
}

// LiteralFrom writes {n} CRLF and streams n bytes from r. If r ends early
// the error is io.ErrUnexpectedEOF and the connection must be closed.
func (w *Writer) LiteralFrom(r io.Reader, n int64) *Writer {
	return w.ws("{").Number64(uint64(n)).ws("}\r\n").copyN(r, n)
}

// Literal8From is LiteralFrom for a literal8 (~{n}, RFC 3516).
func (w *Writer) Literal8From(r io.Reader, n int64) *Writer {
	return w.ws("~{").Number64(uint64(n)).ws("}\r\n").copyN(r, n)
}

func (w *Writer) copyN(r io.Reader, n int64) *Writer {
	if w.err != nil {
		return w
	}
	m, err := io.CopyN(w.bw, r, n)
	if err == io.EOF && m < n {
		err = io.ErrUnexpectedEOF
	}
	w.err = err
	return w
}

// Open writes "(".
func (w *Writer) Open() *Writer { return w.wc('(') }

// Close writes ")".
func (w *Writer) Close() *Writer { return w.wc(')') }

// Flags writes "(" flags separated by spaces ")"; flags are atoms.
func (w *Writer) Flags(flags []string) *Writer {
	w.wc('(')
	for i, f := range flags {
		if i > 0 {
			w.wc(' ')
		}
		w.ws(f)
	}
	return w.wc(')')
}

// DateTime writes a quoted date-time, "_2-Jan-2006 15:04:05 -0700" (RFC 9051
// 9 date-time with date-day-fixed).
func (w *Writer) DateTime(t time.Time) *Writer {
	return w.wc('"').ws(formatDateTime(t)).wc('"')
}

// CRLF ends the response line and returns the first error so far.
func (w *Writer) CRLF() error {
	w.ws("\r\n")
	return w.err
}

// Flush sends what is buffered.
func (w *Writer) Flush() error {
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	return w.err
}

// defaultStatusText is used when Status gets no text: resp-text needs one
// in RFC 3501 (text = 1*TEXT-CHAR) and a space after the code in RFC 9051.
var defaultStatusText = map[string]string{
	"OK": "done", "NO": "failed", "BAD": "error", "BYE": "closing", "PREAUTH": "ready",
}

// Status writes a status response body: kind ["[" code "]"] text, e.g.
// `OK [READ-WRITE] SELECT completed` (no CRLF). CR, LF and NUL in code or
// text become spaces so that nothing can end the line early.
func (w *Writer) Status(kind, code, text string) *Writer {
	w.ws(kind).wc(' ')
	if code != "" {
		w.wc('[').ws(cleanText(code)).ws("] ")
	}
	if text == "" {
		text = defaultStatusText[strings.ToUpper(kind)]
		if text == "" {
			text = "done"
		}
	}
	return w.ws(cleanText(text))
}

// cleanText replaces CR, LF and NUL by spaces.
func cleanText(s string) string {
	if !strings.ContainsAny(s, "\r\n\x00") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, s)
}
