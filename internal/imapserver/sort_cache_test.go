package imapserver

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/search/sortthread"
)

func cacheFields(uids ...uint32) []*sortthread.Fields {
	out := make([]*sortthread.Fields, len(uids))
	for i, u := range uids {
		out[i] = &sortthread.Fields{UID: u}
	}
	return out
}

// missing returns the UIDs of uids the cache lacks for k.
func missing(c *sortCache, k sortTableKey, uids ...uint32) []uint32 {
	out := make([]*sortthread.Fields, len(uids))
	var miss []uint32
	for _, i := range c.get(k, uids, out) {
		miss = append(miss, uids[i])
	}
	for i, f := range out {
		if f != nil && f.UID != uids[i] {
			panic("wrong fields")
		}
	}
	return miss
}

// TestSortCache: tables are per mailbox incarnation; over the budget the
// least recently used other mailbox goes, and a mailbox alone over it
// keeps what fits; prune drops expunged UIDs once they are many.
func TestSortCache(t *testing.T) {
	one := int64((&sortthread.Fields{}).Cost() + 16)
	c := &sortCache{budget: 4 * one}
	a, b := sortTableKey{user: 1, mailbox: 1, uidValidity: 7}, sortTableKey{user: 1, mailbox: 2, uidValidity: 7}
	c.put(a, cacheFields(1, 2))
	if got := missing(c, a, 1, 2, 3); len(got) != 1 || got[0] != 3 {
		t.Fatalf("a: missing %v", got)
	}
	if got := missing(c, sortTableKey{user: 1, mailbox: 1, uidValidity: 8}, 1); len(got) != 1 {
		t.Fatalf("new UIDVALIDITY: missing %v", got)
	}
	c.put(b, cacheFields(1, 2))
	missing(c, a, 1) // a is now the most recently used
	c.put(b, cacheFields(3))
	if got := missing(c, a, 1, 2); len(got) != 2 {
		t.Fatalf("a should be evicted for b, missing %v", got)
	}
	if got := missing(c, b, 1, 2, 3); len(got) != 0 {
		t.Fatalf("b: missing %v", got)
	}
	c.put(b, cacheFields(4, 5, 6))
	if got := missing(c, b, 1, 2, 3, 4, 5, 6); len(got) != 2 || got[0] != 5 || c.cost != 4*one {
		t.Fatalf("b over the budget: missing %v, cost %d", got, c.cost)
	}

	c = &sortCache{}
	var uids []uint32
	for u := uint32(1); u <= 3000; u++ {
		uids = append(uids, u)
	}
	c.put(a, cacheFields(uids...))
	c.prune(a, uids[:2000]) // few expunged: kept
	if got := missing(c, a, 3000); len(got) != 0 {
		t.Fatalf("pruned too early")
	}
	c.prune(a, uids[:100])
	if got := missing(c, a, 100, 101, 3000); len(got) != 2 || c.cost != 100*one {
		t.Fatalf("after prune: missing %v, cost %d", got, c.cost)
	}
}

// TestSortFieldsParallelFill: the first SORT of a mailbox larger than one
// batch reads its records with several workers; the order must be the
// same as with one (dates here run backwards, so SORT (DATE) reverses the
// UIDs), and the second SORT, from the cache, must agree.
func TestSortFieldsParallelFill(t *testing.T) {
	ts := newTestServer(t)
	const n = 3*fetchBatch + 17
	for i := 0; i < n; i++ {
		d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n-i) * time.Minute)
		ts.deliver(t, "alice", "INBOX", "Date: "+d.Format(time.RFC1123Z)+"\r\nSubject: m"+strconv.Itoa(i)+"\r\n\r\nbody\r\n")
	}
	want := make([]string, n)
	for i := range want {
		want[i] = strconv.Itoa(n - i)
	}
	line := "* SORT " + strings.Join(want, " ")
	c := ts.rawLogin(t, "alice")
	c.cmd("s SELECT INBOX")
	c.expectCmd("a UID SORT (DATE) UTF-8 ALL", line, "a OK UID SORT completed")
	c.expectCmd("b UID SORT (DATE) UTF-8 ALL", line, "b OK UID SORT completed")
}
