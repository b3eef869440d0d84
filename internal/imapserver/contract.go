package imapserver

// CONTRACT between the server core and the command files. The core (server.go,
// conn.go, session.go, sync.go, errors.go) implements these; command files
// use them. Signatures are fixed; bodies live in the core files.
//
// Errors (errors.go):
//   func errNo(code, text string) error    // tagged NO [code] text (code may be "")
//   func errBad(code, text string) error   // tagged BAD [code] text
//   func errBye(text string) error         // untagged BYE, then close
//   func errFromStore(err error) error      // maps store.Err* to NO with TRYCREATE/NONEXISTENT/ALREADYEXISTS/OVERQUOTA/CANNOT/SERVERBUG
//   *imapwire.SyntaxError returned by a handler becomes a tagged BAD.
//
// View of the selected mailbox (sync.go):
//   func (s *Session) sync(expungeOK bool) error
//        Pulls store changes since sel.modseq and writes EXISTS, RECENT (rev1),
//        FETCH (FLAGS [UID] [MODSEQ]) and EXPUNGE (or VANISHED with QRESYNC)
//        responses; called by the core before every tagged response, and by
//        handlers after they change the store (so their own EXISTS/EXPUNGE go
//        out the same way). Also writes a new FLAGS/PERMANENTFLAGS when the
//        keyword set grows.
//   func (s *Session) resolveSeq(set imapwire.SeqSet, uid bool) ([]uint32, error)
//        Turns a sequence set (msn or UID, "*" handled per RFC 9051) into the
//        ascending UIDs of the view that it names. Returns errBad for msn out
//        of range (non-UID). Pending-expunged UIDs are included (callers skip
//        what the store no longer has).
//   func (s *Session) msn(uid uint32) uint32   // 0 if not in view
//   func (s *Session) markOwn(entries []store.Entry) // flag changes this session reported itself
//   func (s *Session) isRecent(uid uint32) bool
//   func (s *Session) mailboxName(name string) (string, error) // validates a client mailbox name (no empty levels, no "%*" ...); INBOX case folded
//
// Writer access: s.w (*imapwire.Writer). s.utf8 tells whether names go out in UTF-8.
