package main

import (
	"fmt"
	"io"
	"math/bits"
	"time"
)

// hist is a latency histogram with bounded memory: values in microseconds
// grouped by power of two, each power split into subBuckets linear
// buckets, so a percentile is within 1/subBuckets (about 3%) of the truth
// whatever the run length.
type hist struct {
	counts [64 * subBuckets]uint64
	n      uint64
	errors uint64
	sum    time.Duration
	max    time.Duration
}

const subBits = 5
const subBuckets = 1 << subBits

func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	e := bits.Len64(us) - 1 - subBits // us >> e is in [subBuckets, 2*subBuckets)
	return (e+1)*subBuckets + int(us>>e) - subBuckets
}

// bucketHigh is the largest value (µs) of bucket i.
func bucketHigh(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	e := i/subBuckets - 1
	m := uint64(i%subBuckets + subBuckets)
	return (m+1)<<e - 1
}

func (h *hist) add(d time.Duration) {
	us := uint64(d / time.Microsecond)
	h.counts[bucketOf(us)]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.errors += o.errors
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// percentile returns the upper bound of the bucket holding the p-th
// percentile (0 < p <= 100), capped by the maximum seen.
func (h *hist) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(p / 100 * float64(h.n))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketHigh(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}

// report prints one line per command of the mix, then the total.
func report(w io.Writer, names []string, hs map[string]*hist, elapsed time.Duration) {
	fmt.Fprintf(w, "%-14s %8s %6s %9s %9s %9s %9s %9s %9s\n", "command", "count", "errors", "ops/s", "mean", "p50", "p90", "p99", "max")
	var total hist
	for _, n := range names {
		h := hs[n]
		if h == nil || h.n+h.errors == 0 {
			continue
		}
		total.merge(h)
		line(w, n, h, elapsed)
	}
	line(w, "total", &total, elapsed)
}

func line(w io.Writer, name string, h *hist, elapsed time.Duration) {
	var mean time.Duration
	if h.n > 0 {
		mean = h.sum / time.Duration(h.n)
	}
	fmt.Fprintf(w, "%-14s %8d %6d %9.1f %9s %9s %9s %9s %9s\n", name, h.n, h.errors,
		float64(h.n)/elapsed.Seconds(), ms(mean), ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)), ms(h.max))
}

// ms formats a latency in milliseconds with three decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }
