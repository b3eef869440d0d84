package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

// appendSized stores messages of the given sizes in alice's INBOX, with the
// store opened alongside any other process.
func appendSized(t *testing.T, dir string, sizes ...int) {
	t.Helper()
	st, err := sqlite.Open(dir, sqlite.Options{NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	u, err := st.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Account(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	in, err := a.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		h := "Subject: " + strings.Repeat("s", i+1) + "\r\n\r\n"
		raw := h + strings.Repeat("x", n-len(h)-2) + "\r\n"
		if _, err := a.Append(ctx, in.ID, store.AppendRequest{Body: strings.NewReader(raw), Size: int64(len(raw))}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUserQuota(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	q := func(args ...string) []string { return append([]string{"user", "quota", "--data", dir}, args...) }
	expect(t, "secret\n", []string{"user", "add", "--data", dir, "alice"}, "user alice added\n", "", 0)
	appendSized(t, dir, 1000, 1500)

	// No limit flag: show. 2500 octets are 3 KiB rounded up.
	expect(t, "", q("alice"), "storage: 3 KiB used (2500 bytes), no limit\nmessages: 2 used, no limit\n", "", 0)
	expect(t, "", q("alice", "--storage", "1GiB"),
		"quota of alice set\nstorage: 3 KiB used (2500 bytes), limit 1048576 KiB\nmessages: 2 used, no limit\n", "", 0)
	// One flag leaves the other limit as it was; flags after the name.
	expect(t, "", q("ALICE", "--messages", "100000"),
		"quota of alice set\nstorage: 3 KiB used (2500 bytes), limit 1048576 KiB\nmessages: 2 used, limit 100000\n", "", 0)
	// A byte count is rounded up to a whole KiB.
	expect(t, "", q("alice", "--storage=1500"),
		"quota of alice set\nstorage: 3 KiB used (2500 bytes), limit 2 KiB\nmessages: 2 used, limit 100000\n", "", 0)
	// Enforced by the store: the account is already over its new limit.
	st, err := sqlite.Open(dir, sqlite.Options{NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := st.User(context.Background(), "alice")
	a, _ := st.Account(context.Background(), u.ID)
	got, err := a.Quota(context.Background())
	st.Close()
	if err != nil || got != (store.Quota{StorageLimit: 2048, MessageLimit: 100000, StorageUsed: 2500, MessagesUsed: 2}) {
		t.Fatalf("stored quota %+v, %v", got, err)
	}

	// Removal: 0 and none.
	expect(t, "", q("alice", "--storage", "0", "--messages", "none"),
		"quota of alice set\nstorage: 3 KiB used (2500 bytes), no limit\nmessages: 2 used, no limit\n", "", 0)
	expect(t, "", q("alice", "--storage", "none", "--messages", "5"),
		"quota of alice set\nstorage: 3 KiB used (2500 bytes), no limit\nmessages: 2 used, limit 5\n", "", 0)

	expect(t, "", q("alice", "--storage", "lots"), "",
		"casier: invalid --storage \"lots\" (want a size such as 1GiB, 500MiB, 0 or none)\n", 1)
	expect(t, "", q("alice", "--messages", "-3"), "",
		"casier: invalid --messages \"-3\" (want a number, 0 or none)\n", 1)
	expect(t, "", q("carol"), "", "casier: no such user carol\n", 1)
	// The quota flags belong to the quota subcommand only.
	if _, errOut, code := casier(t, "pw\n", "user", "add", "--data", dir, "--storage", "1G", "bob"); code != 2 ||
		!strings.Contains(errOut, "unknown flag --storage") {
		t.Errorf("user add --storage: exit %d, %q", code, errOut)
	}
}

func TestParseStorage(t *testing.T) {
	for in, want := range map[string]int64{
		"1GiB": 1 << 30, "1g": 1 << 30, "500MiB": 500 << 20, "2 KiB": 2048, "1T": 1 << 40,
		"1": 1024, "1024": 1024, "1025B": 2048, "0": 0, "none": 0, "NONE": 0,
	} {
		if got, err := parseStorage(in); err != nil || got != want {
			t.Errorf("parseStorage(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5G", "GiB", "9999999999T", "1PiB"} {
		if _, err := parseStorage(in); err == nil {
			t.Errorf("parseStorage(%q) accepted", in)
		}
	}
}
