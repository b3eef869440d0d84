package sortthread

import "slices"

// References threads msgs (in ascending message-number order) by
// THREAD=REFERENCES (RFC 5256 3), the algorithm of Jamie Zawinski with
// the RFC's steps and orderings.
func References(msgs []Msg) []*Node {
	// (1) Link messages by Message-ID and references.
	table := make(map[string]*Node, len(msgs))
	all := make([]*Node, 0, len(msgs))
	newNode := func() *Node {
		n := &Node{seq: -1}
		all = append(all, n)
		return n
	}
	for i := range msgs {
		m := &msgs[i]
		var c *Node
		if m.MessageID != "" {
			// (1A) A duplicate Message-ID is treated as unique.
			if c = table[m.MessageID]; c == nil {
				c = newNode()
				table[m.MessageID] = c
			} else if c.msg != nil {
				c = nil
			}
		}
		if c == nil {
			c = newNode()
		}
		c.msg, c.ID, c.seq = m, m.ID, i
		// (1B) Link the references in order, parent to child, never
		// changing an existing parent nor making a loop.
		var prev *Node
		for _, ref := range m.Refs {
			rc := table[ref]
			if rc == nil {
				rc = newNode()
				table[ref] = rc
			}
			if prev != nil && rc.parent == nil && !wouldLoop(prev, rc) {
				link(prev, rc)
			}
			prev = rc
		}
		// (1C) The last reference is the message's parent, replacing one
		// set by a (truncated) References field seen earlier.
		if prev != nil && !wouldLoop(prev, c) {
			if c.parent != nil {
				unlink(c)
			}
			link(prev, c)
		}
	}
	// (2) The root set; (3) the id table is no longer needed.
	var roots []*Node
	for _, n := range all {
		if n.parent == nil {
			roots = append(roots, n)
		}
	}
	// (4) Prune dummies.
	roots = prune(roots, true)
	for _, r := range roots {
		r.parent = nil
	}
	// (5A) Sort the root set by sent date (a dummy by its first child).
	sortTree(roots)
	// (5B, 5C) Base subject table: per subject, the root to gather under.
	subjects := make(map[string]*Node)
	for _, r := range roots {
		s, ok := threadSubject(r)
		if !ok {
			continue
		}
		old := subjects[s]
		if old == nil ||
			(r.msg == nil && old.msg != nil) ||
			(r.msg != nil && old.msg != nil && old.msg.ReplyOrFwd && !r.msg.ReplyOrFwd) {
			subjects[s] = r
		}
	}
	// (5D) Merge the roots that share a subject.
	for _, r := range roots {
		if r.removed || r.replaced != nil {
			continue // already gathered under another root
		}
		s, ok := threadSubject(r)
		if !ok {
			continue
		}
		t := subjects[s]
		if t == r {
			continue
		}
		switch {
		case t.msg == nil && r.msg == nil:
			for _, c := range r.Children {
				link(t, c)
			}
			r.Children = nil
			r.removed = true
		case t.msg == nil && r.msg != nil,
			r.msg != nil && t.msg != nil && r.msg.ReplyOrFwd && !t.msg.ReplyOrFwd:
			link(t, r)
			r.removed = true
		default:
			d := &Node{seq: -1}
			link(d, t)
			link(d, r)
			t.replaced = d
			r.removed = true
			subjects[s] = d
		}
	}
	out := roots[:0]
	for _, r := range roots {
		if r.removed {
			continue
		}
		for r.replaced != nil {
			r = r.replaced
		}
		out = append(out, r)
	}
	// (6) Sort every set of siblings by sent date.
	sortTree(out)
	return out
}

// threadSubject is the subject of a root (5C): its own, or its first
// child's if it is a dummy; ok false when that is empty.
func threadSubject(n *Node) (string, bool) {
	if n.msg == nil && len(n.Children) > 0 {
		n = n.Children[0]
	}
	if n.msg == nil || n.msg.Subject == "" {
		return "", false
	}
	return n.msg.Subject, true
}

// wouldLoop tells whether making child a child of parent would create a
// loop: child is parent itself or one of its ancestors.
func wouldLoop(parent, child *Node) bool {
	for p := parent; p != nil; p = p.parent {
		if p == child {
			return true
		}
	}
	return false
}

func link(parent, child *Node) {
	child.parent = parent
	parent.Children = append(parent.Children, child)
}

func unlink(c *Node) {
	p := c.parent
	if i := slices.Index(p.Children, c); i >= 0 {
		p.Children = slices.Delete(p.Children, i, i+1)
	}
	c.parent = nil
}

// prune applies step 4 to a list of siblings, children first: a dummy
// without children goes; a dummy with children is replaced by them,
// except at the root level where it stays unless it has one child.
func prune(list []*Node, root bool) []*Node {
	out := make([]*Node, 0, len(list))
	for _, n := range list {
		n.Children = prune(n.Children, false)
		if n.msg != nil {
			out = append(out, n)
			continue
		}
		switch {
		case len(n.Children) == 0:
		case !root || len(n.Children) == 1:
			for _, c := range n.Children {
				c.parent = n.parent
			}
			out = append(out, n.Children...)
		default:
			out = append(out, n)
		}
	}
	return out
}

// sortTree sorts every set of siblings by sent date, children before
// parents so that a dummy can be placed by its first child.
func sortTree(list []*Node) {
	for _, n := range list {
		sortTree(n.Children)
	}
	slices.SortStableFunc(list, compareNodes)
}
