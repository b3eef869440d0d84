// Package message parses a message once, at delivery, into everything IMAP
// FETCH and SEARCH need without reparsing: the envelope, the MIME tree with
// byte offsets of every part, sizes and line counts, and a short preview.
// The model is IMAP-agnostic data; package imapserver formats it on the wire.
package message

import "time"

// Parsed is the precomputed model of one message. It is stored (JSON) with
// the message's metadata.
type Parsed struct {
	Envelope Envelope  `json:"env"`
	Root     *Part     `json:"root"`
	Date     time.Time `json:"date,omitzero"` // parsed Date: header (zero if absent or invalid), for SORT and SENT* search
	Preview  string    `json:"pv,omitempty"`  // RFC 8970 preview: at most 256 characters of plain text, whitespace collapsed
	ThreadID string    `json:"th,omitempty"`  // reserved for RFC 8474 THREADID
}

// Envelope holds the raw (undecoded, unfolded) header values IMAP's ENVELOPE
// returns; nil/empty means NIL.
type Envelope struct {
	Date      string    `json:"date,omitempty"`
	Subject   string    `json:"subj,omitempty"`
	From      []Address `json:"from,omitempty"`
	Sender    []Address `json:"sender,omitempty"`
	ReplyTo   []Address `json:"rt,omitempty"`
	To        []Address `json:"to,omitempty"`
	Cc        []Address `json:"cc,omitempty"`
	Bcc       []Address `json:"bcc,omitempty"`
	InReplyTo string    `json:"irt,omitempty"`
	MessageID string    `json:"mid,omitempty"`
}

// Address is one IMAP address structure. Group syntax uses the RFC 3501
// convention: a start marker with Mailbox=group name and Host="" and
// GroupStart=true, and an end marker with GroupEnd=true (all fields NIL).
type Address struct {
	Name       string `json:"n,omitempty"` // display name, raw (may contain encoded-words)
	Route      string `json:"r,omitempty"` // obsolete source route
	Mailbox    string `json:"m,omitempty"`
	Host       string `json:"h,omitempty"`
	GroupStart bool   `json:"gs,omitempty"`
	GroupEnd   bool   `json:"ge,omitempty"`
}

// Part is one node of the MIME tree. Offsets are byte positions in the raw
// message: the part's MIME header is raw[HeaderStart:BodyStart] (including
// the blank line) and its body raw[BodyStart:BodyEnd].
type Part struct {
	Type        string      `json:"t"`           // lower case, e.g. "text"
	Subtype     string      `json:"st"`          // lower case, e.g. "plain"
	Params      [][2]string `json:"p,omitempty"` // content-type parameters in order, names lower case, values decoded (RFC 2231)
	ID          string      `json:"id,omitempty"`
	Description string      `json:"d,omitempty"`
	Encoding    string      `json:"e,omitempty"` // Content-Transfer-Encoding, upper case as IMAP shows it; "" means 7BIT
	MD5         string      `json:"md5,omitempty"`
	Disposition string      `json:"disp,omitempty"` // lower case
	DispParams  [][2]string `json:"dp,omitempty"`
	Language    []string    `json:"lang,omitempty"`
	Location    string      `json:"loc,omitempty"`

	HeaderStart int64 `json:"hs"`
	BodyStart   int64 `json:"bs"`
	BodyEnd     int64 `json:"be"`
	Lines       int64 `json:"l,omitempty"`  // body line count (text/* and message/rfc822)
	DecodedSize int64 `json:"ds,omitempty"` // size after undoing Content-Transfer-Encoding (BINARY.SIZE)

	Parts    []*Part   `json:"parts,omitempty"` // multipart children
	Message  *Part     `json:"msg,omitempty"`   // message/rfc822 (and message/global): the encapsulated message's root part
	Envelope *Envelope `json:"menv,omitempty"`  // message/rfc822: the encapsulated message's envelope
}

// Size is the body size in octets, as BODYSTRUCTURE reports it.
func (p *Part) Size() int64 { return p.BodyEnd - p.BodyStart }

// IsMultipart reports whether p has children parts.
func (p *Part) IsMultipart() bool { return p.Type == "multipart" }
