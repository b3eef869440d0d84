package imapserver

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapwire"
)

func init() {
	register("IDLE", stateAuthed, true, cmdIdle)
}

// idleLine is what IDLE's reader goroutine got: the client's line or an
// error.
type idleLine struct {
	line []byte
	err  error
}

// cmdIdle: RFC 2177, RFC 9051 6.3.13. Changes are pushed as they happen
// (EXPUNGE included: IDLE is a command in progress that allows it) until
// the client sends DONE.
//
// A helper goroutine reads exactly one line, the DONE, and ends: the next
// ReadCommand of the command loop never runs concurrently with it, and
// whatever the client pipelined after DONE stays in the buffered reader.
func cmdIdle(s *Session, cmd *imapwire.Command) error {
	if err := cmd.Args().End(); err != nil {
		return err
	}
	if err := s.w.Continuation("idling"); err != nil {
		return errBye("Write error")
	}
	// RFC 9051 5.4: the autologout timer applies while idling too.
	s.rawConn.SetReadDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
	done := make(chan idleLine, 1)
	go func() {
		defer func() {
			// The core's recover does not cover this goroutine.
			if r := recover(); r != nil {
				s.srv.panics.Add(1)
				s.srv.log.Error("imap IDLE reader panic", "remote", s.remote, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				done <- idleLine{err: errors.New("panic reading DONE")}
			}
		}()
		line, err := s.r.ReadLine()
		done <- idleLine{line, err}
	}()
	// stop ends the reader goroutine early and waits for it, so nothing
	// else touches the reader after IDLE returns.
	stop := func() {
		s.rawConn.SetReadDeadline(time.Unix(1, 0))
		<-done
	}

	// Updates pending from before IDLE go out at once.
	if err := s.idleSync(); err != nil {
		stop()
		return err
	}
	for {
		select {
		case res := <-done:
			return idleEnd(s, res)
		case <-s.sub.Ready():
			if err := s.idleSync(); err != nil {
				stop()
				return err
			}
		case <-s.srv.shutdownCh:
			stop()
			return errBye("Server shutting down")
		}
	}
}

// idleSync sends the selected mailbox's changes and flushes them at once.
func (s *Session) idleSync() error {
	if s.notify != nil {
		// RFC 5465 4: NOTIFY governs what IDLE reports; an explicit
		// "selected NONE" leaves the selected mailbox to the next command.
		n := s.notify
		if err := s.notifyDeliver(true, n.sel == nil || n.sel.events != 0); err != nil {
			return err
		}
	} else if s.state != stateSelected {
		// Nothing to report outside a mailbox (no NOTIFY): drop the feed.
		s.sub.Take()
		return nil
	} else if err := s.sync(true); err != nil {
		return err
	}
	s.rawConn.SetWriteDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
	if err := s.w.Flush(); err != nil {
		return errBye("Write error")
	}
	return nil
}

// idleEnd interprets the line that ended IDLE.
func idleEnd(s *Session, res idleLine) error {
	if res.err == nil {
		if strings.EqualFold(string(res.line), "DONE") {
			return nil
		}
		return errBad("", "Expected DONE")
	}
	var ce *imapwire.CommandError
	if errors.As(res.err, &ce) && !ce.Fatal {
		return errBad("", ce.Text)
	}
	var ne net.Error
	if errors.As(res.err, &ne) && ne.Timeout() {
		if s.srv.closing.Load() {
			return errBye("Server shutting down")
		}
		return errBye("Autologout; idle for too long")
	}
	// The client went away: end without writing.
	s.state = stateLogout
	return errResponded
}
