package sortthread

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
)

// maxRefs bounds the references taken from one message, so that a
// hostile header cannot make threading slow.
const maxRefs = 1000

// MsgIDs returns the message ids "<...>" found in v, without the angle
// brackets and with any white space (folding) inside removed. Text
// outside angle brackets (comments, phrases) is ignored.
func MsgIDs(v string) []string {
	var out []string
	for len(out) < maxRefs {
		i := indexByte(v, '<')
		if i < 0 {
			break
		}
		v = v[i+1:]
		j := indexByte(v, '>')
		if j < 0 {
			break
		}
		id := v[:j]
		v = v[j+1:]
		if k := indexByte(id, '<'); k >= 0 {
			// "<a <b@c>": restart at the inner bracket.
			v = id[k:] + ">" + v
			continue
		}
		id = removeSpace(id)
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func removeSpace(s string) string {
	if indexByte(s, ' ') < 0 && indexByte(s, '\t') < 0 && indexByte(s, '\r') < 0 && indexByte(s, '\n') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			b = append(b, c)
		}
	}
	return string(b)
}

// headerField returns the unfolded value of the first field named name
// (lower case) in a raw header section, "" if absent.
func headerField(h []byte, name string) string {
	var val []byte
	in := false
	for len(h) > 0 {
		var line []byte
		if i := bytes.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			line, h = h, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if in {
				val = append(val, line...)
			}
			continue
		}
		if in {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon > 0 && len(name) == len(bytes.TrimRight(line[:colon], " \t")) &&
			bytes.EqualFold(bytes.TrimRight(line[:colon], " \t"), []byte(name)) {
			in = true
			val = append(val, line[colon+1:]...)
		}
	}
	return string(val)
}

// Node is one node of a thread tree. A dummy node (ID 0) stands for a
// message that is referenced but not present.
type Node struct {
	ID       uint32
	Children []*Node

	msg      *Msg
	seq      int // input position: the sequence-number tie-break
	parent   *Node
	removed  bool
	replaced *Node
}

// OrderedSubject threads msgs (in ascending message-number order) by
// THREAD=ORDEREDSUBJECT (RFC 5256 3): messages are grouped by base
// subject; in each group, ordered by sent date, the first message is the
// parent of all the others; groups are ordered by the sent date of their
// first message. Ties on dates go by message number.
func OrderedSubject(msgs []Msg) []*Node {
	idx := make([]int, len(msgs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		if r := cmp.Compare(msgs[i].Subject, msgs[j].Subject); r != 0 {
			return r
		}
		if r := cmp.Compare(msgs[i].Sent, msgs[j].Sent); r != 0 {
			return r
		}
		return cmp.Compare(i, j)
	})
	var roots []*Node
	for k := 0; k < len(idx); {
		first := idx[k]
		root := &Node{ID: msgs[first].ID, msg: &msgs[first], seq: first}
		k++
		for k < len(idx) && msgs[idx[k]].Subject == msgs[first].Subject {
			i := idx[k]
			root.Children = append(root.Children, &Node{ID: msgs[i].ID, msg: &msgs[i], seq: i})
			k++
		}
		roots = append(roots, root)
	}
	slices.SortStableFunc(roots, compareNodes)
	return roots
}

// compareNodes orders siblings by sent date then message number; a dummy
// counts as its first child (RFC 5256 3, REFERENCES step 6).
func compareNodes(a, b *Node) int {
	a, b = representative(a), representative(b)
	switch {
	case a.msg == nil && b.msg == nil:
		return 0
	case a.msg == nil:
		return 1
	case b.msg == nil:
		return -1
	}
	if r := cmp.Compare(a.msg.Sent, b.msg.Sent); r != 0 {
		return r
	}
	return cmp.Compare(a.seq, b.seq)
}

func representative(n *Node) *Node {
	for n.msg == nil && len(n.Children) > 0 {
		n = n.Children[0]
	}
	return n
}

// AppendThreads appends the thread-lists of roots in the THREAD response
// syntax of RFC 5256 4:
//
//	thread-list    = "(" (thread-members / thread-nested) ")"
//	thread-members = nz-number *(SP nz-number) [SP thread-nested]
//	thread-nested  = 2*thread-list
func AppendThreads(b []byte, roots []*Node) []byte {
	for _, r := range roots {
		b = append(b, '(')
		b = appendMembers(b, r)
		b = append(b, ')')
	}
	return b
}

func appendMembers(b []byte, n *Node) []byte {
	for {
		if n.ID == 0 {
			// A dummy has no number: its children follow as nested
			// lists (a lone child is written in its place).
			if len(n.Children) == 1 {
				n = n.Children[0]
				continue
			}
			for _, c := range n.Children {
				b = append(b, '(')
				b = appendMembers(b, c)
				b = append(b, ')')
			}
			return b
		}
		b = strconv.AppendUint(b, uint64(n.ID), 10)
		switch len(n.Children) {
		case 0:
			return b
		case 1:
			b = append(b, ' ')
			n = n.Children[0]
		default:
			b = append(b, ' ')
			for _, c := range n.Children {
				b = append(b, '(')
				b = appendMembers(b, c)
				b = append(b, ')')
			}
			return b
		}
	}
}
