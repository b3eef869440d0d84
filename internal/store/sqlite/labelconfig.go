package sqlite

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/casier/casier/internal/store"
)

// The label settings (Options.LabelPrefix, Options.LabelExclude) and the
// rules they give: which keywords are labels, and the names of their
// folders (docs/labels.md).

// DefaultLabelPrefix is the parent of the label folders when
// Options.LabelPrefix is empty.
const DefaultLabelPrefix = "Labels"

// allMailName is the name of the All Mail of a new user.
const allMailName = "All Mail"

// DefaultLabelExclude returns the keywords that mail clients set by
// themselves and that are therefore not labels (docs/labels.md).
func DefaultLabelExclude() []string {
	return []string{"$Forwarded", "$MDNSent", "$Junk", "$NotJunk", "Junk", "NonJunk", "NotJunk",
		"$Phishing", "$SubmitPending", "$Submitted", "$HasAttachment", "$HasNoAttachment",
		"$MailFlagBit0", "$MailFlagBit1", "$MailFlagBit2"}
}

// labelNameRule is the reason given when a label name is not a keyword.
const labelNameRule = `label names must be IMAP keywords: no spaces, no ( ) { % * " \ ] or /`

// labelConfig is the engine's label settings.
type labelConfig struct {
	prefix  string
	exclude map[string]bool // folded keywords
}

func newLabelConfig(prefix string, exclude []string) (labelConfig, error) {
	if prefix == "" {
		prefix = DefaultLabelPrefix
	}
	p, err := normName(prefix)
	if err != nil {
		return labelConfig{}, fmt.Errorf("sqlite: label prefix: %w", err)
	}
	if first, _, _ := strings.Cut(p, string(store.Separator)); first == "INBOX" {
		return labelConfig{}, fmt.Errorf("sqlite: label prefix %q: INBOX cannot hold the labels: %w", prefix, store.ErrInvalidName)
	}
	if exclude == nil {
		exclude = DefaultLabelExclude()
	}
	c := labelConfig{prefix: p, exclude: map[string]bool{}}
	for _, k := range exclude {
		c.exclude[fold(k)] = true
	}
	return c, nil
}

// hash identifies the settings, so Open notices when they change.
func (c labelConfig) hash() int64 {
	ex := make([]string, 0, len(c.exclude))
	for k := range c.exclude {
		ex = append(ex, k)
	}
	sort.Strings(ex)
	h := fnv.New64a()
	h.Write([]byte(c.prefix))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(ex, " ")))
	return int64(h.Sum64() >> 1)
}

// settings is c in its stored form (exclusions folded and sorted).
func (c labelConfig) settings() labelSettings {
	ex := make([]string, 0, len(c.exclude))
	for k := range c.exclude {
		ex = append(ex, k)
	}
	sort.Strings(ex)
	return labelSettings{Prefix: c.prefix, Exclude: ex}
}

// isLabel reports whether keyword k can be a label: a keyword whose folder
// name is valid (no '/') and that clients do not set by themselves.
func (c labelConfig) isLabel(k string) bool {
	return validKeyword(k) && !strings.ContainsRune(k, store.Separator) && !c.exclude[fold(k)]
}

// labelName is the folder name of label k.
func (c labelConfig) labelName(k string) string { return c.prefix + string(store.Separator) + k }

// inPrefix reports whether name is the label root or under it.
func (c labelConfig) inPrefix(name string) bool {
	return name == c.prefix || strings.HasPrefix(name, c.prefix+string(store.Separator))
}

// labelOf returns the label part of a label folder's name.
func labelOf(name string) string { return name[strings.LastIndexByte(name, store.Separator)+1:] }

// checkLabelName validates the keyword of a label to create or rename to.
func (c labelConfig) checkLabelName(k string) error {
	if !validKeyword(k) || strings.ContainsRune(k, store.Separator) {
		return store.Cannot(labelNameRule)
	}
	if c.exclude[fold(k)] {
		return store.Cannot(k + " is a flag that mail clients set, not a label")
	}
	return nil
}
