package imapserver

import (
	"strings"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/search/sortthread"
)

func init() {
	register("THREAD", stateSelected, false, cmdThread)
	register("UID THREAD", stateSelected, true, cmdThread)
}

// threadCaps are the THREAD algorithms offered (RFC 5256 3).
var threadCaps = []string{"THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"}

// cmdThread implements THREAD and UID THREAD (RFC 5256 3, 4):
//
//	thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
//
// The answer is "* THREAD" followed by the thread lists of the matching
// messages (message numbers, or UIDs for UID THREAD).
func cmdThread(s *Session, cmd *imapwire.Command) error {
	d := cmd.Args()
	if err := d.SP(); err != nil {
		return err
	}
	alg, err := d.Atom()
	if err != nil {
		return err
	}
	refs := false
	switch strings.ToUpper(alg) {
	case "ORDEREDSUBJECT":
	case "REFERENCES":
		refs = true
	default:
		return errBad("", "Unsupported THREAD algorithm "+alg)
	}
	if err := d.SP(); err != nil {
		return err
	}
	prog, keys, err := s.sortProgram(d)
	if err != nil {
		return err
	}
	msgs, _, err := s.sortMessages(prog, keys, cmd.UID)
	if err != nil {
		return err
	}
	var roots []*sortthread.Node
	if refs {
		roots = sortthread.References(msgs)
	} else {
		roots = sortthread.OrderedSubject(msgs)
	}
	w := s.w.Untagged().Atom("THREAD")
	if len(roots) > 0 {
		w.SP().Atom(string(sortthread.AppendThreads(nil, roots)))
	}
	return w.CRLF()
}
