// Package imapwire is Casier's IMAP codec: it turns the bytes of a complete
// client command (line plus literals) into tokens and typed values, and
// writes responses with exact quoting, literals and mailbox-name encoding.
// It performs no I/O policy beyond reading a command under the limits it is
// given, and knows nothing of sessions or storage.
//
// THIS FILE IS THE CONTRACT between imapwire and its users. The
// implementation lives in the other files of the package.
package imapwire

import (
	"errors"
	"time"
)

// Limits bound what ReadCommand accepts. Zero fields take the defaults.
// APPEND (not "UID APPEND") has its own literal and command bounds: its
// literals are messages, spilled to disk, while every other command's
// literals are short strings (a password, a mailbox name, a search string).
type Limits struct {
	MaxLineLength  int   // one line of a command, without literals (default 64 KiB)
	MaxLiteralSize int64 // one literal of a command other than APPEND (default 64 KiB)
	MaxCommandSize int64 // all lines and literals of a command other than APPEND (default MaxLiteralSize + 1 MiB)
	SpillThreshold int64 // literals larger than this go to a temporary file (default 1 MiB)
	TempDir        string

	// Additions (R4): the bounds of APPEND.
	MaxMessageSize int64 // one APPEND literal, i.e. one message (default 64 MiB)
	MaxAppendSize  int64 // all lines and literals of one APPEND, e.g. a MULTIAPPEND (default the larger of 1 GiB and MaxMessageSize + 1 MiB)
}

// Errors of ReadCommand. A *CommandError carries the tag (when it could be
// read) so the server can answer with a tagged BAD/NO; after it the reader
// is positioned at the start of the next command unless Fatal is true, in
// which case the server must send BYE and close.
type CommandError struct {
	Tag   string
	Code  string // response code without brackets, e.g. "TOOBIG", or ""
	Text  string
	Fatal bool
	No    bool // answer NO rather than BAD (e.g. a literal over the size limit)
}

func (e *CommandError) Error() string { return e.Text }

// ErrContinuationRefused may be returned by a ContinuationFunc to refuse a
// synchronizing literal; ReadCommand then returns a *CommandError (No=true).
var ErrContinuationRefused = errors.New("imapwire: literal refused")

// ContinuationFunc is called before reading a synchronizing literal {n}: it
// must send "+ ..." to the client (and flush), or return an error to refuse
// the literal. It is also called, with sync=false, for {n+} and ~{n+}
// literals so the caller can enforce limits early.
type ContinuationFunc func(tag string, size int64, sync bool) error

// Literal is the content of a literal: in memory, or spilled to a file.
type Literal struct {
	Data   []byte // nil when spilled
	Path   string // temp file path when spilled
	Size   int64
	Binary bool // literal8 (~{n})
}

// Open returns a reader of the literal's content (file or memory).
// func (l *Literal) Open() (io.ReadCloser, error)

// Command is one complete command as read from the wire.
type Command struct {
	Tag  string
	Name string // upper-case command name, e.g. "FETCH"; for "UID FETCH" Name is "FETCH" and UID is true
	UID  bool
	// the remaining bytes/literals are read through Args()

	segs []segment // argument text and literals (reader.go)
}

// Reader reads complete commands:
//   func NewReader(r *bufio.Reader, lim Limits) *Reader
//   func (r *Reader) ReadCommand(cont ContinuationFunc) (*Command, error)
//        io.EOF/net errors are returned as is; a malformed line or a limit
//        gives *CommandError.
//   func (r *Reader) ReadLine() ([]byte, error)   // one raw line without CRLF (IDLE's DONE, AUTHENTICATE responses), bounded by MaxLineLength
//   func (r *Reader) CommandName() (name string, uid bool) // (addition) name of the command being read, as in Command.Name; "" until its first line is parsed. A ContinuationFunc uses it to know which command a literal belongs to.
//   func (c *Command) Args() *Decoder              // decoder positioned after the command name
//   func (c *Command) Close()                      // removes spilled literal files
//
// Decoder reads the arguments of a command. Every method returns an error
// of type *SyntaxError describing what was expected.
//   func (d *Decoder) SP() error                     // exactly one space
//   func (d *Decoder) More() bool                    // arguments remain
//   func (d *Decoder) Peek() byte                    // next byte, 0 at end
//   func (d *Decoder) PeekSP() bool                  // next byte is a space (does not consume)
//   func (d *Decoder) End() error                    // no arguments remain
//   func (d *Decoder) Atom() (string, error)         // ATOM-CHARs
//   func (d *Decoder) AString() (string, error)      // atom (incl. ']'), quoted or literal
//   func (d *Decoder) String() (string, error)       // quoted or literal
//   func (d *Decoder) NString() (s string, isNil bool, err error)
//   func (d *Decoder) Number() (uint32, error)       // nz or 0
//   func (d *Decoder) Number64() (uint64, error)
//   func (d *Decoder) Literal() (*Literal, error)    // {n}, {n+}, ~{n}: for APPEND messages
//   func (d *Decoder) List(each func() error) error  // "(" [item *(SP item)] ")": calls each per item
//   func (d *Decoder) Mailbox(utf8 bool) (string, error) // astring, "INBOX" case-folded, modified UTF-7 decoded unless utf8 (then UTF-8 taken as is; RFC 9051 allows both)
//   func (d *Decoder) ListMailbox(utf8 bool) (string, error) // list-mailbox (atom with % * ] allowed, or string), decoded like Mailbox
//   func (d *Decoder) SeqSet() (SeqSet, error)       // sequence-set, including "*" and "$"
//   func (d *Decoder) Flag() (string, error)         // \Seen etc. (canonical case for system flags) or keyword atom
//   func (d *Decoder) FlagList() ([]string, error)   // "(" flags ")" or, for STORE, a bare flag list
//   func (d *Decoder) DateTime() (time.Time, error)  // quoted date-time "dd-Mon-yyyy hh:mm:ss +zzzz"
//   func (d *Decoder) Date() (time.Time, error)      // date (quoted or not) for SEARCH, in UTC midnight
//   func (d *Decoder) FetchItems() ([]FetchItem, error) // macro (ALL/FAST/FULL), single att, or list
//   func (d *Decoder) SearchKeys() ([]SearchKey, error) // the search-key list of SEARCH after CHARSET/RETURN have been handled by the caller: one or more keys ANDed
//
// Writer writes responses (one per connection):
//   func NewWriter(w *bufio.Writer) *Writer
//   w.UTF8 bool                                   // set after ENABLE UTF8=ACCEPT / IMAP4rev2: mailbox names are sent in UTF-8, else modified UTF-7
//   func (w *Writer) Untagged() *Writer           // "* "
//   func (w *Writer) Tagged(tag string) *Writer   // "tag "
//   func (w *Writer) Continuation(text string) error // "+ text\r\n" then Flush
//   func (w *Writer) Atom(s string) *Writer       // written as is
//   func (w *Writer) SP() *Writer
//   func (w *Writer) Number(n uint32) *Writer; Number64(n uint64)
//   func (w *Writer) String(s string) *Writer     // quoted if it can be, literal otherwise (CR, LF, NUL, 8-bit when !UTF8, long)
//   func (w *Writer) NString(s string) *Writer    // NIL for ""
//   func (w *Writer) Mailbox(name string) *Writer // UTF-7 or UTF-8 per w.UTF8, quoted as needed, INBOX as atom
//   func (w *Writer) Literal(b []byte) *Writer    // {n}CRLF + bytes
//   func (w *Writer) Literal8(b []byte) *Writer   // ~{n}CRLF + bytes
//   func (w *Writer) LiteralFrom(r io.Reader, n int64) *Writer // streams n bytes
//   func (w *Writer) Open() *Writer / Close() *Writer // "(" / ")"
//   func (w *Writer) Flags(flags []string) *Writer // "(" flags ")"
//   func (w *Writer) DateTime(t time.Time) *Writer // "dd-Mon-yyyy hh:mm:ss +zzzz" quoted
//   func (w *Writer) CRLF() error                 // ends the response line; returns the first write error so far
//   func (w *Writer) Flush() error
//   func (w *Writer) Status(kind, code, text string) *Writer // "OK [code] text" (code without brackets, may be empty)
//
// Modified UTF-7 (RFC 3501 5.1.3):
//   func EncodeMailboxUTF7(s string) string
//   func DecodeMailboxUTF7(s string) (string, error)

// SyntaxError is a malformed argument.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return e.Msg }

// SeqRange is one range of a sequence set; 0 stands for "*". Start may be
// greater than Stop ("4:2" means 2:4); users normalise with the mailbox size.
type SeqRange struct{ Start, Stop uint32 }

// SeqSet is a parsed sequence-set. Saved is true for "$" (RFC 5182).
type SeqSet struct {
	Ranges []SeqRange
	Saved  bool
}

// Methods on SeqSet (implemented elsewhere):
//   func (s SeqSet) Contains(n, max uint32) bool   // max replaces "*"
//   func (s SeqSet) Expand(max uint32) []uint32    // ascending, deduplicated; only numbers <= max; "*" is max (and 0 if max == 0)
//   func (s SeqSet) String() string
//   func FormatUIDSet(uids []uint32) string         // ascending uids -> compact "1:3,7" form

// Section is a BODY[...]/BINARY[...] section spec (RFC 9051 6.4.5).
type Section struct {
	Path      []int    // part numbers, e.g. 1.2 -> [1 2]
	Specifier string   // "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"
	Fields    []string // header field names for HEADER.FIELDS[.NOT], as sent
}

// Partial is <offset.count>; Count 0 with Set false means absent.
type Partial struct {
	Offset uint32
	Count  uint32
}

// FetchItem is one fetch attribute.
type FetchItem struct {
	Name    string   // upper case: ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID BINARY BINARY.SIZE MODSEQ PREVIEW EMAILID THREADID SAVEDATE; "BODY" with Section!=nil means BODY[...]
	Section *Section // BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...], BINARY.SIZE[...]
	Peek    bool
	Partial *Partial
	Lazy    bool // PREVIEW (LAZY)
}

// SearchKey is one node of a search program. Op is the upper-case key name;
// AND groups a parenthesised list; SEQSET is a bare sequence set.
type SearchKey struct {
	Op     string      // ALL ANSWERED BCC BEFORE BODY CC DELETED DRAFT FLAGGED FROM HEADER KEYWORD LARGER NEW NOT OLD ON OR RECENT SEEN SENTBEFORE SENTON SENTSINCE SINCE SMALLER SUBJECT TEXT TO UID UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD UNSEEN SEQSET AND MODSEQ SAVEDBEFORE SAVEDON SAVEDSINCE SAVEDATESUPPORTED OLDER YOUNGER EMAILID THREADID
	Field  string      // HEADER field name
	Value  string      // string argument (BCC, BODY, HEADER value, KEYWORD, ...)
	Number uint64      // LARGER/SMALLER size, MODSEQ value, OLDER/YOUNGER seconds
	Date   time.Time   // date keys (UTC midnight of the date given)
	Seq    *SeqSet     // SEQSET, UID
	Sub    []SearchKey // NOT (1), OR (2), AND (n)
}
