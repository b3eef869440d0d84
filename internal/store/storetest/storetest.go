// Package storetest is the conformance suite every storage engine passes:
// the SQLite engine now, the PostgreSQL engine later. It drives only the
// store.Store interface and asserts exact values (UIDs, modseqs, counters,
// change sets), so two engines that pass it behave the same for the
// protocol layer.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// Harness tells the suite how to make and reopen an engine.
type Harness struct {
	// New returns an empty store; the harness closes it at test end.
	New func(t *testing.T) store.Store
	// Reopen closes s and opens the same data again (durability tests);
	// nil skips them.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// BlobCounter is implemented by engines that can count stored bodies; the
// dedupe and garbage-collection tests check file counts when it is.
type BlobCounter interface {
	BlobCount() (int, error)
}

// Run runs the suite on stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	RunWith(t, Harness{New: newStore})
}

// RunWith runs the suite with a full harness.
func RunWith(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Users", testUsers},
		{"DefaultMailboxes", testDefaultMailboxes},
		{"CreateMailbox", testCreateMailbox},
		{"InvalidNames", testInvalidNames},
		{"DeleteMailbox", testDeleteMailbox},
		{"UIDValidityOnRecreate", testUIDValidityRecreate},
		{"RenameSubtree", testRenameSubtree},
		{"RenameErrors", testRenameErrors},
		{"RenameInbox", testRenameInbox},
		{"Subscriptions", testSubscriptions},
		{"AppendRecords", testAppendRecords},
		{"AppendErrors", testAppendErrors},
		{"AccountIsolation", testIsolation},
		{"FlagModes", testFlagModes},
		{"KeywordCase", testKeywordCase},
		{"ModSeqMonotonic", testModSeqMonotonic},
		{"UnchangedSince", testUnchangedSince},
		{"Copy", testCopy},
		{"Move", testMove},
		{"Expunge", testExpunge},
		{"Changes", testChanges},
		{"Recent", testRecent},
		{"Hub", testHub},
		{"Dedupe", testDedupe},
		{"CollectBodies", testCollect},
		{"DeleteUser", testDeleteUser},
		{"Durability", testDurability},
		{"ConcurrentAppends", testConcurrentAppends},
		{"Cancelled", testCancelled},
		{"Quota", testQuota},
	}
	tests = append(tests, labelTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

var ctx = context.Background()

func newStore(t *testing.T, h Harness) store.Store {
	t.Helper()
	return h.New(t)
}

// newAccount creates user "alice" in a new store.
func newAccount(t *testing.T, h Harness) (store.Store, store.Account) {
	t.Helper()
	s := newStore(t, h)
	return s, account(t, s, "alice")
}

func account(t *testing.T, s store.Store, name string) store.Account {
	t.Helper()
	u, err := s.CreateUser(ctx, name, "{PLAIN}x")
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	a, err := s.Account(ctx, u.ID)
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	return a
}

func mbox(t *testing.T, a store.Account, name string) store.Mailbox {
	t.Helper()
	m, err := a.Mailbox(ctx, name)
	if err != nil {
		t.Fatalf("Mailbox(%q): %v", name, err)
	}
	return m
}

func create(t *testing.T, a store.Account, name string) store.Mailbox {
	t.Helper()
	m, err := a.CreateMailbox(ctx, name, "")
	if err != nil {
		t.Fatalf("CreateMailbox(%q): %v", name, err)
	}
	return m
}

// msg returns a distinct small message.
func msg(i int) []byte {
	return []byte(fmt.Sprintf("From: Sender %d <s%d@example.org>\r\n"+
		"To: alice@example.org\r\n"+
		"Subject: message %d\r\n"+
		"Date: Mon, 2 Jan 2006 15:04:05 -0700\r\n"+
		"Message-ID: <%d@example.org>\r\n"+
		"\r\n"+
		"Body of message %d.\r\nSecond line.\r\n", i, i, i, i, i))
}

func appendRaw(t *testing.T, a store.Account, id store.MailboxID, raw []byte, flags ...string) store.AppendResult {
	t.Helper()
	r, err := a.Append(ctx, id, store.AppendRequest{Body: bytes.NewReader(raw), Size: int64(len(raw)), Flags: flags})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return r
}

func appendN(t *testing.T, a store.Account, id store.MailboxID, from, n int) []store.AppendResult {
	t.Helper()
	var out []store.AppendResult
	for i := from; i < from+n; i++ {
		out = append(out, appendRaw(t, a, id, msg(i)))
	}
	return out
}

func entries(t *testing.T, a store.Account, id store.MailboxID) []store.Entry {
	t.Helper()
	e, err := a.Entries(ctx, id)
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	return e
}

func status(t *testing.T, a store.Account, id store.MailboxID) store.MailboxStatus {
	t.Helper()
	st, err := a.Status(ctx, id)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return st
}

func uidsOf(es []store.Entry) []uint32 {
	out := []uint32{}
	for _, e := range es {
		out = append(out, e.UID)
	}
	return out
}

func setFlags(t *testing.T, a store.Account, id store.MailboxID, mode store.FlagMode, flags []string, uids ...uint32) store.StoreResult {
	t.Helper()
	r, err := a.StoreFlags(ctx, id, store.StoreRequest{UIDs: uids, Mode: mode, Flags: flags})
	if err != nil {
		t.Fatalf("StoreFlags: %v", err)
	}
	return r
}

// checkCounters recomputes the STATUS counters from the messages and
// compares them with the engine's incrementally maintained ones.
func checkCounters(t *testing.T, a store.Account, id store.MailboxID) store.MailboxStatus {
	t.Helper()
	st := status(t, a, id)
	es := entries(t, a, id)
	recs, err := a.Records(ctx, id, uidsOf(es))
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	var unseen, deleted, recent uint32
	var size int64
	for i, e := range es {
		if e.UID >= st.FirstRecentUID {
			recent++
		}
		if !slices.Contains(e.Flags, store.FlagSeen) {
			unseen++
		}
		if slices.Contains(e.Flags, store.FlagDeleted) {
			deleted++
		}
		size += recs[i].Size
	}
	if st.Messages != uint32(len(es)) || st.Unseen != unseen || st.Deleted != deleted || st.Size != size || st.Recent != recent {
		t.Fatalf("%s counters: messages=%d unseen=%d deleted=%d size=%d recent=%d; want %d %d %d %d %d",
			st.Name, st.Messages, st.Unseen, st.Deleted, st.Size, st.Recent, len(es), unseen, deleted, size, recent)
	}
	if n := len(es); n > 0 && st.UIDNext <= es[n-1].UID {
		t.Fatalf("%s UIDNext %d <= last UID %d", st.Name, st.UIDNext, es[n-1].UID)
	}
	for _, e := range es {
		if e.ModSeq > st.HighestModSeq {
			t.Fatalf("%s: UID %d modseq %d > HIGHESTMODSEQ %d", st.Name, e.UID, e.ModSeq, st.HighestModSeq)
		}
	}
	return st
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !equal(got, want) {
		t.Fatalf("%s = %#v, want %#v", what, got, want)
	}
}

// equal is reflect.DeepEqual except that nil and empty slices are equal
// at any depth (engines may return either).
func equal(a, b any) bool {
	return deepEqual(reflect.ValueOf(a), reflect.ValueOf(b))
}

func deepEqual(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !deepEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if t, ok := a.Interface().(time.Time); ok {
			return t.Equal(b.Interface().(time.Time))
		}
		for i := 0; i < a.NumField(); i++ {
			if !deepEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return deepEqual(a.Elem(), b.Elem())
	default:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
}

func readBody(t *testing.T, a store.Account, id store.MessageID) []byte {
	t.Helper()
	b, err := a.OpenBody(ctx, id)
	if err != nil {
		t.Fatalf("OpenBody: %v", err)
	}
	defer b.Close()
	buf := make([]byte, b.Size())
	if _, err := b.ReadAt(buf, 0); err != nil && err != io.EOF {
		t.Fatalf("ReadAt: %v", err)
	}
	return buf
}

func blobCount(t *testing.T, s store.Store) (int, bool) {
	t.Helper()
	bc, ok := s.(BlobCounter)
	if !ok {
		return 0, false
	}
	n, err := bc.BlobCount()
	if err != nil {
		t.Fatalf("BlobCount: %v", err)
	}
	return n, true
}

func second(tm time.Time) time.Time { return tm.Truncate(time.Second) }
