package imapserver

import "github.com/casier/casier/internal/imapwire"

func init() {
	register("NAMESPACE", stateAuthed, true, cmdNamespace)
}

// cmdNamespace: RFC 2342, RFC 9051 6.3.10. One personal namespace with
// the "/" separator; no other users' or shared namespaces.
func cmdNamespace(s *Session, cmd *imapwire.Command) error {
	if err := cmd.Args().End(); err != nil {
		return err
	}
	s.w.Untagged().Atom("NAMESPACE").SP().Open().Open().
		String("").SP().String("/").Close().Close().
		SP().Atom("NIL").SP().Atom("NIL").CRLF()
	return nil
}
