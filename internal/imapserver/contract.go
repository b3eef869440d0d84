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

// Test harness (harness_test.go, owned by the core) that every command file's
// tests use:
//   func newTestServer(t *testing.T, opts ...func(*Config)) *testServer
//        sqlite store in t.TempDir() (NoSync for speed if offered), users
//        "alice" and "bob" with password "password", server on 127.0.0.1:0,
//        plaintext auth allowed from loopback. t.Cleanup shuts it down and
//        fails the test if any panic was recovered by the server.
//   type testServer struct { Addr string; Store store.Store; Srv *Server }
//   func (ts *testServer) raw(t *testing.T) *rawConn      // connected, greeting read
//   func (ts *testServer) rawLogin(t *testing.T, user string) *rawConn // logged in with LOGIN
//   func (c *rawConn) send(line string)                     // writes line + CRLF
//   func (c *rawConn) cmd(tagAndCommand string) []string    // send, then read lines up to and including the tagged response for that tag (literal bytes included inline in the line they belong to); fails the test on timeout (5 s)
//   func (c *rawConn) readLine() string                      // one response line (with any literal inline), without CRLF
//   func (c *rawConn) expect(want ...string)                 // reads len(want) lines and compares exactly
//   func (ts *testServer) client(t *testing.T, user string) *imapclient.Client // go-imap v2 client, logged in
//   func (ts *testServer) deliver(t *testing.T, user, mailbox, rawMessage string, flags ...string) uint32 // store Append directly; returns UID
//   func crlf(s string) string // converts "\n" to "\r\n" for message fixtures

// Additions by the core (available to every command file):
//   s.dirty = true            // makes the next sync pull store changes even if the feed is quiet
//   s.cmdName, s.cmdUID       // table key of the running command ("UID FETCH") and whether it is a UID command
//   func errFromStoreTarget(err error) error // errFromStore with [TRYCREATE] for a missing mailbox (APPEND/COPY/MOVE targets)
//   func errInternal(err error) error        // NO [SERVERBUG], cause logged
//   var errResponded                          // handler already wrote its tagged response
//   func (s *Session) writeFlagsResponse() / writePermanentFlags() // FLAGS and [PERMANENTFLAGS] of the selected mailbox
//   func (s *Session) flagsOf(uid uint32, flags []string) []string // stored flags plus \Recent when this session owns it
//   func (s *Session) capabilities() []string
// Extra harness helpers (harness_test.go): ts.dial(t) (no greeting read),
// c.write(s) (no CRLF added), c.expectCmd(cmd, want...) (whole response
// compared), c.expectClosed(), c.readUntilTagged(tag), ts.account(t, user),
// ts.mailbox(t, user, name), harnessMessage(i) (small valid message),
// startTestServer(tb testing.TB, ...) (for fuzz targets), ts.allowPanics
// (recovered panics a test expects). In the core's test files: c.expectBad,
// storeFlags, expunge, hasLine, entryCount, testTLSConfig, and test-only
// commands XPANIC, XPANICW, XSLEEP, XNOEXP, XSTORE, "UID XNOOP".
