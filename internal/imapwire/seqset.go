package imapwire

import (
	"slices"
	"strconv"
	"strings"
)

// SeqSet reads a sequence-set (RFC 9051 9): seq-number / seq-range, comma
// separated, where a seq-number is an nz-number or "*"; or "$", the saved
// result of RFC 5182 (only alone).
func (d *Decoder) SeqSet() (SeqSet, error) {
	d.begin()
	r := d.rest()
	i := 0
	for i < len(r) && (isDigit(r[i]) || r[i] == '*' || r[i] == ':' || r[i] == ',' || r[i] == '$') {
		i++
	}
	s, err := ParseSeqSet(string(r[:i]))
	if err != nil {
		return SeqSet{}, err
	}
	d.pos += i
	return s, nil
}

// ParseSeqSet parses the text of a sequence-set (see Decoder.SeqSet).
func ParseSeqSet(s string) (SeqSet, error) {
	if s == "" {
		return SeqSet{}, syntaxErr("expected sequence set")
	}
	if s == "$" {
		return SeqSet{Saved: true}, nil
	}
	var set SeqSet
	for len(s) > 0 {
		part := s
		if i := strings.IndexByte(s, ','); i >= 0 {
			part, s = s[:i], s[i+1:]
			if s == "" {
				return SeqSet{}, syntaxErr("sequence set ends with a comma")
			}
		} else {
			s = ""
		}
		var r SeqRange
		var err error
		if i := strings.IndexByte(part, ':'); i >= 0 {
			if r.Start, err = parseSeqNumber(part[:i]); err != nil {
				return SeqSet{}, err
			}
			if r.Stop, err = parseSeqNumber(part[i+1:]); err != nil {
				return SeqSet{}, err
			}
		} else {
			if r.Start, err = parseSeqNumber(part); err != nil {
				return SeqSet{}, err
			}
			r.Stop = r.Start
		}
		set.Ranges = append(set.Ranges, r)
	}
	return set, nil
}

// parseSeqNumber parses nz-number / "*" ("*" is 0).
func parseSeqNumber(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	if s == "" || s[0] == '0' {
		return 0, syntaxErr("invalid sequence number")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, syntaxErr("invalid sequence number")
	}
	return uint32(n), nil
}

// bounds returns the range with "*" replaced by max and Start <= Stop.
func (r SeqRange) bounds(max uint32) (lo, hi uint32) {
	lo, hi = r.Start, r.Stop
	if lo == 0 {
		lo = max
	}
	if hi == 0 {
		hi = max
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// Contains tells whether n is in the set, max standing for "*" (RFC 9051
// 9: "*" is the largest number in use). It is false for n == 0 and for a
// Saved set, which the caller resolves first.
func (s SeqSet) Contains(n, max uint32) bool {
	if n == 0 {
		return false
	}
	for _, r := range s.Ranges {
		if lo, hi := r.bounds(max); n >= lo && n <= hi {
			return true
		}
	}
	return false
}

// Normalize returns the ranges of the set with "*" replaced by max, clipped
// to 1..max, sorted and merged (Start <= Stop, no overlap or adjacency). It
// lets a caller walk a huge UID set without expanding it.
func (s SeqSet) Normalize(max uint32) []SeqRange {
	if max == 0 || len(s.Ranges) == 0 {
		return nil
	}
	out := make([]SeqRange, 0, len(s.Ranges))
	for _, r := range s.Ranges {
		lo, hi := r.bounds(max)
		if lo > max {
			continue
		}
		if hi > max {
			hi = max
		}
		if lo == 0 {
			lo = 1
		}
		if lo > hi {
			continue
		}
		out = append(out, SeqRange{lo, hi})
	}
	slices.SortFunc(out, func(a, b SeqRange) int {
		if a.Start != b.Start {
			if a.Start < b.Start {
				return -1
			}
			return 1
		}
		return 0
	})
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && uint64(r.Start) <= uint64(merged[n-1].Stop)+1 {
			if r.Stop > merged[n-1].Stop {
				merged[n-1].Stop = r.Stop
			}
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// Expand returns the numbers of the set in ascending order without
// duplicates, only those in 1..max, "*" being max. The result never has more
// than max entries; for UID sets of a large mailbox prefer Normalize.
func (s SeqSet) Expand(max uint32) []uint32 {
	rs := s.Normalize(max)
	var total uint64
	for _, r := range rs {
		total += uint64(r.Stop-r.Start) + 1
	}
	if total == 0 {
		return nil
	}
	out := make([]uint32, 0, total)
	for _, r := range rs {
		for n := uint64(r.Start); n <= uint64(r.Stop); n++ {
			out = append(out, uint32(n))
		}
	}
	return out
}

// String formats the set as sent on the wire ("1:3,5,7:*", or "$").
func (s SeqSet) String() string {
	if s.Saved {
		return "$"
	}
	var b []byte
	for i, r := range s.Ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSeqNumber(b, r.Start)
		if r.Stop != r.Start {
			b = append(b, ':')
			b = appendSeqNumber(b, r.Stop)
		}
	}
	return string(b)
}

func appendSeqNumber(b []byte, n uint32) []byte {
	if n == 0 {
		return append(b, '*')
	}
	return strconv.AppendUint(b, uint64(n), 10)
}

// FormatUIDSet formats ascending UIDs compactly: runs of consecutive
// numbers become ranges ("1:3,7"). Order is kept (COPYUID pairs the UIDs of
// two sets by position, RFC 4315 3); equal neighbours are merged.
func FormatUIDSet(uids []uint32) string {
	var b []byte
	for i := 0; i < len(uids); {
		j := i
		for j+1 < len(uids) && (uids[j+1] == uids[j]+1 && uids[j] != 1<<32-1 || uids[j+1] == uids[j]) {
			j++
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(uids[i]), 10)
		if uids[j] != uids[i] {
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(uids[j]), 10)
		}
		i = j + 1
	}
	return string(b)
}
