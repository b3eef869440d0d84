package sqlite

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
)

func appendT(t *testing.T, a *Account, in store.MailboxID, raw string) store.AppendResult {
	t.Helper()
	r, err := a.Append(ctx, in, store.AppendRequest{Body: bytes.NewReader([]byte(raw)), Size: int64(len(raw))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func recordsT(t *testing.T, a *Account, in store.MailboxID, uids ...uint32) []store.Record {
	t.Helper()
	rs, err := a.Records(ctx, in, uids)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestRecordsModels checks Records with and without the model cache: the
// same headers and models, a body stored at two UIDs (one message row),
// and rows still in the legacy JSON form.
func TestRecordsModels(t *testing.T) {
	for _, size := range []int64{0, -1} {
		s := openT(t, t.TempDir(), Options{NoSync: true, CacheSize: size})
		a, in := newAcct(t, s)
		m1 := "Subject: one\r\nFrom: a@example.org\r\n\r\nbody one\r\n"
		m2 := "Subject: two\r\n\r\nbody two\r\n"
		r1 := appendT(t, a, in, m1)
		appendT(t, a, in, m2)
		r3 := appendT(t, a, in, m1) // same body: same message row
		if r3.MessageID != r1.MessageID {
			t.Fatalf("dedupe: message ids %d and %d", r1.MessageID, r3.MessageID)
		}
		// Message 2 as written by the JSON-era engine.
		legacy, _ := json.Marshal(parse([]byte(m2)))
		if _, err := s.wdb.Exec(`UPDATE messages SET parsed = ? WHERE id = (SELECT message_id FROM mailbox_messages WHERE uid = 2)`, legacy); err != nil {
			t.Fatal(err)
		}
		for pass := 0; pass < 2; pass++ {
			rs := recordsT(t, a, in, 3, 1, 2, 9)
			if len(rs) != 3 {
				t.Fatalf("cache %d pass %d: %d records", size, pass, len(rs))
			}
			for i, want := range []string{m1, m2, m1} {
				r := rs[i]
				if r.UID != uint32(i+1) {
					t.Fatalf("record %d has UID %d", i, r.UID)
				}
				hend := bytes.Index([]byte(want), []byte("\r\n\r\n")) + 4
				if string(r.Header) != want[:hend] {
					t.Fatalf("UID %d header %q", r.UID, r.Header)
				}
				// The stored model also carries the thread computed at
				// delivery (threads.go), which Parse alone cannot know
				// (the legacy row of message 2 has none).
				wp := mustParse(t, want)
				wp.ThreadID = r.Parsed.ThreadID
				sameParsed(t, r.Parsed, wp)
			}
		}
		n, used := s.models.stats()
		if size < 0 && (s.models != nil || n != 0) {
			t.Fatalf("disabled cache holds %d entries", n)
		}
		if size == 0 && (n != 2 || used <= 0) {
			t.Fatalf("cache: %d entries, %d bytes; want 2 entries", n, used)
		}
		if size == 0 {
			// Cached: the same model is handed out again.
			a1 := recordsT(t, a, in, 1)
			a2 := recordsT(t, a, in, 1, 3)
			if a1[0].Parsed != a2[0].Parsed || a2[0].Parsed != a2[1].Parsed {
				t.Fatal("cached model not shared")
			}
		}
	}
}

func mustParse(t *testing.T, raw string) *message.Parsed {
	t.Helper()
	p, err := message.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestModelCacheEviction: the budget holds, least recently used first.
func TestModelCacheEviction(t *testing.T) {
	if newModelCache(0) != nil || newModelCache(-5) != nil {
		t.Fatal("a non-positive budget must disable the cache")
	}
	c := newModelCache(10 * 1000)
	p := &message.Parsed{}
	for id := store.MessageID(1); id <= 10; id++ {
		c.add(id, nil, p, 1000)
	}
	// Touch 1, then add 11: 2 is the oldest and goes.
	recs := []store.Record{{MessageID: 1}}
	if miss := c.fill(recs, nil); len(miss) != 0 || recs[0].Parsed != p {
		t.Fatalf("fill: miss %v", miss)
	}
	c.add(11, nil, p, 1000)
	recs = []store.Record{{MessageID: 1}, {MessageID: 2}, {MessageID: 3}, {MessageID: 11}}
	miss := c.fill(recs, nil)
	if len(miss) != 1 || miss[0] != 1 {
		t.Fatalf("miss %v, want [1] (message 2 evicted)", miss)
	}
	if n, used := c.stats(); n != 10 || used != 10*1000 {
		t.Fatalf("stats %d entries %d bytes", n, used)
	}
	// An entry over an eighth of the budget is not cached at all.
	c.add(99, nil, p, 2000)
	if miss := c.fill([]store.Record{{MessageID: 99}}, nil); len(miss) != 1 {
		t.Fatal("oversized entry cached")
	}
	// A nil cache reports every record as missing.
	var none *modelCache
	if miss := none.fill(make([]store.Record, 3), nil); len(miss) != 3 {
		t.Fatalf("nil cache miss %v", miss)
	}
}
