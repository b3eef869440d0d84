package imapserver

import (
	"context"
	"errors"
	"unicode"
	"unicode/utf8"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// statusError is the one error type handlers return for a NO, BAD or BYE:
// the core turns it into the status response (RFC 9051 7.1).
type statusError struct {
	kind string // "NO", "BAD" or "BYE"
	code string // response code without brackets, may be ""
	text string
	// cause is the underlying error of a [SERVERBUG], logged by the core
	// and never shown to the client.
	cause error
}

func (e *statusError) Error() string {
	if e.cause != nil {
		return e.kind + " " + e.text + ": " + e.cause.Error()
	}
	return e.kind + " " + e.text
}

func (e *statusError) Unwrap() error { return e.cause }

// errNo ends the command with "tag NO [code] text".
func errNo(code, text string) error { return &statusError{kind: "NO", code: code, text: text} }

// errBad ends the command with "tag BAD [code] text".
func errBad(code, text string) error { return &statusError{kind: "BAD", code: code, text: text} }

// errBye sends "* BYE text" and closes the connection.
func errBye(text string) error { return &statusError{kind: "BYE", text: text} }

// errInternal is a server fault: NO [SERVERBUG], the cause is logged.
func errInternal(err error) error {
	return &statusError{kind: "NO", code: "SERVERBUG", text: "Internal error", cause: err}
}

// errResponded tells the core that the handler already wrote the tagged
// response itself (STARTTLS writes its OK before the handshake, LOGOUT
// after the BYE).
var errResponded = errors.New("imapserver: tagged response already sent")

// errFromStore maps a store error to the status response a client expects
// (RFC 5530 response codes). Unknown errors become NO [SERVERBUG].
func errFromStore(err error) error { return mapStoreError(err, false) }

// errFromStoreTarget is errFromStore for the destination mailbox of
// APPEND, COPY and MOVE: a missing mailbox gets [TRYCREATE] so the client
// knows it may CREATE it and retry (RFC 9051 6.3.12, 6.4.7).
func errFromStoreTarget(err error) error { return mapStoreError(err, true) }

func mapStoreError(err error, target bool) error {
	var se *statusError
	var ce *store.CannotError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return err
	case errors.Is(err, store.ErrNoSelect):
		// RFC 5530 3: selecting, appending to or copying into a
		// \Noselect mailbox (the parent of the label folders) can never
		// succeed. Checked before ErrNotFound: never [TRYCREATE].
		return errNo("CANNOT", "Mailbox cannot be selected and holds no messages")
	case errors.As(err, &ce):
		return errNo("CANNOT", upperFirst(ce.Reason))
	case errors.Is(err, store.ErrCannot):
		return errNo("CANNOT", "Operation not possible on this mailbox")
	case errors.Is(err, store.ErrNoMailbox), errors.Is(err, store.ErrNotFound):
		if target {
			return errNo("TRYCREATE", "Mailbox does not exist")
		}
		return errNo("NONEXISTENT", "Mailbox does not exist")
	case errors.Is(err, store.ErrExists):
		return errNo("ALREADYEXISTS", "Mailbox already exists")
	case errors.Is(err, store.ErrOverQuota):
		return errNo("OVERQUOTA", "Quota exceeded")
	case errors.Is(err, store.ErrTooBig):
		// RFC 4469 / RFC 7889 4: TOOBIG for a message over the limit.
		return errNo("TOOBIG", "Message too big")
	case errors.Is(err, store.ErrInbox):
		// RFC 5530 3: CANNOT, the operation can never succeed.
		return errNo("CANNOT", "INBOX cannot be deleted")
	case errors.Is(err, store.ErrHasChildren):
		// RFC 9051 6.3.5: HASCHILDREN is the rev2 code for this case.
		return errNo("HASCHILDREN", "Mailbox has children")
	case errors.Is(err, store.ErrInvalidName):
		return errNo("CANNOT", "Invalid mailbox name")
	case errors.Is(err, store.ErrUseAttr):
		// RFC 6154 5.3: a special-use attribute the server cannot set.
		return errNo("USEATTR", "Unsupported special-use attribute")
	case errors.Is(err, store.ErrUnchangedSince):
		// RFC 7162 3.1.3 reports failed UNCHANGEDSINCE tests as
		// [MODIFIED sequence-set]; a bare "MODIFIED" is not valid syntax,
		// so without the set the answer carries no code.
		return errNo("", "Message was modified")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errNo("UNAVAILABLE", "Server is shutting down")
	}
	return errInternal(err)
}

// upperFirst capitalises the first letter of a store's reason, which is
// written to follow "store: " in a log line, for a response text.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// toStatus turns whatever a handler returned into a statusError (nil for
// success). Syntax errors from the decoder become BAD with their message.
func toStatus(err error) *statusError {
	if err == nil {
		return nil
	}
	var se *statusError
	if errors.As(err, &se) {
		return se
	}
	var syn *imapwire.SyntaxError
	if errors.As(err, &syn) {
		return &statusError{kind: "BAD", text: syn.Msg}
	}
	if se, ok := mapStoreError(err, false).(*statusError); ok {
		return se
	}
	return &statusError{kind: "NO", code: "SERVERBUG", text: "Internal error", cause: err}
}
