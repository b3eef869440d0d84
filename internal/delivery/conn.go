package delivery

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/casier/casier/internal/metrics"
)

// listener hands go-smtp our own connection type, so that the Server
// knows every connection and whether it waits for a command (Shutdown),
// and bounds their number.
type listener struct {
	net.Listener
	srv *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c := l.srv.track(nc); c != nil {
			return c, nil
		}
	}
}

// track registers a new connection, or answers 421 and closes it when
// Options.MaxConns are open or the server shuts down (nil then).
func (s *Server) track(nc net.Conn) *conn {
	c := &conn{Conn: nc, srv: s}
	s.mu.Lock()
	closing := s.closing
	full := len(s.conns) >= s.opts.MaxConns
	if !closing && !full {
		s.conns[c] = struct{}{}
		s.handlers.Add(1)
	}
	s.mu.Unlock()
	if closing {
		c.bye()
		nc.Close()
		return nil
	}
	if !full {
		s.opts.Metrics.ConnOpened(metrics.KindLMTP)
	}
	if full {
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(nc, "421 4.3.2 "+s.opts.Hostname+" too many connections, try again later\r\n")
		nc.Close()
		s.log.Warn("lmtp: too many connections", "remote", remoteName(nc))
		return nil
	}
	return c
}

// conn is a connection as go-smtp sees it. Its Read knows when go-smtp
// waits for a command: that is when Shutdown may end the connection.
type conn struct {
	net.Conn
	srv *Server

	mu      sync.Mutex // lock order: Server.mu, then conn.mu
	reading bool       // in Read
	inData  bool       // between the start of LMTPData and the session's Reset
	closing bool       // Shutdown began
	byeSent bool       // the 421 was written
	closed  bool
}

// Read is go-smtp's read. When the server shuts down and no message is
// being received, it answers 421 and reports the end of the connection
// instead of reading: the command that may have arrived is not run, so
// nothing is acknowledged (RFC 5321 3.8).
func (c *conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.closing && !c.inData {
		c.mu.Unlock()
		c.bye()
		return 0, io.EOF
	}
	c.reading = true
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.reading = false
	stop := c.closing && !c.inData
	c.mu.Unlock()
	if stop {
		c.bye()
		return 0, io.EOF
	}
	return n, err
}

// bye writes the 421 reply of a server shutting down, once.
func (c *conn) bye() {
	c.mu.Lock()
	sent := c.byeSent
	c.byeSent = true
	c.mu.Unlock()
	if !sent {
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(c.Conn, "421 4.3.2 "+c.srv.opts.Hostname+" shutting down\r\n")
	}
}

// shutdown marks the connection as closing and wakes a read that waits
// for a command. A message being received is left to finish.
func (c *conn) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.reading && !c.inData {
		c.Conn.SetReadDeadline(time.Unix(1, 0))
	}
}

// setInData is called when the session starts or ends receiving a
// message.
func (c *conn) setInData(v bool) {
	c.mu.Lock()
	c.inData = v
	c.mu.Unlock()
}

// stopping reports whether Shutdown began; if so the caller answers 421
// itself, and Read will not repeat it.
func (c *conn) stopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		c.byeSent = true
	}
	return c.closing
}

// Close is called by go-smtp when it is done with the connection (its
// handler returns right after).
func (c *conn) Close() error {
	c.mu.Lock()
	closed := c.closed
	c.closed = true
	c.mu.Unlock()
	if closed {
		return nil
	}
	err := c.Conn.Close()
	c.srv.mu.Lock()
	delete(c.srv.conns, c)
	c.srv.mu.Unlock()
	c.srv.opts.Metrics.ConnClosed(metrics.KindLMTP)
	c.srv.handlers.Done()
	return err
}

// remoteName names the peer for the log; a unix socket's peer has no name.
func remoteName(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "unix"
}
