package search

import (
	"bytes"
	"errors"

	"github.com/casier/casier/internal/message"
)

// errNoBody is returned when a key needs the message and no loader was given.
var errNoBody = errors.New("search: message body not available")

// maxPartDepth bounds the walk of the MIME tree (the parser bounds it too;
// this keeps a corrupt model from recursing without end).
const maxPartDepth = 100

// matchBody implements BODY and the body half of TEXT: the string occurs in
// the decoded text of some text part, or in the header of an attached
// message (which is body text of the enclosing message), at any depth
// (RFC 9051 6.4.4).
func (c *evalCtx) matchBody(needle string) (bool, error) {
	if err := c.loadBody(); err != nil {
		return false, err
	}
	for _, t := range c.bodyTexts {
		if t.contains(needle) {
			return true, nil
		}
	}
	return false, nil
}

// matchPartHeaders is the MIME-header third of TEXT: the string occurs in
// the header of some body part, at any depth. The body is loaded if needed.
func (c *evalCtx) matchPartHeaders(needle string) (bool, error) {
	if err := c.loadBody(); err != nil {
		return false, err
	}
	if len(c.partHdrs) < len(c.partHdrRaw) {
		// Folded on first use: a BODY-only search never pays for it.
		for _, h := range c.partHdrRaw[len(c.partHdrs):] {
			c.partHdrs = append(c.partHdrs, headerText(h))
		}
	}
	for _, t := range c.partHdrs {
		if t.contains(needle) {
			return true, nil
		}
	}
	return false, nil
}

// loadBody reads the message once and prepares the comparison text of each
// searchable part.
func (c *evalCtx) loadBody() error {
	if c.bodyLoaded {
		return nil
	}
	if c.m.Body == nil {
		return errNoBody
	}
	raw, err := c.m.Body()
	if err != nil {
		return err
	}
	c.bodyLoaded = true
	if p := c.m.Record.Parsed; p != nil && p.Root != nil {
		c.collect(raw, p.Root, 0)
		return nil
	}
	// No model: search everything after the header as one text.
	start := len(c.m.Record.Header)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); start == 0 && i >= 0 {
		start = i + 4
	}
	if start <= len(raw) {
		c.bodyTexts = append(c.bodyTexts, makeSeg(raw[start:]))
	}
	return nil
}

// collect appends the searchable texts of part p and its descendants.
func (c *evalCtx) collect(raw []byte, p *message.Part, depth int) {
	if p == nil || depth > maxPartDepth {
		return
	}
	switch {
	case p.IsMultipart():
		for _, ch := range p.Parts {
			// The MIME header of each child (Content-Type, a file name in
			// Content-Disposition...) is searched by TEXT, not by BODY:
			// RFC 9051 6.4.4 TEXT covers "the header or body", and the
			// part headers are neither the body text nor the top-level
			// header. Dovecot matches them the same way.
			if hdr, ok := span(raw, ch.HeaderStart, ch.BodyStart); ok && len(hdr) > 0 {
				c.partHdrRaw = append(c.partHdrRaw, hdr)
			}
			c.collect(raw, ch, depth+1)
		}
	case p.Message != nil:
		m := p.Message
		if hdr, ok := span(raw, m.HeaderStart, m.BodyStart); ok {
			c.bodyTexts = append(c.bodyTexts, headerText(hdr))
		}
		c.collect(raw, m, depth+1)
	case p.Type == "text", p.Type == "message":
		// message/* without an encapsulated message (delivery-status,
		// disposition-notification, ...) is text as well.
		if _, ok := span(raw, p.BodyStart, p.BodyEnd); !ok {
			return
		}
		txt, ok := partText(raw, p)
		if !ok {
			return // an undecodable part matches nothing
		}
		c.bodyTexts = append(c.bodyTexts, makeSeg(txt))
	}
}

// span returns raw[a:b] when the offsets fit raw.
func span(raw []byte, a, b int64) ([]byte, bool) {
	if a < 0 || b < a || b > int64(len(raw)) {
		return nil, false
	}
	return raw[a:b], true
}
