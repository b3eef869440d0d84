package sqlite

import (
	"sync"

	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

// DefaultCacheSize is the memory budget of the message-model cache when
// Options.CacheSize is 0.
const DefaultCacheSize = 64 << 20

// modelCache keeps the decoded model and raw header of recently read
// messages, by MessageID, so FETCH ENVELOPE/BODYSTRUCTURE and header
// SEARCH over a mailbox read only the small mailbox_messages rows: no join
// to messages, no decoding. A messages row never changes once written and
// its id is never reused (AUTOINCREMENT), so entries never go stale; an
// entry of a deleted message just ages out.
//
// The cached values are shared by every Record returned for that message:
// callers must treat Record.Parsed and Record.Header as read-only (they
// already do: the protocol layer only formats them).
//
// Eviction is least-recently-used under a byte budget, each entry costing
// an estimate of its heap size.
type modelCache struct {
	mu      sync.Mutex
	max     int64
	used    int64
	entries map[store.MessageID]*cacheEntry
	head    cacheEntry // sentinel: head.next is the most recently used
}

type cacheEntry struct {
	id         store.MessageID
	header     []byte
	parsed     *message.Parsed
	cost       int64
	prev, next *cacheEntry
}

// entryOverhead approximates the map slot, list links and the fixed part
// of a decoded model (Parsed plus one Part).
const entryOverhead = 900

// newModelCache returns a cache of at most max bytes, or nil (no cache)
// if max <= 0.
func newModelCache(max int64) *modelCache {
	if max <= 0 {
		return nil
	}
	c := &modelCache{max: max, entries: map[store.MessageID]*cacheEntry{}}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// costOf estimates the heap held by a cached message: its header, the
// strings of its model (shared in one allocation about the size of the
// encoded form) plus the structs the encoded form expands into.
func costOf(header []byte, encodedLen int) int64 {
	return int64(len(header)) + 3*int64(encodedLen) + entryOverhead
}

// fill sets Header and Parsed of the records whose message is cached and
// returns the indexes of the others. One lock for the whole batch.
func (c *modelCache) fill(recs []store.Record, miss []int) []int {
	if c == nil {
		for i := range recs {
			miss = append(miss, i)
		}
		return miss
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range recs {
		e := c.entries[recs[i].MessageID]
		if e == nil {
			miss = append(miss, i)
			continue
		}
		recs[i].Header, recs[i].Parsed = e.header, e.parsed
		c.unlink(e)
		c.pushFront(e)
	}
	return miss
}

// add caches one message's header and model.
func (c *modelCache) add(id store.MessageID, header []byte, p *message.Parsed, cost int64) {
	if c == nil || cost > c.max/8 {
		return // one huge header must not flush the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[id]; e != nil {
		c.unlink(e)
		c.pushFront(e)
		return
	}
	e := &cacheEntry{id: id, header: header, parsed: p, cost: cost}
	c.entries[id] = e
	c.pushFront(e)
	c.used += cost
	for c.used > c.max {
		old := c.head.prev
		c.unlink(old)
		delete(c.entries, old.id)
		c.used -= old.cost
	}
}

// stats returns the number of entries and the bytes charged (tests).
func (c *modelCache) stats() (n int, used int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.used
}

func (c *modelCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *modelCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}
