package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/casier/casier/internal/store"
)

// StoreSize is the amount of mail in the store: messages as mailboxes
// count them (a message copied to two mailboxes counts twice) and the sum
// of their RFC822.SIZE.
type StoreSize struct {
	Messages int64
	Bytes    int64
}

// SizeFunc computes the store's size.
type SizeFunc func(ctx context.Context) (StoreSize, error)

// StoreSizer is an optional interface of a store engine that can total
// its mailbox counters in one query; StoreSizeOf uses it when present.
type StoreSizer interface {
	StoreSize(ctx context.Context) (StoreSize, error)
}

// DefaultStoreSizeTTL is how long a computed store size is served before
// the next scrape computes it again.
const DefaultStoreSizeTTL = 30 * time.Second

// storeSizeTimeout bounds one computation, so a slow store cannot hold a
// scrape for ever.
const storeSizeTimeout = 10 * time.Second

// StoreSizeOf returns a SizeFunc over st. Without StoreSizer it sums the
// counters the engine keeps per folder (store.MailboxStatus: Messages,
// Size), one Status call per folder and never a scan of messages; virtual
// mailboxes (All Mail, label folders) store nothing and are left out.
func StoreSizeOf(st store.Store) SizeFunc {
	if s, ok := st.(StoreSizer); ok {
		return s.StoreSize
	}
	return func(ctx context.Context) (StoreSize, error) {
		var total StoreSize
		users, err := st.Users(ctx)
		if err != nil {
			return total, err
		}
		for _, u := range users {
			acct, err := st.Account(ctx, u.ID)
			if err != nil {
				return total, err
			}
			mboxes, err := acct.Mailboxes(ctx)
			if err != nil {
				return total, err
			}
			for _, mb := range mboxes {
				if mb.Kind != store.KindFolder {
					// All Mail and label folders show messages of the
					// folders: counting them would count those twice.
					continue
				}
				status, err := acct.Status(ctx, mb.ID)
				if err != nil {
					return total, err
				}
				total.Messages += int64(status.Messages)
				total.Bytes += status.Size
			}
		}
		return total, nil
	}
}

// WatchStoreSize adds casier_store_messages and casier_store_bytes,
// computed by f when scraped, at most once per ttl (0: DefaultStoreSizeTTL).
// Concurrent scrapes share one computation. When f fails the last values
// are kept (none before the first success) and
// casier_store_size_errors_total counts the failure.
func (m *Metrics) WatchStoreSize(f SizeFunc, ttl time.Duration) {
	if m == nil {
		return
	}
	if ttl <= 0 {
		ttl = DefaultStoreSizeTTL
	}
	m.size = &sizeCollector{
		f:   f,
		ttl: ttl,
		now: time.Now,
		messages: prometheus.NewDesc("casier_store_messages",
			"Messages in all mailboxes (a copy in another mailbox counts again); refreshed at most every "+ttl.String()+".", nil, nil),
		bytes: prometheus.NewDesc("casier_store_bytes",
			"Sum of the RFC822.SIZE of the messages in all mailboxes; refreshed at most every "+ttl.String()+".", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "casier_store_size_errors_total",
			Help: "Failed computations of the store size.",
		}),
	}
	m.register(m.size)
}

// sizeCollector caches the store size between scrapes.
type sizeCollector struct {
	f               SizeFunc
	ttl             time.Duration
	now             func() time.Time
	messages, bytes *prometheus.Desc
	errors          prometheus.Counter

	mu   sync.Mutex // held while computing: one computation at a time
	last StoreSize
	ok   bool      // last holds a value
	at   time.Time // when f last ran (success or failure)
}

func (c *sizeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.bytes
	c.errors.Describe(ch)
}

func (c *sizeCollector) Collect(ch chan<- prometheus.Metric) {
	size, ok := c.get()
	if ok {
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(size.Messages))
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(size.Bytes))
	}
	c.errors.Collect(ch)
}

// get returns the cached size, computing it when older than ttl. A failure
// also waits ttl before the next try, so a broken store is not hammered by
// every scrape.
func (c *sizeCollector) get() (StoreSize, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.at.IsZero() && now.Sub(c.at) < c.ttl {
		return c.last, c.ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeSizeTimeout)
	defer cancel()
	size, err := c.f(ctx)
	c.at = now
	if err != nil {
		c.errors.Inc()
		return c.last, c.ok
	}
	c.last, c.ok = size, true
	return size, true
}
