// Package store defines Casier's storage interface: users, mailboxes,
// messages and the change feed. Engines live in sub-packages (sqlite/ now,
// postgres/ later). The store is IMAP-shaped (UIDs, UIDVALIDITY, MODSEQ,
// expunge tombstones) but never speaks IMAP syntax: flags are plain strings,
// message structure is the typed model of package message.
//
// Invariants every engine keeps:
//   - A message body is written and fsync'd, and the metadata transaction
//     committed with full durability, before Append/Deliver returns.
//   - A body is stored once per user (content-addressed); COPY and MOVE add
//     mailbox entries that point at the same MessageID (the EMAILID).
//   - Every change to a mailbox or its messages takes a new modification
//     sequence from a per-user counter, so MODSEQs are strictly increasing
//     within a mailbox (RFC 7162) and across the user's mailboxes (NOTIFY).
//   - An expunged UID leaves a tombstone (uid, modseq) so Changes can report
//     it; UIDs are never reused within one UIDVALIDITY.
//   - After a transaction commits, the engine publishes a Change on the Hub.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/casier/casier/internal/message"
)

// Errors engines return; the protocol layer maps them to response codes.
var (
	ErrNotFound       = errors.New("store: not found")       // user, mailbox or message
	ErrExists         = errors.New("store: already exists")  // [ALREADYEXISTS]
	ErrNoMailbox      = errors.New("store: no such mailbox") // [NONEXISTENT] / [TRYCREATE]
	ErrHasChildren    = errors.New("store: mailbox has children")
	ErrInvalidName    = errors.New("store: invalid mailbox name")
	ErrInbox          = errors.New("store: INBOX cannot be deleted")
	ErrOverQuota      = errors.New("store: over quota")
	ErrTooBig         = errors.New("store: message too big")
	ErrUnchangedSince = errors.New("store: modified since")
	// ErrNoSelect: the mailbox holds no messages of its own and cannot be
	// selected, appended to or copied into (the \Noselect parent of the
	// label folders).
	ErrNoSelect = errors.New("store: mailbox cannot be selected")
	// ErrCannot: the operation can never succeed on this mailbox (RFC 5530
	// CANNOT). Engines return it as a *CannotError whose Reason a user can
	// read.
	ErrCannot = errors.New("store: operation not possible")
)

// CannotError is ErrCannot with a reason for the user, in plain English
// (for example "label names must be IMAP keywords").
type CannotError struct{ Reason string }

func (e *CannotError) Error() string        { return "store: " + e.Reason }
func (e *CannotError) Is(target error) bool { return target == ErrCannot }

// Cannot returns a *CannotError.
func Cannot(reason string) error { return &CannotError{Reason: reason} }

// Separator is the hierarchy delimiter of mailbox names.
const Separator = '/'

type (
	UserID    int64
	MailboxID int64
	MessageID int64 // one stored body; the EMAILID of RFC 8474
)

// User is an account.
type User struct {
	ID       UserID
	Name     string
	PassHash string // PHC-format hash, never the password
	Created  time.Time
}

// MailboxKind says what a mailbox is (docs/labels.md).
type MailboxKind int

const (
	// KindFolder is a real folder: it holds messages.
	KindFolder MailboxKind = iota
	// KindAll is All Mail (special use \All): a virtual mailbox showing
	// every message in the user's folders except \Trash and \Junk.
	KindAll
	// KindLabel is a label folder, "<prefix>/<keyword>": a virtual mailbox
	// showing every message in the user's folders, except \Trash and
	// \Junk, that carries the keyword Label.
	KindLabel
	// KindLabelRoot is the parent of the label folders (the prefix): it
	// holds no messages and cannot be selected (\Noselect).
	KindLabelRoot
)

// Mailbox is one folder of a user. Name is the full UTF-8 path with '/'
// separators; "INBOX" is always spelled in upper case.
//
// A virtual mailbox (KindAll, KindLabel) has entries of its own, with its
// own UIDs, UIDVALIDITY and MODSEQs, so every read (Entries, Records,
// Changes, Status, UIDList) works on it as on a folder. Each entry shows
// one message of a folder: the same MessageID (EMAILID), the same flags,
// kept in step in the transaction that changes either. Writes through a
// virtual mailbox act on the messages it shows, with the label semantics
// of docs/labels.md; nothing is ever stored twice.
type Mailbox struct {
	ID            MailboxID
	Name          string
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	SpecialUse    string // "", `\Sent`, `\Drafts`, `\Trash`, `\Junk`, `\Archive`, `\All`, `\Flagged`
	Subscribed    bool
	Kind          MailboxKind
	Label         string // KindLabel: the keyword, in the spelling of the folder's name
}

// Virtual reports whether the mailbox shows messages stored in folders.
func (m Mailbox) Virtual() bool { return m.Kind == KindAll || m.Kind == KindLabel }

// Selectable reports whether the mailbox can be selected (not \Noselect).
func (m Mailbox) Selectable() bool { return m.Kind != KindLabelRoot }

// MailboxStatus holds the counters STATUS, SELECT and LIST-STATUS need.
// Engines maintain them incrementally; computing one must not scan messages.
type MailboxStatus struct {
	Mailbox
	Messages       uint32
	Unseen         uint32
	Deleted        uint32 // messages with \Deleted
	Size           int64  // sum of RFC822.SIZE
	Recent         uint32 // UIDs >= FirstRecentUID
	FirstRecentUID uint32
	Keywords       []string // keywords in use in the mailbox (for FLAGS)
}

// Flag names. System flags keep their backslash; keywords are atoms.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// Entry is a message as seen in one mailbox: the per-session view is built
// from a sorted slice of these.
type Entry struct {
	UID    uint32
	Flags  []string // sorted, system flags canonical case, keywords as stored
	ModSeq uint64
}

// Record is everything FETCH and SEARCH usually need about one message in a
// mailbox, all precomputed at delivery; none of it requires opening the body.
// Header and Parsed may be shared with the engine's cache and other callers:
// treat them as read-only.
type Record struct {
	Entry
	MessageID    MessageID
	InternalDate time.Time
	SaveDate     time.Time
	Size         int64           // RFC822.SIZE
	Header       []byte          // the raw top-level header section, including the blank line
	Parsed       *message.Parsed // envelope, body structure with offsets, preview
}

// FlagMode says how Store applies flags.
type FlagMode int

const (
	FlagsReplace FlagMode = iota // FLAGS
	FlagsAdd                     // +FLAGS
	FlagsRemove                  // -FLAGS
)

// StoreRequest changes flags of the given UIDs.
type StoreRequest struct {
	UIDs           []uint32 // ascending
	Mode           FlagMode
	Flags          []string
	UnchangedSince uint64 // 0: unconditional (RFC 7162 3.1.3)
}

// StoreResult lists the messages whose flags actually changed (with their
// new flags and modseq) and, for UNCHANGEDSINCE, those that failed the test.
type StoreResult struct {
	Changed  []Entry
	Modified []uint32 // UIDs that failed UNCHANGEDSINCE ([MODIFIED])
}

// AppendRequest is one message to add to a mailbox. Body is read once; the
// engine parses it (package message) and stores body and metadata durably.
type AppendRequest struct {
	Body         io.Reader
	Size         int64 // -1 if unknown
	Flags        []string
	InternalDate time.Time // zero: now
}

// AppendResult identifies the stored message (RFC 4315 APPENDUID).
type AppendResult struct {
	UIDValidity uint32
	UID         uint32
	MessageID   MessageID
	ModSeq      uint64
}

// CopyResult maps source UIDs to the new UIDs (RFC 4315 COPYUID).
type CopyResult struct {
	UIDValidity uint32 // of the destination
	SrcUIDs     []uint32
	DstUIDs     []uint32
}

// ChangeSet is what happened in a mailbox after a modseq: the messages whose
// flags changed or that were added (with their current state), and the UIDs
// expunged. It is the answer to a session's resync and to QRESYNC.
type ChangeSet struct {
	Changed       []Entry  // ascending UID
	Expunged      []uint32 // ascending UID
	HighestModSeq uint64
	UIDNext       uint32
}

// Store is an engine: users plus a per-user Account handle.
type Store interface {
	CreateUser(ctx context.Context, name, passHash string) (User, error) // with default folders
	User(ctx context.Context, name string) (User, error)
	Users(ctx context.Context) ([]User, error)
	SetPassword(ctx context.Context, name, passHash string) error
	DeleteUser(ctx context.Context, name string) error // removes all mail
	// SetQuota sets a user's limits (RFC 9208 STORAGE in bytes, MESSAGE in
	// messages); 0 removes a limit. Lowering a limit below the usage
	// deletes nothing: further additions are refused.
	SetQuota(ctx context.Context, name string, storageBytes, messages int64) error

	Account(ctx context.Context, id UserID) (Account, error)
	Hub() *Hub
	Close() error
}

// Account is one user's mail. All names are full UTF-8 paths.
type Account interface {
	UserID() UserID

	Mailboxes(ctx context.Context) ([]Mailbox, error) // sorted by name
	Mailbox(ctx context.Context, name string) (Mailbox, error)
	CreateMailbox(ctx context.Context, name, specialUse string) (Mailbox, error) // creates missing parents
	DeleteMailbox(ctx context.Context, name string) error
	RenameMailbox(ctx context.Context, oldName, newName string) error // moves the subtree; INBOX: moves messages
	Subscribe(ctx context.Context, name string, on bool) error
	Subscriptions(ctx context.Context) ([]string, error) // may name mailboxes that do not exist

	Status(ctx context.Context, id MailboxID) (MailboxStatus, error)
	// ClaimRecent marks every message of the mailbox as no longer recent for
	// other sessions and returns the first UID that was recent before
	// (RFC 3501 \Recent: a message is recent in exactly one session).
	ClaimRecent(ctx context.Context, id MailboxID) (firstRecentUID uint32, err error)

	Entries(ctx context.Context, id MailboxID) ([]Entry, error)                 // all, ascending UID
	Records(ctx context.Context, id MailboxID, uids []uint32) ([]Record, error) // ascending UID; missing ones skipped
	OpenBody(ctx context.Context, id MessageID) (Body, error)

	Append(ctx context.Context, id MailboxID, req AppendRequest) (AppendResult, error)
	StoreFlags(ctx context.Context, id MailboxID, req StoreRequest) (StoreResult, error)
	Copy(ctx context.Context, src MailboxID, uids []uint32, dst MailboxID) (CopyResult, error)
	Move(ctx context.Context, src MailboxID, uids []uint32, dst MailboxID) (CopyResult, error)
	// Expunge removes the given UIDs if they carry \Deleted (all \Deleted
	// messages when uids is nil) and returns the UIDs removed, ascending.
	Expunge(ctx context.Context, id MailboxID, uids []uint32) ([]uint32, error)

	Changes(ctx context.Context, id MailboxID, sinceModSeq uint64) (ChangeSet, error)

	// AppendBatch appends msgs to one mailbox, in order, in one transaction
	// (bulk import: casier import). Durability holds per batch: every body
	// is durable before the single commit, and one Change is published
	// after it. A message is skipped (its AppendResult is zero) when the
	// mailbox already holds more than Occurrence messages with the same
	// body, so re-running an interrupted import adds nothing twice.
	AppendBatch(ctx context.Context, id MailboxID, msgs []BatchMessage) ([]AppendResult, error)

	// Replace appends req to mailbox dst and removes message uid from
	// mailbox src, in one transaction (RFC 8508 REPLACE): either both
	// happen or neither. The old message need not carry \Deleted. It fails
	// with ErrNotFound, storing nothing, when src no longer holds uid.
	Replace(ctx context.Context, src MailboxID, uid uint32, dst MailboxID, req AppendRequest) (AppendResult, error)

	// Quota returns the user's limits and current usage (RFC 9208).
	// Append, AppendBatch, Copy and Move into another of the user's
	// mailboxes fail with ErrOverQuota, storing nothing, when they would
	// take the usage past a limit; Move is neutral and always allowed.
	Quota(ctx context.Context) (Quota, error)
	// DeletedSize is the sum of RFC822.SIZE of the messages carrying
	// \Deleted in the mailbox: what EXPUNGE would free (RFC 9208
	// STATUS DELETED-STORAGE).
	DeletedSize(ctx context.Context, id MailboxID) (int64, error)
}

// Quota is a user's resource limits and usage (RFC 9208). Usage counts
// every folder entry: a message copied into two folders counts twice,
// although its body is stored once. Virtual mailboxes (All Mail, label
// folders) count nothing: they show messages stored in folders.
type Quota struct {
	StorageLimit int64 // bytes; 0: no limit
	MessageLimit int64 // messages; 0: no limit
	StorageUsed  int64 // bytes: sum of RFC822.SIZE over all folders
	MessagesUsed int64 // messages in all folders
}

// BatchMessage is one message of Account.AppendBatch.
type BatchMessage struct {
	Body         []byte // the whole message, stored as is
	Flags        []string
	InternalDate time.Time // zero: now
	// Occurrence counts the earlier messages of the same import into this
	// mailbox that had the same bytes (0 for the first copy): identical
	// messages in one source are all kept, and none is added twice.
	Occurrence int
}

// Body is a stored message, readable at any offset.
type Body interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// ErrUseAttr reports a special-use attribute the engine does not support
// (RFC 6154 [USEATTR]).
var ErrUseAttr = errors.New("store: unsupported special-use attribute")

// Tombstones is implemented by engines whose expunge tombstones may be
// pruned (RFC 7162 3.2.5.1 lets a server forget old expunges). Callers
// test for it with a type assertion; an engine without it keeps every
// tombstone.
type Tombstones interface {
	// TombstoneFloor returns the lowest modseq from which the mailbox's
	// tombstones are complete: Changes(since) reports every expunge when
	// since >= floor. 0 means complete since the mailbox was created.
	TombstoneFloor(ctx context.Context, id MailboxID) (uint64, error)
	// PruneTombstones drops the tombstones with modseq <= upTo and raises
	// the floor to upTo. Sessions holding an older modseq are told to
	// recheck the mailbox (a ChangeMailboxes change is published).
	PruneTombstones(ctx context.Context, id MailboxID, upTo uint64) error
}

// UIDList is a mailbox's UIDs at one modification sequence.
type UIDList struct {
	// UIDs, ascending, is shared with the engine and every other caller:
	// read-only (its capacity is clipped, so an append copies).
	UIDs   []uint32
	ModSeq uint64 // the mailbox's HIGHESTMODSEQ the list reflects
	// FirstUnseen is the lowest UID without \Seen, 0 if none; set only
	// when asked for (IMAP4rev1 [UNSEEN n]).
	FirstUnseen uint32
}

// UIDLister is implemented by engines that hand out a mailbox's UID list
// without a copy or a walk per caller, so SELECT costs the same in a
// mailbox of 1,000 or 100,000 messages. Callers test for it with a type
// assertion and fall back to Entries.
type UIDLister interface {
	UIDList(ctx context.Context, id MailboxID, firstUnseen bool) (UIDList, error)
}

// KeywordIndex is implemented by engines that index messages by keyword
// (labels): SEARCH KEYWORD then reads the messages carrying it, not the
// whole mailbox. Callers test for it with a type assertion.
type KeywordIndex interface {
	// KeywordUIDs returns, ascending, the UIDs of the mailbox's messages
	// that carry keyword (compared case-insensitively, RFC 9051 2.3.2);
	// the cost follows the number returned, not the mailbox size.
	KeywordUIDs(ctx context.Context, id MailboxID, keyword string) ([]uint32, error)
}

// SCRAMKeys are a user's SCRAM-SHA-256 credentials (RFC 5802 3, RFC 7677):
// derived from the password at `user add`/`user passwd`, never the password
// itself. A zero Iterations means none are stored (users created before
// SCRAM support): SCRAM logins then fail until the password is set again.
type SCRAMKeys struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte // H(HMAC(SaltedPassword, "Client Key"))
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key")
}

// SCRAMStore is implemented by engines that keep SCRAM keys beside the
// password hash (an optional interface: check with a type assertion).
// SetPassword clears the keys, so a password change never leaves the old
// password usable through SCRAM; callers set new keys after it.
type SCRAMStore interface {
	// UserSCRAM returns the user and its keys (zero if none); ErrNotFound
	// for an unknown user.
	UserSCRAM(ctx context.Context, name string) (User, SCRAMKeys, error)
	SetSCRAMKeys(ctx context.Context, name string, k SCRAMKeys) error
}

// URLAuthKeys is implemented by engines that keep the secret keys of
// URLAUTH (RFC 4467 INTERNAL mechanism): one random key per user and
// mailbox, from which the protocol layer derives the authorization tokens
// (an optional interface: check with a type assertion). The keys never
// leave the server.
type URLAuthKeys interface {
	// URLAuthKey returns the key of the user's mailbox, creating a random
	// one first when create is true and none exists; ErrNotFound when
	// none exists and create is false, or the mailbox is not the user's.
	URLAuthKey(ctx context.Context, user UserID, mailbox MailboxID, create bool) ([]byte, error)
	// ResetURLAuthKeys deletes the key of one mailbox, or of all the
	// user's mailboxes when mailbox is 0 (RFC 4467 RESETKEY): every URL
	// authorized with it stops working.
	ResetURLAuthKeys(ctx context.Context, user UserID, mailbox MailboxID) error
}
