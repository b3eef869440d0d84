package sqlite

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/casier/casier/internal/store"
)

const maxNameLen = 1000

// normName validates a full mailbox path and spells its INBOX level in
// upper case: RFC 9051 5.1 makes "INBOX" case-insensitive, including as
// the first level of a child name ("inbox/x" is "INBOX/x").
func normName(name string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("sqlite: mailbox name %q: %s: %w", name, why, store.ErrInvalidName)
	}
	if name == "" {
		return bad("empty")
	}
	if len(name) > maxNameLen {
		return bad("too long")
	}
	if !utf8.ValidString(name) {
		return bad("not UTF-8")
	}
	if name[0] == store.Separator || name[len(name)-1] == store.Separator {
		return bad("leading or trailing separator")
	}
	if strings.Contains(name, string([]byte{store.Separator, store.Separator})) {
		return bad("empty level")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return bad("control character")
		}
	}
	first, _, _ := strings.Cut(name, string(store.Separator))
	if strings.EqualFold(first, "INBOX") && first != "INBOX" {
		return "INBOX" + name[len(first):], nil
	}
	return name, nil
}

// lookupName is normName for a name that must exist: an invalid name
// cannot, so it reports ErrNoMailbox.
func lookupName(name string) (string, error) {
	n, err := normName(name)
	if err != nil {
		return "", fmt.Errorf("sqlite: mailbox %q: %w", name, store.ErrNoMailbox)
	}
	return n, nil
}

// parents returns the ancestors of name, outermost first.
func parents(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == store.Separator {
			out = append(out, name[:i])
		}
	}
	return out
}

// childRange bounds the names of a mailbox's descendants: they sort in
// [name+"/", name+"0") because '0' follows '/' in ASCII.
func childRange(name string) (lo, hi string) {
	return name + string(store.Separator), name + string(store.Separator+1)
}

var specialUses = map[string]string{
	`\all`:       `\All`,
	`\archive`:   `\Archive`,
	`\drafts`:    `\Drafts`,
	`\flagged`:   `\Flagged`,
	`\junk`:      `\Junk`,
	`\sent`:      `\Sent`,
	`\trash`:     `\Trash`,
	`\important`: `\Important`,
}

// normSpecialUse returns the canonical spelling of an RFC 6154 (and RFC
// 8457 \Important) attribute.
func normSpecialUse(use string) (string, error) {
	if use == "" {
		return "", nil
	}
	if u, ok := specialUses[strings.ToLower(use)]; ok {
		return u, nil
	}
	return "", fmt.Errorf("sqlite: special-use %q: %w", use, store.ErrUseAttr)
}
