package main

// A deliberately tiny IMAP client: enough of RFC 9051 to send commands,
// literals and read whole responses (lines plus server literals). It keeps
// only what the load mix needs: the EXISTS count and the capability list.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// maxLine bounds one response line (without its literals): a server that
// sends more is broken or hostile.
const maxLine = 1 << 20

// errStatus is a tagged NO or BAD.
type errStatus struct{ line string }

func (e *errStatus) Error() string { return "server said: " + e.line }

type client struct {
	conn    net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	tag     int
	timeout time.Duration

	exists  int // last "* n EXISTS" seen
	caps    map[string]bool
	bytesIn int64 // response bytes, literals included
}

func newClient(conn net.Conn, timeout time.Duration) *client {
	return &client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), w: bufio.NewWriterSize(conn, 16<<10), timeout: timeout, caps: map[string]bool{}}
}

// dial connects and reads the greeting (RFC 9051 7.1.1: OK or PREAUTH).
func dial(addr string, timeout time.Duration) (*client, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := newClient(conn, timeout)
	c.deadline()
	line, err := c.readLine()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") && !strings.HasPrefix(line, "* PREAUTH") {
		conn.Close()
		return nil, fmt.Errorf("greeting: %q", line)
	}
	c.untagged(line)
	return c, nil
}

func (c *client) close() error { return c.conn.Close() }

func (c *client) deadline() {
	if c.timeout > 0 {
		c.conn.SetDeadline(time.Now().Add(c.timeout))
	}
}

// quote returns s as an IMAP quoted string (RFC 9051 4.3).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// login authenticates and learns the capabilities.
func (c *client) login(user, pass string) error {
	if _, err := c.run("LOGIN " + quote(user) + " " + quote(pass)); err != nil {
		return err
	}
	_, err := c.run("CAPABILITY")
	return err
}

// run sends one command line and reads its response; it returns the
// tagged status line.
func (c *client) run(cmd string) (string, error) {
	tag := c.next()
	c.deadline()
	c.w.WriteString(tag + " " + cmd + "\r\n")
	if err := c.w.Flush(); err != nil {
		return "", err
	}
	return c.response(tag)
}

// appendMsg sends APPEND with the message as a literal: non-synchronising
// when the server allows it (RFC 7888), else waiting for the continuation.
func (c *client) appendMsg(mailbox string, flags string, msg []byte) (string, error) {
	tag := c.next()
	c.deadline()
	plus := c.caps["LITERAL+"] || (c.caps["LITERAL-"] && len(msg) <= 4096)
	fmt.Fprintf(c.w, "%s APPEND %s", tag, quote(mailbox))
	if flags != "" {
		c.w.WriteString(" (" + flags + ")")
	}
	if plus {
		fmt.Fprintf(c.w, " {%d+}\r\n", len(msg))
	} else {
		fmt.Fprintf(c.w, " {%d}\r\n", len(msg))
		if err := c.w.Flush(); err != nil {
			return "", err
		}
		for {
			line, err := c.readLine()
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(line, "+") {
				break
			}
			if strings.HasPrefix(line, tag+" ") {
				return line, &errStatus{line}
			}
			c.untagged(line)
		}
	}
	c.w.Write(msg)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return "", err
	}
	return c.response(tag)
}

func (c *client) next() string {
	c.tag++
	return "L" + strconv.Itoa(c.tag)
}

// response reads until the tagged line of tag.
func (c *client) response(tag string) (string, error) {
	for {
		line, err := c.readLine()
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(line, tag+" ") {
			st := line[len(tag)+1:]
			if strings.HasPrefix(st, "OK") {
				c.untagged("* " + st) // [CAPABILITY ...] in a tagged OK
				return line, nil
			}
			return line, &errStatus{line}
		}
		if strings.HasPrefix(line, "* BYE") {
			return line, fmt.Errorf("connection closed: %s", line)
		}
		c.untagged(line)
	}
}

// readLine reads one response line, consuming the literals it announces
// ({n} at the end of a line is followed by n octets, then the line goes
// on). The literal contents are dropped; the text around them is kept.
func (c *client) readLine() (string, error) {
	var out []byte
	for {
		part, err := c.readRaw()
		if err != nil {
			return "", err
		}
		out = append(out, part...)
		n, ok := literalLen(part)
		if !ok {
			return string(out), nil
		}
		got, err := io.CopyN(io.Discard, c.r, n)
		c.bytesIn += got
		if err != nil {
			return "", fmt.Errorf("reading %d-octet literal: %w", n, err)
		}
		if len(out) > maxLine {
			return "", errors.New("response line too long")
		}
	}
}

// readRaw reads up to CRLF (or LF) and returns the line without it.
func (c *client) readRaw() ([]byte, error) {
	var line []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		line = append(line, frag...)
		c.bytesIn += int64(len(frag))
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) > maxLine {
			return nil, errors.New("response line too long")
		}
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// literalLen recognises a line ending in {n} (RFC 9051 4.3; servers never
// send the "+" or "~" forms, but "~{n}" is accepted for BINARY).
func literalLen(line []byte) (int64, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	i := bytes.LastIndexByte(line, '{')
	if i < 0 || i == len(line)-2 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(line[i+1:len(line)-1]), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// untagged notes what the mix needs from an untagged response.
func (c *client) untagged(line string) {
	f := strings.Fields(line)
	if len(f) >= 3 && f[0] == "*" && strings.EqualFold(f[2], "EXISTS") {
		if n, err := strconv.Atoi(f[1]); err == nil {
			c.exists = n
		}
		return
	}
	// "* CAPABILITY ..." or "* OK [CAPABILITY ...]".
	s := line
	if i := indexFold(s, "[CAPABILITY "); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, ']'); j >= 0 {
			s = s[:j]
		}
		f = append([]string{"*"}, strings.Fields(s)...)
	}
	if len(f) >= 2 && strings.EqualFold(f[1], "CAPABILITY") {
		clear(c.caps)
		for _, cp := range f[2:] {
			c.caps[strings.ToUpper(cp)] = true
		}
	}
}

// indexFold is strings.Index ignoring ASCII case, with indexes into s
// itself (strings.ToUpper may change the length of non-ASCII text).
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
