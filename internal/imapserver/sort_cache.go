package imapserver

import (
	"runtime"
	"slices"
	"sync"

	"github.com/casier/casier/internal/search/sortthread"
	"github.com/casier/casier/internal/store"
)

// The sort cache keeps what SORT and THREAD read of each message (its
// sortthread.Fields), by mailbox and UID, for every session of the server.
// Without it each SORT of a mailbox loads every record: at 100,000
// messages that is most of a second, spent reading rows and decoding
// models the store's model cache cannot all hold, for a few keys per
// message (docs/benchmarks.md, "SORT and THREAD"). With it a repeated
// SORT reads nothing from the store beyond what its search keys need.
//
// Entries never go stale: a UID names one message for the life of the
// mailbox's UIDVALIDITY (RFC 9051 2.3.1.1), and a message never changes.
// Expunged messages only waste room until their mailbox's table is pruned
// (sortFields) or evicted.

// sortCacheBudget bounds the memory of the cache, estimated with
// Fields.Cost (about 300 bytes a message); whole mailboxes are evicted,
// least recently used first.
const sortCacheBudget = 64 << 20

// sortTableKey names one mailbox incarnation: mailbox ids are per store,
// and a mailbox recreated under a name gets a new UIDVALIDITY.
type sortTableKey struct {
	user        store.UserID
	mailbox     store.MailboxID
	uidValidity uint32
}

type sortTable struct {
	fields map[uint32]*sortthread.Fields
	cost   int64
	used   uint64 // sortCache.clock at the last use
}

// sortCache is safe for concurrent use; its zero value is empty.
type sortCache struct {
	mu     sync.Mutex
	budget int64 // 0: sortCacheBudget (tests set less)
	tables map[sortTableKey]*sortTable
	cost   int64
	clock  uint64
}

// get fills out[i] with the cached fields of uids[i] and returns the
// indexes of those it lacks, ascending.
func (c *sortCache) get(k sortTableKey, uids []uint32, out []*sortthread.Fields) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tables[k]
	if t == nil {
		miss := make([]int, len(uids))
		for i := range miss {
			miss[i] = i
		}
		return miss
	}
	c.clock++
	t.used = c.clock
	var miss []int
	for i, u := range uids {
		if f := t.fields[u]; f != nil {
			out[i] = f
		} else {
			miss = append(miss, i)
		}
	}
	return miss
}

// put adds fields to the table of k, then evicts the least recently used
// other tables while the cache is over its budget. A table that would
// pass the budget alone takes no more entries.
func (c *sortCache) put(k sortTableKey, fields []*sortthread.Fields) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tables == nil {
		c.tables = make(map[sortTableKey]*sortTable)
	}
	t := c.tables[k]
	if t == nil {
		t = &sortTable{fields: make(map[uint32]*sortthread.Fields, len(fields))}
		c.tables[k] = t
	}
	c.clock++
	t.used = c.clock
	budget := c.budget
	if budget == 0 {
		budget = sortCacheBudget
	}
	for _, f := range fields {
		if _, ok := t.fields[f.UID]; ok {
			continue
		}
		cost := int64(f.Cost()) + 16 // the map slot
		if t.cost+cost > budget {
			break
		}
		t.fields[f.UID] = f
		t.cost += cost
		c.cost += cost
	}
	for c.cost > budget {
		var oldest sortTableKey
		var ot *sortTable
		for ok, o := range c.tables {
			if o != t && (ot == nil || o.used < ot.used) {
				oldest, ot = ok, o
			}
		}
		if ot == nil {
			break
		}
		c.cost -= ot.cost
		delete(c.tables, oldest)
	}
}

// prune drops from the table of k the UIDs not in live (ascending), when
// expunged messages make up a good part of it.
func (c *sortCache) prune(k sortTableKey, live []uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tables[k]
	if t == nil || len(t.fields) <= len(live)+len(live)/4+1024 {
		return
	}
	for u, f := range t.fields {
		if _, ok := slices.BinarySearch(live, u); !ok {
			cost := int64(f.Cost()) + 16
			t.cost -= cost
			c.cost -= cost
			delete(t.fields, u)
		}
	}
}

// maxSortReaders bounds the workers that read the records of a first SORT.
const maxSortReaders = 4

// sortFields returns the fields of the selected mailbox's messages
// numbered msns (ascending), nil for one that another session expunged
// meanwhile. They come from the server's sort cache; the records of the
// others are read in batches (no body) and their fields cached.
func (s *Session) sortFields(msns []uint32) ([]*sortthread.Fields, error) {
	sel := s.sel
	k := sortTableKey{user: s.acct.UserID(), mailbox: sel.mbox.ID, uidValidity: sel.mbox.UIDValidity}
	uids := make([]uint32, len(msns))
	for i, n := range msns {
		uids[i] = sel.uids[n-1]
	}
	cache := &s.srv.sortCache
	cache.prune(k, sel.uids)
	out := make([]*sortthread.Fields, len(uids))
	miss := cache.get(k, uids, out)
	// The first SORT of a large mailbox reads every record: batches go
	// to a few workers (the store has several read connections and the
	// decoding is CPU work), which share nothing but out's distinct
	// slots and the cache, which locks.
	var batches [][]int
	for start := 0; start < len(miss); start += fetchBatch {
		batches = append(batches, miss[start:min(start+fetchBatch, len(miss))])
	}
	workers := min(runtime.GOMAXPROCS(0), maxSortReaders, len(batches))
	next := make(chan []int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk := make([]uint32, 0, fetchBatch)
			for part := range next {
				chunk = chunk[:0]
				for _, i := range part {
					chunk = append(chunk, uids[i])
				}
				recs, err := s.acct.Records(s.ctx, sel.mbox.ID, chunk)
				if err != nil {
					errs <- err
					for range next {
					}
					return
				}
				got := make([]*sortthread.Fields, 0, len(recs))
				j := 0
				for _, i := range part {
					for j < len(recs) && recs[j].UID < uids[i] {
						j++
					}
					if j == len(recs) || recs[j].UID != uids[i] {
						continue
					}
					out[i] = sortthread.NewFields(&recs[j])
					got = append(got, out[i])
				}
				cache.put(k, got)
			}
		}()
	}
	for _, b := range batches {
		next <- b
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, errFromStore(err)
	}
	return out, nil
}
