package sortthread

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

// benchRecords builds n records like the imapserver SORT benchmark's:
// subjects repeat every 5,000 messages with reply prefixes, shuffled
// dates, each message referencing the one 5,000 before it.
func benchRecords(n int) []store.Record {
	recs := make([]store.Record, n)
	prefixes := []string{"", "Re: ", "[list] Re: ", "Fwd: "}
	for i := range recs {
		r := &recs[i]
		r.UID = uint32(i + 1)
		r.Size = int64(1000 + i%4000)
		r.InternalDate = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
		r.Parsed = &message.Parsed{Date: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((i*7919)%n) * time.Minute)}
		r.Parsed.Envelope = message.Envelope{
			Subject:   fmt.Sprintf("%sTopic number %d", prefixes[i/5000%4], i%5000),
			From:      []message.Address{{Name: fmt.Sprintf("Sender %d", i%311), Mailbox: fmt.Sprintf("user%d", i%97), Host: "example.org"}},
			MessageID: fmt.Sprintf("<sb%d@example.org>", i),
		}
		if i >= 5000 {
			r.Header = fmt.Appendf(nil, "Subject: x\r\nReferences: <sb%d@example.org>\r\n\r\n", i-5000)
		}
	}
	return recs
}

const benchN = 100000

// benchFields are the fields of benchRecords(benchN), computed once per
// process: what the server's sort cache holds once warm.
var benchFields = sync.OnceValue(func() []*Fields {
	recs := benchRecords(benchN)
	out := make([]*Fields, len(recs))
	for i := range recs {
		out[i] = NewFields(&recs[i])
	}
	return out
})

// BenchmarkFields100k computes the fields of 100,000 messages: the cold
// path of SORT and THREAD, once per message.
func BenchmarkFields100k(b *testing.B) {
	recs := benchRecords(benchN)
	b.ResetTimer()
	for range b.N {
		for i := range recs {
			_ = NewFields(&recs[i])
		}
	}
}

func benchSort(b *testing.B, crits []Criterion) {
	fields := benchFields()
	b.ResetTimer()
	for range b.N {
		msgs := make([]Msg, len(fields))
		for i, f := range fields {
			msgs[i] = Msg{ID: uint32(i + 1), Fields: f}
		}
		Sort(msgs, crits)
	}
}

func BenchmarkSortDate100k(b *testing.B)    { benchSort(b, []Criterion{{Key: Date}}) }
func BenchmarkSortSubject100k(b *testing.B) { benchSort(b, []Criterion{{Key: Subject}}) }
func BenchmarkSortFromReverseDate100k(b *testing.B) {
	benchSort(b, []Criterion{{Key: From}, {Key: Date, Reverse: true}})
}

func benchThread(b *testing.B, refs bool) {
	fields := benchFields()
	b.ResetTimer()
	for range b.N {
		msgs := make([]Msg, len(fields))
		for i, f := range fields {
			msgs[i] = Msg{ID: uint32(i + 1), Fields: f}
		}
		var roots []*Node
		if refs {
			roots = References(msgs)
		} else {
			roots = OrderedSubject(msgs)
		}
		_ = AppendThreads(nil, roots)
	}
}

func BenchmarkThreadOrderedSubject100k(b *testing.B) { benchThread(b, false) }
func BenchmarkThreadReferences100k(b *testing.B)     { benchThread(b, true) }
