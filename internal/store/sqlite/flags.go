package sqlite

import (
	"context"
	"sort"
	"strings"

	"github.com/casier/casier/internal/store"
)

// System flags are stored as bits of mailbox_messages.flags. The bit order
// is alphabetical so a mask expands to an already sorted list.
const (
	bitAnswered = 1 << iota
	bitDeleted
	bitDraft
	bitFlagged
	bitSeen
	numBits = iota
)

var bitNames = [numBits]string{store.FlagAnswered, store.FlagDeleted, store.FlagDraft, store.FlagFlagged, store.FlagSeen}

// sysLists[mask] is the sorted flag list of a mask, shared by every entry
// without keywords (Entries over a large mailbox then allocates no flag
// slices). The capacity is clipped so an append by a caller copies.
var sysLists [1 << numBits][]string

func init() {
	for m := range sysLists {
		var l []string
		for b := 0; b < numBits; b++ {
			if m&(1<<b) != 0 {
				l = append(l, bitNames[b])
			}
		}
		sysLists[m] = l[:len(l):len(l)]
	}
}

// systemBit returns the bit of a system flag (case-insensitive, RFC 9051
// 2.3.2), 0 if f is not one.
func systemBit(f string) int {
	for b, n := range bitNames {
		if strings.EqualFold(f, n) {
			return 1 << b
		}
	}
	return 0
}

// validKeyword reports whether k is an IMAP atom (RFC 9051 9: flag-keyword
// = atom), which also keeps the space-separated storage unambiguous.
func validKeyword(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// parseFlags splits flags into a system-flag mask and keywords. \Recent is
// never stored (it is per session); unknown backslash flags and
// non-atoms are ignored (the protocol layer rejects them before). Keywords
// that differ only in case are one keyword: the first spelling wins.
func parseFlags(flags []string) (bits int, kws []string) {
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) {
			bits |= systemBit(f)
			continue
		}
		if !validKeyword(f) {
			continue
		}
		dup := false
		for _, k := range kws {
			if strings.EqualFold(k, f) {
				dup = true
				break
			}
		}
		if !dup {
			kws = append(kws, f)
		}
	}
	return bits, kws
}

// flagList builds an Entry's flags from the stored columns.
func flagList(bits int, kws string) []string {
	bits &= 1<<numBits - 1
	if kws == "" {
		return sysLists[bits]
	}
	l := make([]string, 0, numBits+4)
	l = append(l, sysLists[bits]...)
	l = append(l, strings.Fields(kws)...)
	sort.Strings(l)
	return l
}

// splitKeywords parses the keywords column.
func splitKeywords(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

// joinKeywords formats the keywords column: sorted, space separated.
func joinKeywords(kws []string) string {
	if len(kws) == 0 {
		return ""
	}
	c := append([]string(nil), kws...)
	sort.Strings(c)
	return strings.Join(c, " ")
}

func fold(k string) string { return strings.ToLower(k) }

// keywordTable maps a mailbox's folded keywords to their spelling.
type keywordTable struct {
	mailbox store.MailboxID
	spell   map[string]string
}

// newKeywordTable returns the keyword table of a mailbox; it is read
// lazily, on the first canon call that has keywords, since most messages
// carry none.
func newKeywordTable(mailbox store.MailboxID) *keywordTable {
	return &keywordTable{mailbox: mailbox}
}

func (t *keywordTable) load(ctx context.Context, tx *Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT folded, keyword FROM mailbox_keywords WHERE mailbox_id = ?`, t.mailbox)
	if err != nil {
		return err
	}
	defer rows.Close()
	t.spell = make(map[string]string)
	for rows.Next() {
		var f, k string
		if err := rows.Scan(&f, &k); err != nil {
			return err
		}
		t.spell[f] = k
	}
	return rows.Err()
}

// canon returns kws in the mailbox's spelling; with add, keywords new to
// the mailbox are recorded (their spelling becomes the mailbox's).
// Without add, unknown keywords are kept as given (no message can carry
// them, so they only matter for comparison).
func (t *keywordTable) canon(ctx context.Context, tx *Tx, kws []string, add bool) ([]string, error) {
	if len(kws) == 0 {
		return nil, nil
	}
	if t.spell == nil {
		if err := t.load(ctx, tx); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(kws))
	for i, k := range kws {
		f := fold(k)
		if s, ok := t.spell[f]; ok {
			out[i] = s
			continue
		}
		out[i] = k
		if add {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mailbox_keywords (mailbox_id, folded, keyword) VALUES (?, ?, ?)`, t.mailbox, f, k); err != nil {
				return nil, err
			}
			t.spell[f] = k
		}
	}
	return out, nil
}

// mailboxKeywords lists the keywords in use in a mailbox, sorted.
func mailboxKeywords(ctx context.Context, q querier, mailbox store.MailboxID) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ? ORDER BY keyword`, mailbox)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// indexKeywords adds or removes the message_keywords rows of one message.
func indexKeywords(ctx context.Context, tx *Tx, mailbox store.MailboxID, uid uint32, kws []string, add bool) error {
	for _, k := range kws {
		var err error
		if add {
			_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO message_keywords (mailbox_id, keyword, uid) VALUES (?, ?, ?)`, mailbox, fold(k), uid)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM message_keywords WHERE mailbox_id = ? AND keyword = ? AND uid = ?`, mailbox, fold(k), uid)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func containsFold(l []string, k string) bool {
	for _, x := range l {
		if strings.EqualFold(x, k) {
			return true
		}
	}
	return false
}

// sameKeywords compares two keyword sets (same mailbox spelling).
func sameKeywords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range a {
		if !containsFold(b, k) {
			return false
		}
	}
	return true
}

// diffKeywords returns the keywords of a not in b.
func diffKeywords(a, b []string) []string {
	var out []string
	for _, k := range a {
		if !containsFold(b, k) {
			out = append(out, k)
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

var _ store.KeywordIndex = (*Account)(nil)

// KeywordUIDs reads the UIDs carrying keyword from the message_keywords
// index: one primary-key range, whatever the mailbox size.
func (a *Account) KeywordUIDs(ctx context.Context, id store.MailboxID, keyword string) ([]uint32, error) {
	var out []uint32
	err := a.s.read(ctx, func(tx *Tx) error {
		if err := checkMailbox(ctx, tx, a.user, id); err != nil {
			return err
		}
		var err error
		out, err = queryUint32s(ctx, tx, `SELECT uid FROM message_keywords WHERE mailbox_id = ? AND keyword = ? ORDER BY uid`, id, fold(keyword))
		return err
	})
	return out, err
}
