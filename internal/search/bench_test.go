package search

import (
	"fmt"
	"testing"
	"time"

	"github.com/casier/casier/internal/imapwire"
	"github.com/casier/casier/internal/store"
)

// benchMessages builds n records with realistic headers (about 1 KiB).
func benchMessages(n int) []*Message {
	msgs := make([]*Message, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range msgs {
		hdr := fmt.Sprintf("Return-Path: <list-bounces@example.org>\r\n"+
			"Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n\tby mail.example.net with ESMTPS id %d\r\n\tfor <bob@example.net>; Mon, 1 Jan 2024 10:00:00 +0000\r\n"+
			"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel;\r\n\th=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBqdXN0IGZpbGxlciB0ZXh0\r\n"+
			"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"+
			"From: \"Sender %d\" <sender%d@example.org>\r\n"+
			"To: bob@example.net\r\n"+
			"Subject: Weekly digest number %d for the project mailing list\r\n"+
			"Message-ID: <%d@example.org>\r\n"+
			"List-Id: <project.example.org>\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\n", i, i%97, i%97, i, i)
		flags := []string{`\Seen`}
		if i%3 == 0 {
			flags = []string{`\Flagged`, `\Seen`}
		}
		msgs[i] = &Message{
			SeqNum: uint32(i + 1),
			Record: &store.Record{
				Entry:        store.Entry{UID: uint32(i + 1), Flags: flags, ModSeq: uint64(i + 1)},
				InternalDate: base.Add(time.Duration(i) * time.Minute),
				Size:         int64(2000 + i),
				Header:       []byte(hdr),
			},
		}
	}
	return msgs
}

func benchMatch(b *testing.B, keys []imapwire.SearchKey, wantHits int) {
	msgs := benchMessages(10000)
	env := &Env{MaxSeq: 10000, MaxUID: 10000, Now: time.Now()}
	p, err := Compile(keys)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		hits := 0
		for _, m := range msgs {
			ok, err := p.Match(m, env)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				hits++
			}
		}
		if hits != wantHits {
			b.Fatalf("hits = %d, want %d", hits, wantHits)
		}
	}
}

// BenchmarkFlag10k: one flag key over 10,000 records.
func BenchmarkFlag10k(b *testing.B) {
	benchMatch(b, keys(k("FLAGGED")), 3334)
}

// BenchmarkHeader10k: one header key over 10,000 records.
func BenchmarkHeader10k(b *testing.B) {
	benchMatch(b, keys(ks("FROM", "SENDER42@")), 103)
}

// BenchmarkFlagAndHeader10k: both, ANDed.
func BenchmarkFlagAndHeader10k(b *testing.B) {
	benchMatch(b, keys(ks("SUBJECT", "digest NUMBER 99"), k("FLAGGED")), 39)
}
