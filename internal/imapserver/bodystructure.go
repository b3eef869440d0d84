package imapserver

import (
	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/message"
)

// This file formats the precomputed message model (package message) as the
// ENVELOPE, BODY and BODYSTRUCTURE fetch items of RFC 9051 7.5.2. Nothing
// here reads the message: the model was built once at delivery.

// writeEnvelope writes an envelope structure (RFC 9051 7.5.2 ENVELOPE):
// (date subject from sender reply-to to cc bcc in-reply-to message-id).
func writeEnvelope(w *imapwire.Writer, env *message.Envelope) {
	if env == nil {
		env = &message.Envelope{}
	}
	w.Open()
	w.NString(env.Date).SP()
	w.NString(env.Subject).SP()
	writeAddressList(w, env.From).SP()
	// RFC 9051 7.5.2: an absent or empty Sender or Reply-To takes the value
	// of From.
	sender, replyTo := env.Sender, env.ReplyTo
	if len(sender) == 0 {
		sender = env.From
	}
	if len(replyTo) == 0 {
		replyTo = env.From
	}
	writeAddressList(w, sender).SP()
	writeAddressList(w, replyTo).SP()
	writeAddressList(w, env.To).SP()
	writeAddressList(w, env.Cc).SP()
	writeAddressList(w, env.Bcc).SP()
	w.NString(env.InReplyTo).SP()
	w.NString(env.MessageID)
	w.Close()
}

// writeAddressList writes "(" 1*address ")" or NIL. Groups use the RFC 9051
// 7.5.2 convention: a start marker (NIL NIL "name" NIL) and an end marker
// (NIL NIL NIL NIL).
func writeAddressList(w *imapwire.Writer, addrs []message.Address) *imapwire.Writer {
	if len(addrs) == 0 {
		return w.Atom("NIL")
	}
	w.Open()
	for i := range addrs {
		a := &addrs[i]
		w.Open()
		switch {
		case a.GroupEnd:
			w.Atom("NIL NIL NIL NIL")
		case a.GroupStart:
			w.Atom("NIL NIL").SP().String(a.Mailbox).SP().Atom("NIL")
		default:
			w.NString(a.Name).SP().NString(a.Route).SP()
			// Outside group syntax neither mailbox nor host may be NIL: a NIL
			// host marks a group (RFC 9051 7.5.2), so a missing part is sent
			// as the empty string.
			w.String(a.Mailbox).SP()
			w.String(a.Host)
		}
		w.Close()
	}
	return w.Close()
}

// writeBodyStructure writes a body structure: BODY (ext=false) or
// BODYSTRUCTURE (ext=true, with the extension data of RFC 9051 7.5.2).
func writeBodyStructure(w *imapwire.Writer, p *message.Part, ext bool) {
	if p == nil {
		p = &message.Part{Type: "text", Subtype: "plain"}
	}
	if p.IsMultipart() {
		writeMultipart(w, p, ext)
		return
	}
	writeSinglePart(w, p, ext)
}

// emptyPart stands in for the children of a multipart that has none:
// body-type-mpart requires at least one body (RFC 9051 9, 1*body).
var emptyPart = &message.Part{Type: "text", Subtype: "plain", Params: [][2]string{{"charset", "us-ascii"}}}

// writeMultipart writes body-type-mpart: 1*body SP media-subtype
// [SP body-ext-mpart]; the children follow one another without spaces.
func writeMultipart(w *imapwire.Writer, p *message.Part, ext bool) {
	w.Open()
	if len(p.Parts) == 0 {
		writeBodyStructure(w, emptyPart, ext)
	}
	for _, c := range p.Parts {
		writeBodyStructure(w, c, ext)
	}
	w.SP().String(p.Subtype)
	if ext {
		// body-ext-mpart = body-fld-param SP body-fld-dsp SP body-fld-lang
		// SP body-fld-loc (all sent, NIL where absent).
		w.SP()
		writeParams(w, p.Params).SP()
		writeDisposition(w, p).SP()
		writeLanguage(w, p.Language).SP()
		w.NString(p.Location)
	}
	w.Close()
}

// writeSinglePart writes body-type-1part: basic, message or text, then
// body-ext-1part when ext.
func writeSinglePart(w *imapwire.Writer, p *message.Part, ext bool) {
	w.Open()
	w.String(p.Type).SP().String(p.Subtype).SP()
	// body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP
	// body-fld-enc SP body-fld-octets
	writeParams(w, p.Params).SP()
	w.NString(p.ID).SP()
	w.NString(p.Description).SP()
	enc := p.Encoding
	if enc == "" {
		enc = "7BIT"
	}
	w.String(enc).SP()
	w.Number64(uint64(max(p.Size(), 0)))
	switch {
	case p.Message != nil:
		// body-type-msg: ... SP envelope SP body SP body-fld-lines
		// (message/rfc822 and message/global, RFC 9051 7.5.2).
		w.SP()
		writeEnvelope(w, p.Envelope)
		w.SP()
		writeBodyStructure(w, p.Message, ext)
		w.SP().Number64(uint64(max(p.Lines, 0)))
	case p.Type == "text":
		// body-type-text: ... SP body-fld-lines
		w.SP().Number64(uint64(max(p.Lines, 0)))
	}
	if ext {
		// body-ext-1part = body-fld-md5 SP body-fld-dsp SP body-fld-lang SP
		// body-fld-loc.
		w.SP().NString(p.MD5).SP()
		writeDisposition(w, p).SP()
		writeLanguage(w, p.Language).SP()
		w.NString(p.Location)
	}
	w.Close()
}

// writeParams writes body-fld-param: "(" string SP string *(SP string SP
// string) ")" or NIL.
func writeParams(w *imapwire.Writer, params [][2]string) *imapwire.Writer {
	if len(params) == 0 {
		return w.Atom("NIL")
	}
	w.Open()
	for i, kv := range params {
		if i > 0 {
			w.SP()
		}
		w.String(kv[0]).SP().String(kv[1])
	}
	return w.Close()
}

// writeDisposition writes body-fld-dsp: "(" string SP body-fld-param ")" or
// NIL.
func writeDisposition(w *imapwire.Writer, p *message.Part) *imapwire.Writer {
	if p.Disposition == "" {
		return w.Atom("NIL")
	}
	w.Open().String(p.Disposition).SP()
	writeParams(w, p.DispParams)
	return w.Close()
}

// writeLanguage writes body-fld-lang: NIL, or a parenthesised list of
// language tags (the list form is valid for one tag too).
func writeLanguage(w *imapwire.Writer, langs []string) *imapwire.Writer {
	if len(langs) == 0 {
		return w.Atom("NIL")
	}
	w.Open()
	for i, l := range langs {
		if i > 0 {
			w.SP()
		}
		w.String(l)
	}
	return w.Close()
}
