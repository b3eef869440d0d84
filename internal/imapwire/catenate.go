package imapwire

// ParseSection parses the text of a section spec as it appears between
// "[" and "]" of BODY[...] (RFC 9051 6.4.5), e.g. "1.2.HEADER.FIELDS
// (From)". IMAP URLs carry it in ;SECTION= (RFC 5092 5), which CATENATE
// and URLFETCH resolve with the FETCH code. The empty string is the whole
// message.
func ParseSection(s string) (*Section, error) {
	d := &Decoder{segs: []segment{{text: []byte("[" + s + "]")}}}
	sec, err := d.section(false)
	if err != nil {
		return nil, err
	}
	if d.More() {
		return nil, syntaxErr("junk after section")
	}
	return sec, nil
}
