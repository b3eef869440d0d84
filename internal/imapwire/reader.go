package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
)

// Default limits (see Limits).
const (
	DefaultMaxLineLength  = 64 << 10
	DefaultMaxLiteralSize = 64 << 10
	DefaultMaxMessageSize = 64 << 20
	DefaultMaxAppendSize  = 1 << 30
	DefaultSpillThreshold = 1 << 20
)

// tailKeep is how many bytes of an over-long line are kept to find a literal
// announcement at its end: "~{" + 19 digits + "+}" fits easily.
const tailKeep = 40

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = DefaultMaxLineLength
	}
	if l.MaxLiteralSize <= 0 {
		l.MaxLiteralSize = DefaultMaxLiteralSize
	}
	if l.MaxCommandSize <= 0 {
		l.MaxCommandSize = l.MaxLiteralSize + 1<<20
	}
	if l.SpillThreshold <= 0 {
		l.SpillThreshold = DefaultSpillThreshold
	}
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = DefaultMaxMessageSize
	}
	if l.MaxAppendSize <= 0 {
		l.MaxAppendSize = DefaultMaxAppendSize
		if l.MaxMessageSize > math.MaxInt64-1<<20 {
			l.MaxAppendSize = math.MaxInt64
		} else if m := l.MaxMessageSize + 1<<20; m > l.MaxAppendSize {
			l.MaxAppendSize = m
		}
	}
	return l
}

// bounds returns the largest literal and the largest command for cmd,
// whose head has been parsed (or not: then Name is "" and the general
// bounds apply). APPEND and REPLACE literals are messages (RFC 9051 6.3.12), bounded
// by MaxMessageSize; a MULTIAPPEND (RFC 3502) carries several, so its
// total is bounded separately. "UID APPEND" does not exist: general bounds.
func (l *Limits) bounds(cmd *Command) (literal, command int64) {
	if CarriesMessages(cmd.Name, cmd.UID) {
		return l.MaxMessageSize, l.MaxAppendSize
	}
	return l.MaxLiteralSize, l.MaxCommandSize
}

// Reader reads complete commands from one connection. It is not safe for
// concurrent use.
type Reader struct {
	br   *bufio.Reader
	lim  Limits
	buf  []byte   // current line (at most MaxLineLength+2 bytes)
	tail []byte   // last bytes of an over-long line
	cur  *Command // the command ReadCommand is reading, nil between commands
}

// NewReader returns a Reader reading from r under lim (zero fields take the
// defaults).
func NewReader(r *bufio.Reader, lim Limits) *Reader {
	return &Reader{br: r, lim: lim.withDefaults()}
}

// Buffered returns the number of bytes read from the connection but not yet
// consumed. STARTTLS must refuse to start TLS when it is not zero, or a
// plaintext command injected after STARTTLS would run inside TLS (RFC 9051
// 11.1, the "STARTTLS command injection" attack).
func (r *Reader) Buffered() int { return r.br.Buffered() }

// CommandName returns the name of the command ReadCommand is reading, as
// Command.Name and Command.UID will hold it ("FETCH", true for UID FETCH),
// or "" when no command is being read or its first line could not be
// parsed. A ContinuationFunc calls it to learn which command a literal
// belongs to.
func (r *Reader) CommandName() (name string, uid bool) {
	if r.cur == nil {
		return "", false
	}
	return r.cur.Name, r.cur.UID
}

// segment is a run of command text followed, unless it is the last, by a
// literal whose announcement ("{n}" etc.) has been removed from the text.
type segment struct {
	text []byte
	lit  *Literal
	nul  bool // lit contains a NUL byte (invalid outside literal8)
}

// Args returns a decoder positioned right after the command name. The space
// separating the name from the first argument may be consumed with SP() or
// is skipped by the first token method, so both styles of handler work.
func (c *Command) Args() *Decoder {
	segs := c.segs
	if len(segs) == 0 {
		segs = []segment{{}}
	}
	return &Decoder{segs: segs, start: true}
}

// Close removes the temporary files of spilled literals. It may be called
// more than once.
func (c *Command) Close() {
	for i := range c.segs {
		if l := c.segs[i].lit; l != nil && l.Path != "" {
			os.Remove(l.Path)
		}
	}
}

// Open returns a reader of the literal's content.
func (l *Literal) Open() (io.ReadCloser, error) {
	if l.Path != "" {
		return os.Open(l.Path)
	}
	return io.NopCloser(bytes.NewReader(l.Data)), nil
}

// ReadLine reads one raw line without its CRLF (IDLE's DONE, AUTHENTICATE
// responses). A line longer than MaxLineLength is consumed and reported as a
// non-fatal *CommandError.
func (r *Reader) ReadLine() ([]byte, error) {
	line, _, tooLong, err := r.readLine()
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if tooLong {
		return nil, &CommandError{Code: "TOOBIG", Text: "line too long"}
	}
	return append([]byte(nil), line...), nil
}

// readLine reads one line and returns it without CRLF (a bare LF is
// accepted too). A line longer than MaxLineLength is consumed to its end;
// then line holds its first bytes and tail its last ones.
func (r *Reader) readLine() (line, tail []byte, tooLong bool, err error) {
	max := r.lim.MaxLineLength
	r.buf = r.buf[:0]
	r.tail = r.tail[:0]
	for {
		frag, e := r.br.ReadSlice('\n')
		if !tooLong {
			if len(r.buf)+len(frag) <= max+2 {
				r.buf = append(r.buf, frag...)
			} else {
				tooLong = true
				r.tail = append(r.tail, r.buf...)
				r.keepTail()
				if n := max - len(r.buf); n > 0 {
					r.buf = append(r.buf, frag[:n]...)
				}
				r.buf = r.buf[:max]
			}
		}
		if tooLong {
			r.tail = append(r.tail, frag...)
			r.keepTail()
		}
		if e == nil {
			break
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if e == io.EOF && (len(r.buf) > 0 || tooLong) {
			e = io.ErrUnexpectedEOF
		}
		return r.buf, nil, false, e
	}
	if tooLong {
		return r.buf, trimEOL(r.tail), true, nil
	}
	line = trimEOL(r.buf)
	if len(line) > max {
		return line[:max], line, true, nil
	}
	return line, nil, false, nil
}

func (r *Reader) keepTail() {
	if n := len(r.tail); n > tailKeep+2 {
		copy(r.tail, r.tail[n-tailKeep-2:])
		r.tail = r.tail[:tailKeep+2]
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// literalAnn is a literal announcement at the end of a line.
type literalAnn struct {
	size   int64 // math.MaxInt64 when the number does not fit
	sync   bool  // {n}: the client waits for "+"
	binary bool  // ~{n} (RFC 3516 literal8)
	n      int   // length of the announcement text
}

// parseLiteralAnn recognises "{n}", "{n+}", "~{n}" and "~{n+}" at the end of
// line (RFC 9051 4.3, RFC 7888, RFC 3516).
func parseLiteralAnn(line []byte) (literalAnn, bool) {
	i := len(line) - 1
	if i < 0 || line[i] != '}' {
		return literalAnn{}, false
	}
	i--
	a := literalAnn{sync: true}
	if i >= 0 && line[i] == '+' {
		a.sync = false
		i--
	}
	end := i + 1
	for i >= 0 && line[i] >= '0' && line[i] <= '9' {
		i--
	}
	digits := line[i+1 : end]
	if len(digits) == 0 || i < 0 || line[i] != '{' {
		return literalAnn{}, false
	}
	for _, c := range digits {
		d := int64(c - '0')
		if a.size > (math.MaxInt64-d)/10 {
			a.size = math.MaxInt64
			break
		}
		a.size = a.size*10 + d
	}
	if i > 0 && line[i-1] == '~' {
		a.binary = true
		i--
	}
	a.n = len(line) - i
	return a, true
}

// lostAnnouncement tells whether tail, the end of an over-long line, ends
// like a literal announcement whose start was not kept.
func lostAnnouncement(tail []byte) bool {
	i := len(tail) - 1
	if i < 0 || tail[i] != '}' {
		return false
	}
	i--
	if i >= 0 && tail[i] == '+' {
		i--
	}
	for i >= 0 && isDigit(tail[i]) {
		i--
	}
	return i < 0
}

// ReadCommand reads one complete command: the tagged line and all its
// literals. It calls cont before each literal (see ContinuationFunc); a nil
// cont accepts every literal without writing anything.
//
// io.EOF and other read errors are returned as is, and so is an error of
// cont other than ErrContinuationRefused or a *CommandError (a write error:
// the connection is gone). A malformed command or a limit gives a
// *CommandError; unless it is Fatal the reader is then at the start of the
// next command: the rest of the command is consumed, non-synchronizing
// literals included, and a synchronizing literal is never answered with "+"
// (the client gives up on the command when it sees the tagged response).
// Empty lines between commands are ignored.
func (r *Reader) ReadCommand(cont ContinuationFunc) (*Command, error) {
	cmd := &Command{}
	r.cur = cmd
	defer func() { r.cur = nil }()
	var (
		perr  *CommandError // the command is bad: consume the rest, then return perr
		tag   string
		total int64
		first = true
	)
	fail := func(err error) (*Command, error) {
		cmd.Close()
		return nil, err
	}
	for {
		line, tail, tooLong, err := r.readLine()
		if err != nil {
			if err == io.EOF && !first {
				err = io.ErrUnexpectedEOF
			}
			return fail(err)
		}
		if first && len(line) == 0 && !tooLong {
			continue
		}
		var ann literalAnn
		var hasLit bool
		if tooLong {
			ann, hasLit = parseLiteralAnn(tail)
		} else {
			ann, hasLit = parseLiteralAnn(line)
		}
		text := line
		if hasLit && !tooLong {
			text = line[:len(line)-ann.n]
		}
		if first {
			first = false
			var rest []byte
			var cerr *CommandError
			tag, rest, cerr = cmd.parseHead(text, hasLit, tooLong)
			if cerr != nil {
				perr = cerr
			}
			text = rest
		}
		if tooLong && !hasLit && lostAnnouncement(tail) {
			// The kept tail ends in "<digits>}" whose "{" is gone: a literal
			// may follow, or not. The stream cannot be resynchronised.
			return fail(&CommandError{Tag: tag, Code: "TOOBIG", Text: "command line too long", Fatal: true})
		}
		total += int64(len(line)) + 2
		maxLit, maxCmd := r.lim.bounds(cmd)
		if tooLong && perr == nil {
			perr = &CommandError{Tag: tag, Code: "TOOBIG", Text: "command line too long"}
		}
		if perr == nil && total > maxCmd {
			perr = &CommandError{Tag: tag, Code: "TOOBIG", Text: "command too long"}
		}
		if !hasLit {
			if perr != nil {
				return fail(perr)
			}
			cmd.segs = append(cmd.segs, segment{text: bytes.Clone(text)})
			return cmd, nil
		}
		if ann.size > maxLit {
			if ann.sync {
				// The client waits for "+" and never sends the literal.
				if perr != nil {
					return fail(perr)
				}
				return fail(&CommandError{Tag: tag, Code: "TOOBIG", Text: "literal too large", No: true})
			}
			// RFC 7888 4: the octets are on their way; rather than reading
			// an unbounded amount, give up on the connection.
			return fail(&CommandError{Tag: tag, Code: "TOOBIG", Text: "non-synchronizing literal too large", Fatal: true})
		}
		if perr == nil && total+ann.size > maxCmd {
			if ann.sync {
				return fail(&CommandError{Tag: tag, Code: "TOOBIG", Text: "command too long", No: true})
			}
			perr = &CommandError{Tag: tag, Code: "TOOBIG", Text: "command too long"}
		}
		if perr == nil && cont != nil {
			if err := cont(tag, ann.size, ann.sync); err != nil {
				ce, ok := refusal(err, tag, ann.sync)
				if !ok {
					return fail(err)
				}
				if ann.sync || ce.Fatal {
					return fail(ce)
				}
				perr = ce
			}
		}
		if perr != nil {
			if ann.sync {
				return fail(perr)
			}
			// RFC 7888 4: a refused non-synchronizing literal is still sent;
			// skip it and the rest of the command.
			if err := r.discard(ann.size); err != nil {
				return fail(err)
			}
			continue
		}
		lit, nul, err := r.readLiteral(ann)
		if err != nil {
			var ce *CommandError
			if errors.As(err, &ce) {
				ce.Tag = tag
				perr = ce
				continue
			}
			return fail(err)
		}
		total += ann.size
		cmd.segs = append(cmd.segs, segment{text: bytes.Clone(text), lit: lit, nul: nul})
	}
}

// refusal turns the error of a ContinuationFunc into the CommandError to
// return; ok is false for other errors (I/O), which are returned as is.
func refusal(err error, tag string, sync bool) (*CommandError, bool) {
	var ce *CommandError
	if errors.As(err, &ce) {
		c := *ce
		c.Tag = tag
		return &c, true
	}
	if errors.Is(err, ErrContinuationRefused) {
		if sync {
			return &CommandError{Tag: tag, Text: "literal refused", No: true}, true
		}
		return &CommandError{Tag: tag, Code: "TOOBIG", Text: "non-synchronizing literal refused"}, true
	}
	return nil, false
}

// parseHead reads "tag SP name [SP UID-name]" from the first line and returns
// the tag and the rest of the text (starting with SP, or empty). The tag is
// returned even when the rest is bad, so the error can be tagged.
func (cmd *Command) parseHead(text []byte, hasLit, tooLong bool) (string, []byte, *CommandError) {
	i := 0
	for i < len(text) && isTagChar(text[i]) {
		i++
	}
	if i == 0 || (i < len(text) && text[i] != ' ') {
		return "", nil, &CommandError{Text: "invalid tag"}
	}
	tag := string(text[:i])
	if tooLong {
		// Only the tag matters: the caller reports the line as too long.
		if i == len(text) {
			return "", nil, nil // where the tag ends is unknown
		}
		return tag, nil, nil
	}
	if i == len(text) {
		return tag, nil, &CommandError{Tag: tag, Text: "missing command name"}
	}
	cmd.Tag = tag
	rest := text[i:]
	name, rest := cutName(rest)
	if name == "" {
		return tag, nil, &CommandError{Tag: tag, Text: "missing or invalid command name"}
	}
	if name == "UID" {
		name, rest = cutName(rest)
		if name == "" {
			return tag, nil, &CommandError{Tag: tag, Text: "missing or invalid command name after UID"}
		}
		cmd.UID = true
	}
	cmd.Name = name
	if len(rest) > 0 && rest[0] != ' ' {
		return tag, nil, &CommandError{Tag: tag, Text: "invalid command name"}
	}
	if len(rest) == 0 && hasLit {
		return tag, nil, &CommandError{Tag: tag, Text: "missing space before literal"}
	}
	return tag, rest, nil
}

// cutName reads SP atom from b and returns the atom upper-cased.
func cutName(b []byte) (string, []byte) {
	if len(b) == 0 || b[0] != ' ' {
		return "", b
	}
	i := 1
	for i < len(b) && isAtomChar(b[i]) {
		i++
	}
	if i == 1 {
		return "", b
	}
	return upperASCII(string(b[1:i])), b[i:]
}

// discard skips n bytes of input.
func (r *Reader) discard(n int64) error {
	for n > 0 {
		chunk := n
		if chunk > 1<<30 {
			chunk = 1 << 30
		}
		d, err := r.br.Discard(int(chunk))
		n -= int64(d)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// readLiteral reads the octets of a literal, in memory or, when larger than
// SpillThreshold, into a temporary file so that no large literal is held in
// memory. A failure to create the file is a *CommandError (NO) after the
// octets have been consumed.
func (r *Reader) readLiteral(a literalAnn) (*Literal, bool, error) {
	lit := &Literal{Size: a.size, Binary: a.binary}
	if a.size <= r.lim.SpillThreshold {
		lit.Data = make([]byte, a.size)
		if _, err := io.ReadFull(r.br, lit.Data); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, false, err
		}
		return lit, bytes.IndexByte(lit.Data, 0) >= 0, nil
	}
	f, err := os.CreateTemp(r.lim.TempDir, "casier-literal-*")
	if err != nil {
		if derr := r.discard(a.size); derr != nil {
			return nil, false, derr
		}
		return nil, false, &CommandError{Code: "SERVERBUG", Text: "cannot store literal", No: true}
	}
	lit.Path = f.Name()
	sw := &spillWriter{f: f}
	_, err = io.CopyN(sw, r.br, a.size)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		os.Remove(lit.Path)
		if err == io.EOF {
			return nil, false, io.ErrUnexpectedEOF
		}
		if sw.werr != nil {
			// Disk trouble: the rest of the literal is still coming.
			copied := sw.n
			if derr := r.discard(a.size - copied); derr != nil {
				return nil, false, derr
			}
			return nil, false, &CommandError{Code: "SERVERBUG", Text: "cannot store literal", No: true}
		}
		return nil, false, err
	}
	return lit, sw.nul, nil
}

// spillWriter writes a literal to its file, noting NUL bytes and write
// errors (as opposed to read errors of the connection).
type spillWriter struct {
	f    *os.File
	n    int64
	nul  bool
	werr error
}

func (w *spillWriter) Write(p []byte) (int, error) {
	if !w.nul && bytes.IndexByte(p, 0) >= 0 {
		w.nul = true
	}
	n, err := w.f.Write(p)
	w.n += int64(len(p)) // the bytes were consumed from the connection
	if err != nil {
		w.werr = err
	}
	return n, err
}

// CarriesMessages reports whether literals of the command are messages
// (bounded by MaxMessageSize, not MaxLiteralSize): APPEND (RFC 9051
// 6.3.12) and REPLACE and UID REPLACE (RFC 8508).
func CarriesMessages(name string, uid bool) bool {
	return name == "APPEND" && !uid || name == "REPLACE"
}
