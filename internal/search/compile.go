package search

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// opcode is a compiled search key.
type opcode uint8

const (
	opAll opcode = iota
	opNone
	opFlag    // str: system flag, exact (flags are stored in canonical case)
	opNotFlag // str
	opKeyword // str: keyword, case-insensitive
	opNotKeyword
	opRecent
	opNew
	opOld
	opSeqSet
	opUIDSet
	opLarger
	opSmaller
	opModSeq
	opBefore // day
	opOn
	opSince
	opSentBefore
	opSentOn
	opSentSince
	opSavedBefore
	opSavedOn
	opSavedSince
	opOlder    // num seconds
	opYounger  // num seconds
	opEmailID  // num: MessageID
	opThreadID // str: THREADID
	opHeader   // field (lower case), str (folded needle)
	opText     // str
	opBody     // str
	opNot      // sub[0]
	opOr       // sub[0], sub[1]
	opAnd      // sub
)

// node is one compiled key.
type node struct {
	op     opcode
	str    string // folded needle, flag or keyword
	field  string // HEADER field name, ASCII lower case
	num    uint64
	day    int32 // calendar date as dayKey
	ranges []imapwire.SeqRange
	saved  bool // "$"
	addr   bool // FROM, TO, CC, BCC: the envelope's addresses count too
	sub    []node
	cost   uint8
}

// Costs order the operands of AND and OR: cheap metadata tests run first
// so header parsing and body loading happen only when still relevant.
const (
	costMeta   = 0
	costHeader = 1
	costBody   = 2
)

// Program is a compiled search program (the ANDed top-level keys).
type Program struct {
	root      node
	needsBody bool
}

// NeedsBody reports whether evaluating p may load message bodies.
func (p *Program) NeedsBody() bool { return p.needsBody }

// Compile validates keys and prepares them for evaluation: strings are case
// folded once, dates become calendar dates, operands are ordered by cost.
// An unknown or malformed key yields an error (the server answers BAD).
func Compile(keys []imapwire.SearchKey) (*Program, error) {
	subs, err := compileList(keys)
	if err != nil {
		return nil, err
	}
	root := node{op: opAnd, sub: subs}
	root.cost = maxCost(subs)
	return &Program{root: root, needsBody: root.cost >= costBody}, nil
}

func compileList(keys []imapwire.SearchKey) ([]node, error) {
	out := make([]node, 0, len(keys))
	for i := range keys {
		n, err := compileKey(&keys[i])
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].cost < out[j].cost })
	return out, nil
}

func maxCost(nodes []node) uint8 {
	var c uint8
	for i := range nodes {
		c = max(c, nodes[i].cost)
	}
	return c
}

// systemFlags maps the flag search keys (RFC 9051 6.4.4) to the flag they
// test and whether the flag must be absent.
var systemFlags = map[string]struct {
	flag string
	not  bool
}{
	"ANSWERED":   {store.FlagAnswered, false},
	"DELETED":    {store.FlagDeleted, false},
	"DRAFT":      {store.FlagDraft, false},
	"FLAGGED":    {store.FlagFlagged, false},
	"SEEN":       {store.FlagSeen, false},
	"UNANSWERED": {store.FlagAnswered, true},
	"UNDELETED":  {store.FlagDeleted, true},
	"UNDRAFT":    {store.FlagDraft, true},
	"UNFLAGGED":  {store.FlagFlagged, true},
	"UNSEEN":     {store.FlagSeen, true},
}

// dateOps maps date keys to their opcodes.
var dateOps = map[string]opcode{
	"BEFORE":      opBefore,
	"ON":          opOn,
	"SINCE":       opSince,
	"SENTBEFORE":  opSentBefore,
	"SENTON":      opSentOn,
	"SENTSINCE":   opSentSince,
	"SAVEDBEFORE": opSavedBefore,
	"SAVEDON":     opSavedOn,
	"SAVEDSINCE":  opSavedSince,
}

// headerKeys maps the string keys that search one header field.
var headerKeys = map[string]string{
	"FROM":    "from",
	"TO":      "to",
	"CC":      "cc",
	"BCC":     "bcc",
	"SUBJECT": "subject",
}

func compileKey(k *imapwire.SearchKey) (node, error) {
	op := strings.ToUpper(k.Op)
	if f, ok := systemFlags[op]; ok {
		if f.not {
			return node{op: opNotFlag, str: f.flag}, nil
		}
		return node{op: opFlag, str: f.flag}, nil
	}
	if dop, ok := dateOps[op]; ok {
		if k.Date.IsZero() {
			return node{}, fmt.Errorf("search: %s without a date", op)
		}
		return node{op: dop, day: dayKey(k.Date)}, nil
	}
	if field, ok := headerKeys[op]; ok {
		if k.Value == "" {
			// RFC 9051 6.4.4: the empty string is a substring of anything.
			return node{op: opAll}, nil
		}
		return node{op: opHeader, field: field, str: foldString(k.Value), cost: costHeader, addr: field != "subject"}, nil
	}
	switch op {
	case "ALL":
		return node{op: opAll}, nil
	case "SAVEDATESUPPORTED":
		// RFC 8514 4.3: every mailbox of this store keeps save dates.
		return node{op: opAll}, nil
	case "THREADID":
		// RFC 8474 6: objectids compare exactly; the store puts the
		// thread computed at delivery in the record's model.
		return node{op: opThreadID, str: k.Value}, nil
	case "KEYWORD":
		return node{op: opKeyword, str: k.Value}, nil
	case "UNKEYWORD":
		return node{op: opNotKeyword, str: k.Value}, nil
	case "RECENT":
		return node{op: opRecent}, nil
	case "NEW":
		return node{op: opNew}, nil
	case "OLD":
		return node{op: opOld}, nil
	case "SEQSET", "UID":
		if k.Seq == nil {
			return node{}, fmt.Errorf("search: %s without a set", op)
		}
		n := node{op: opSeqSet, ranges: k.Seq.Ranges, saved: k.Seq.Saved}
		if op == "UID" {
			n.op = opUIDSet
		}
		return n, nil
	case "LARGER":
		return node{op: opLarger, num: k.Number}, nil
	case "SMALLER":
		return node{op: opSmaller, num: k.Number}, nil
	case "MODSEQ":
		return node{op: opModSeq, num: k.Number}, nil
	case "OLDER":
		return node{op: opOlder, num: k.Number}, nil
	case "YOUNGER":
		return node{op: opYounger, num: k.Number}, nil
	case "EMAILID":
		// RFC 8474 5: objectids compare exactly; a value EmailID cannot
		// produce names no message.
		v := k.Value
		if len(v) > 1 && v[0] == 'M' {
			if id, err := strconv.ParseInt(v[1:], 10, 64); err == nil && EmailID(store.MessageID(id)) == v {
				return node{op: opEmailID, num: uint64(id)}, nil
			}
		}
		return node{op: opNone}, nil
	case "HEADER":
		return node{op: opHeader, field: strings.ToLower(k.Field), str: foldString(k.Value), cost: costHeader}, nil
	case "BODY", "TEXT":
		if k.Value == "" {
			// The empty string is a substring of any message: no need to load it.
			return node{op: opAll}, nil
		}
		if op == "TEXT" {
			return node{op: opText, str: foldString(k.Value), cost: costBody}, nil
		}
		return node{op: opBody, str: foldString(k.Value), cost: costBody}, nil
	case "NOT":
		if len(k.Sub) != 1 {
			return node{}, fmt.Errorf("search: NOT needs one key, got %d", len(k.Sub))
		}
		subs, err := compileList(k.Sub)
		if err != nil {
			return node{}, err
		}
		return node{op: opNot, sub: subs, cost: subs[0].cost}, nil
	case "OR":
		if len(k.Sub) != 2 {
			return node{}, fmt.Errorf("search: OR needs two keys, got %d", len(k.Sub))
		}
		subs, err := compileList(k.Sub)
		if err != nil {
			return node{}, err
		}
		return node{op: opOr, sub: subs, cost: maxCost(subs)}, nil
	case "AND":
		subs, err := compileList(k.Sub)
		if err != nil {
			return node{}, err
		}
		return node{op: opAnd, sub: subs, cost: maxCost(subs)}, nil
	}
	return node{}, fmt.Errorf("search: unknown search key %q", k.Op)
}

// dayKey turns the calendar date of t, in t's own location, into an
// ordered integer (RFC 9051 6.4.4: date keys disregard time and timezone).
func dayKey(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(y)<<9 | int32(m)<<5 | int32(d)
}
