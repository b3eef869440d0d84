// Package mailio reads and writes mail in the formats other mail software
// keeps on disk: mbox files (mboxrd, reading mboxo too) and Maildir
// folders, alone or as a Maildir++ tree with Dovecot's keyword files. It
// is what `casier import` and `casier export` use; it knows nothing of the
// store.
//
// Invariants:
//   - Readers stream: one message at a time is held in memory, bounded by
//     a maximum size (a larger message is reported as TooBig, not read).
//   - Messages come out in IMAP form: every bare LF becomes CRLF (RFC 5322
//     2.3, RFC 9051 2.3.4 count octets of CRLF text); nothing else in the
//     bytes changes. Writers store the bytes they are given (Maildir) or
//     with CRLF turned into the mbox convention of LF (mbox).
//   - Folder names are Casier names: UTF-8, levels separated by '/'.
package mailio

import (
	"bytes"
	"time"
)

// Message is one message read from a mailbox file or folder.
type Message struct {
	Body  []byte   // the message with CRLF line ends; nil when TooBig
	Flags []string // IMAP system flags (`\Seen`...) and keywords
	// Date is the internal date (RFC 9051 2.3.3): from the mbox From_
	// line, or the Maildir file name's timestamp, else the file's mtime.
	// Zero when unknown.
	Date time.Time
	// TooBig reports a message over the reader's size limit; Size is its
	// size so far.
	TooBig bool
	Size   int64
}

// toCRLF appends line to dst with a bare LF ending turned into CRLF. Only
// the line's own ending is looked at: callers feed one line at a time.
func toCRLF(dst, line []byte) []byte {
	n := len(line)
	if n > 0 && line[n-1] == '\n' && (n < 2 || line[n-2] != '\r') {
		dst = append(dst, line[:n-1]...)
		return append(dst, '\r', '\n')
	}
	return append(dst, line...)
}

// ToCRLF returns b with every bare LF turned into CRLF; b itself when it
// has none.
func ToCRLF(b []byte) []byte {
	bare := false
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		if i == 0 || b[i-1] != '\r' {
			bare = true
			break
		}
		j := bytes.IndexByte(b[i+1:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	if !bare {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/32+2)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(out, b...)
		}
		out = toCRLF(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}
