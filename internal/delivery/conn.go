package delivery

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxCommandLine bounds a command line, CRLF included. RFC 5321 4.5.3.1.4
// sets 512 octets; parameters (RFC 5321 4.5.3.1.4, RFC 6531) and UTF-8
// addresses make longer lines legitimate, so we allow more.
const maxCommandLine = 4096

// readBufSize is the connection's read buffer; message lines longer than
// this are streamed in pieces, so it bounds memory, not line length.
const readBufSize = 32 << 10

// reply is one SMTP reply with its enhanced status code (RFC 3463).
type reply struct {
	code int
	ext  string // "5.1.1"
	text string
}

var (
	replyTempFail = reply{451, "4.3.0", "temporary failure, try again later"}
	replyTooBig   = reply{552, "5.3.4", "message too big"}
	replyBadSeq   = reply{503, "5.5.1", "bad sequence of commands"}
)

// transaction is the state between MAIL and the end of DATA.
type transaction struct {
	from  path
	utf8  bool // SMTPUTF8 given (RFC 6531 3.4)
	rcpts []recipient
}

// conn is one LMTP connection.
type conn struct {
	srv    *Server
	nc     net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	remote string

	mu      sync.Mutex // guards idle and closing (lock order: Server.mu, then conn.mu)
	idle    bool       // waiting for a command line
	closing bool       // Shutdown began: finish the current command, then 421

	lhlo string // LHLO argument; "" before LHLO
	tx   *transaction
}

func newConn(s *Server, nc net.Conn) *conn {
	remote := "unix" // a unix socket's peer has no name
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		remote = a.String()
	}
	return &conn{
		srv:    s,
		nc:     nc,
		r:      bufio.NewReaderSize(nc, readBufSize),
		w:      bufio.NewWriterSize(nc, 4096),
		remote: remote,
	}
}

// interruptIfIdle marks the connection as closing and, when it waits for
// a command, wakes its read so that it answers 421 and closes. A
// connection in the middle of a command is left to finish it.
func (c *conn) interruptIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.idle {
		c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *conn) serve() {
	defer c.nc.Close()
	defer func() {
		if v := recover(); v != nil {
			c.srv.log.Error("lmtp: panic serving connection", "remote", c.remote, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	c.send(reply{220, "", c.srv.opts.Hostname + " LMTP Casier ready"})
	for {
		if !c.flushIfDrained() {
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(c.srv.opts.Timeout))
		c.mu.Lock()
		c.idle = true
		closing := c.closing
		c.mu.Unlock()
		if closing {
			c.bye()
			return
		}
		line, err := c.readCommand()
		c.mu.Lock()
		c.idle = false
		closing = c.closing
		c.mu.Unlock()
		if closing {
			// Shutdown may have cut the read short; either way the
			// command is not executed, so nothing is acknowledged.
			c.bye()
			return
		}
		if errors.Is(err, errLineTooLong) {
			c.send(reply{500, "5.5.2", "line too long"})
			continue
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.send(reply{421, "4.4.2", c.srv.opts.Hostname + " timeout, closing connection"})
				c.w.Flush()
			}
			return
		}
		if !c.command(line) {
			c.w.Flush()
			return
		}
	}
}

// bye is the reply to a client when the server shuts down.
func (c *conn) bye() {
	c.send(reply{421, "4.3.2", c.srv.opts.Hostname + " shutting down"})
	c.w.Flush()
}

// flushIfDrained writes buffered replies unless another complete command
// is already waiting: RFC 2920 3 lets a server group the replies to
// pipelined commands, but it must not wait for input with replies unsent.
func (c *conn) flushIfDrained() bool {
	if n := c.r.Buffered(); n > 0 {
		if b, _ := c.r.Peek(n); bytes.IndexByte(b, '\n') >= 0 {
			return true
		}
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.opts.Timeout))
	return c.w.Flush() == nil
}

var errLineTooLong = errors.New("line too long")

// readCommand reads one command line without its line ending.
func (c *conn) readCommand() (string, error) {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || err == nil && len(line) > maxCommandLine {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = c.r.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return "", errLineTooLong
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

func (c *conn) send(r reply) {
	if r.ext != "" {
		fmt.Fprintf(c.w, "%d %s %s\r\n", r.code, r.ext, r.text)
	} else {
		fmt.Fprintf(c.w, "%d %s\r\n", r.code, r.text)
	}
}

// command runs one command; false ends the connection.
func (c *conn) command(line string) bool {
	verb, arg, _ := strings.Cut(line, " ")
	switch strings.ToUpper(verb) {
	case "LHLO":
		c.cmdLHLO(arg)
	case "MAIL":
		c.cmdMail(arg)
	case "RCPT":
		c.cmdRcpt(arg)
	case "DATA":
		return c.cmdData(arg)
	case "RSET":
		// RFC 5321 4.1.1.5.
		c.tx = nil
		c.send(reply{250, "2.0.0", "OK"})
	case "NOOP":
		c.send(reply{250, "2.0.0", "OK"})
	case "VRFY":
		// RFC 5321 3.5.3: 252 neither confirms nor denies; we do not let
		// VRFY probe for accounts.
		c.send(reply{252, "2.5.2", "cannot VRFY; send the message and we will try"})
	case "QUIT":
		c.send(reply{221, "2.0.0", c.srv.opts.Hostname + " closing connection"})
		return false
	case "HELO", "EHLO":
		// RFC 2033 4.1: an LMTP server greets LHLO only.
		c.send(reply{500, "5.5.1", "this is an LMTP server: use LHLO"})
	default:
		c.send(reply{500, "5.5.1", "command not recognized"})
	}
	return true
}

// cmdLHLO answers with the extensions RFC 2033 5 requires (PIPELINING,
// ENHANCEDSTATUSCODES) and those we support.
func (c *conn) cmdLHLO(arg string) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		c.send(reply{501, "5.5.4", "LHLO wants a host name"})
		return
	}
	c.lhlo = arg
	c.tx = nil // RFC 5321 4.1.4: like RSET
	fmt.Fprintf(c.w, "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE %d\r\n",
		c.srv.opts.Hostname, c.srv.sizeMax)
}

// cutFold removes a case-insensitive prefix.
func cutFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// cmdMail starts a transaction (RFC 5321 4.1.1.2).
func (c *conn) cmdMail(arg string) {
	if c.lhlo == "" || c.tx != nil {
		c.send(replyBadSeq)
		return
	}
	arg, ok := cutFold(arg, "FROM:")
	if !ok {
		c.send(reply{501, "5.5.2", "syntax: MAIL FROM:<address>"})
		return
	}
	p, rest, err := parsePath(strings.TrimLeft(arg, " "))
	if err != nil {
		c.send(reply{501, "5.1.7", "bad sender address: " + err.Error()})
		return
	}
	tx := &transaction{from: p}
	for _, param := range strings.Fields(rest) {
		k, v, _ := strings.Cut(param, "=")
		switch strings.ToUpper(k) {
		case "SIZE":
			// RFC 1870 6.
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				c.send(reply{501, "5.5.4", "bad SIZE parameter"})
				return
			}
			if n > c.srv.sizeMax {
				c.send(reply{552, "5.3.4", fmt.Sprintf("message size exceeds fixed maximum of %d", c.srv.sizeMax)})
				return
			}
		case "BODY":
			// RFC 6152: we store octets as they come.
			if u := strings.ToUpper(v); u != "7BIT" && u != "8BITMIME" {
				c.send(reply{501, "5.5.4", "bad BODY parameter"})
				return
			}
		case "SMTPUTF8":
			if strings.Contains(param, "=") {
				c.send(reply{501, "5.5.4", "SMTPUTF8 takes no value"})
				return
			}
			tx.utf8 = true
		default:
			// RFC 5321 4.1.1.11.
			c.send(reply{555, "5.5.4", "unsupported parameter " + k})
			return
		}
	}
	if !tx.utf8 && !isASCII(p.raw) {
		// RFC 6531 3.5.
		c.send(reply{553, "5.6.7", "non-ASCII sender address without SMTPUTF8"})
		return
	}
	c.tx = tx
	c.send(reply{250, "2.1.0", "OK"})
}

// cmdRcpt checks a recipient now, so the client learns of an unknown user
// before it sends the message (RFC 2033 4.2 and 6).
func (c *conn) cmdRcpt(arg string) {
	if c.tx == nil {
		c.send(replyBadSeq)
		return
	}
	arg, ok := cutFold(arg, "TO:")
	if !ok {
		c.send(reply{501, "5.5.2", "syntax: RCPT TO:<address>"})
		return
	}
	p, rest, err := parsePath(strings.TrimLeft(arg, " "))
	if err == nil && p.raw == "" {
		err = errors.New("empty address")
	}
	if err != nil {
		c.send(reply{501, "5.1.3", "bad recipient address: " + err.Error()})
		return
	}
	if f := strings.Fields(rest); len(f) > 0 {
		k, _, _ := strings.Cut(f[0], "=")
		c.send(reply{555, "5.5.4", "unsupported parameter " + k})
		return
	}
	if !c.tx.utf8 && !isASCII(p.raw) {
		c.send(reply{553, "5.6.7", "non-ASCII recipient address without SMTPUTF8"})
		return
	}
	if len(c.tx.rcpts) >= c.srv.opts.MaxRecipients {
		// RFC 5321 4.5.3.1.10.
		c.send(reply{452, "4.5.3", "too many recipients"})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.opts.Timeout)
	defer cancel()
	r, fail := c.srv.resolve(ctx, p)
	if fail != nil {
		c.srv.log.Info("lmtp rcpt refused", "remote", c.remote, "from", c.tx.from.raw, "to", p.raw,
			"result", fmt.Sprintf("%d %s", fail.code, fail.ext))
		c.send(*fail)
		return
	}
	c.tx.rcpts = append(c.tx.rcpts, r)
	c.send(reply{250, "2.1.5", "OK"})
}

// cmdData reads the message and answers once per accepted recipient
// (RFC 2033 4.2). false ends the connection (the client went away or the
// data could not be read).
func (c *conn) cmdData(arg string) bool {
	if strings.TrimSpace(arg) != "" {
		c.send(reply{501, "5.5.4", "DATA takes no argument"})
		return true
	}
	if c.tx == nil || len(c.tx.rcpts) == 0 {
		// RFC 2033 4.2: no successful RCPT, DATA fails with 503.
		c.send(reply{503, "5.5.1", "no valid recipients"})
		return true
	}
	tx := c.tx
	c.tx = nil
	c.send(reply{354, "", "go ahead, end with <CRLF>.<CRLF>"})
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.opts.Timeout))
	if c.w.Flush() != nil {
		return false
	}
	sp := newSpool(c.srv.opts.MemoryLimit, c.srv.opts.TempDir)
	defer sp.Close()
	n, tooBig, err := readData(c.r, sp, c.srv.sizeMax, func() {
		c.nc.SetReadDeadline(time.Now().Add(c.srv.opts.Timeout))
	})
	if err != nil {
		if !errors.Is(err, errSpool) {
			c.srv.log.Info("lmtp: connection lost during DATA", "remote", c.remote, "from", tx.from.raw, "err", err)
			return false
		}
		// The message was read to its end, but we could not keep it.
		c.srv.log.Error("lmtp: spooling message", "err", err)
		for _, r := range tx.rcpts {
			c.logDelivery(tx, r, n, replyTempFail, 0, err)
			c.send(replyTempFail)
		}
		return true
	}
	if tooBig {
		for _, r := range tx.rcpts {
			c.logDelivery(tx, r, n, replyTooBig, 0, nil)
			c.send(reply{552, "5.3.4", "<" + r.addr + "> message too big"})
		}
		return true
	}
	for _, rp := range c.deliver(tx, sp) {
		c.send(rp)
	}
	return true
}
