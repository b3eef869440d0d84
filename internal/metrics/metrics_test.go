package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

// scrape returns the text exposition of m, one series per line.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// hasLines fails the test unless every line of want is a line of got.
func hasLines(t *testing.T, got string, want ...string) {
	t.Helper()
	lines := make(map[string]bool)
	for _, l := range strings.Split(got, "\n") {
		lines[l] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("scrape lacks line %q", w)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", got)
	}
}

func TestNilMetricsIsSafe(t *testing.T) {
	var m *Metrics
	m.ConnOpened(KindIMAP)
	m.ConnClosed(KindIMAP)
	m.CommandDone("NOOP", "OK", time.Millisecond)
	m.Login("LOGIN", LoginSuccess)
	m.Delivery(DeliveryOK)
	m.WatchPanics(ComponentIMAP, func() int64 { return 0 })
	m.WatchStoreSize(func(context.Context) (StoreSize, error) { return StoreSize{}, nil }, 0)
}

func TestHooks(t *testing.T) {
	m := New()
	// Known series exist before any event.
	hasLines(t, scrape(t, m),
		`casier_connections_current{kind="imap"} 0`,
		`casier_connections_current{kind="imaps"} 0`,
		`casier_connections_current{kind="lmtp"} 0`,
		`casier_connections_total{kind="lmtp"} 0`,
		`casier_lmtp_deliveries_total{result="delivered"} 0`,
		`casier_lmtp_deliveries_total{result="temp_failure"} 0`,
	)

	m.ConnOpened(KindIMAP)
	m.ConnOpened(KindIMAP)
	m.ConnOpened(KindLMTP)
	m.ConnClosed(KindIMAP)
	m.CommandDone("FETCH", "OK", 3*time.Millisecond)
	m.CommandDone("FETCH", "OK", 20*time.Millisecond)
	m.CommandDone("FETCH", "BAD", -1) // counted, not observed
	m.CommandDone("SELECT", "NO", 500*time.Microsecond)
	m.Login("LOGIN", LoginFailure)
	m.Login("LOGIN", LoginSuccess)
	m.Login("PLAIN", LoginSuccess)
	m.Delivery(DeliveryOK)
	m.Delivery(DeliveryOK)
	m.Delivery(DeliveryOverQuota)
	var panics int64 = 2
	m.WatchPanics(ComponentIMAP, func() int64 { return panics })
	m.WatchPanics(ComponentLMTP, func() int64 { return 0 })

	hasLines(t, scrape(t, m),
		`casier_connections_current{kind="imap"} 1`,
		`casier_connections_total{kind="imap"} 2`,
		`casier_connections_current{kind="lmtp"} 1`,
		`casier_connections_total{kind="lmtp"} 1`,
		`casier_connections_total{kind="imaps"} 0`,
		`casier_imap_commands_total{command="FETCH",result="OK"} 2`,
		`casier_imap_commands_total{command="FETCH",result="BAD"} 1`,
		`casier_imap_commands_total{command="SELECT",result="NO"} 1`,
		`casier_imap_command_duration_seconds_bucket{command="FETCH",le="0.0025"} 0`,
		`casier_imap_command_duration_seconds_bucket{command="FETCH",le="0.005"} 1`,
		`casier_imap_command_duration_seconds_bucket{command="FETCH",le="0.025"} 2`,
		`casier_imap_command_duration_seconds_bucket{command="FETCH",le="+Inf"} 2`,
		`casier_imap_command_duration_seconds_sum{command="FETCH"} 0.023`,
		`casier_imap_command_duration_seconds_count{command="FETCH"} 2`,
		`casier_imap_command_duration_seconds_bucket{command="SELECT",le="0.0005"} 1`,
		`casier_logins_total{mechanism="LOGIN",result="failure"} 1`,
		`casier_logins_total{mechanism="LOGIN",result="success"} 1`,
		`casier_logins_total{mechanism="PLAIN",result="success"} 1`,
		`casier_lmtp_deliveries_total{result="delivered"} 2`,
		`casier_lmtp_deliveries_total{result="over_quota"} 1`,
		`casier_lmtp_deliveries_total{result="too_big"} 0`,
		`casier_panics_recovered_total{component="imap"} 2`,
		`casier_panics_recovered_total{component="lmtp"} 0`,
		`# TYPE casier_imap_command_duration_seconds histogram`,
		`# TYPE casier_panics_recovered_total counter`,
	)
	panics = 3
	hasLines(t, scrape(t, m), `casier_panics_recovered_total{component="imap"} 3`)
	// The Go runtime and process collectors are registered.
	if s := scrape(t, m); !strings.Contains(s, "\ngo_goroutines ") || !strings.Contains(s, "\nprocess_start_time_seconds ") {
		t.Errorf("runtime or process metrics missing")
	}
}

// fakeSize is a SizeFunc whose answers the test sets.
type fakeSize struct {
	mu    sync.Mutex
	calls int
	size  StoreSize
	err   error
}

func (f *fakeSize) get(context.Context) (StoreSize, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.size, f.err
}

func TestStoreSizeCache(t *testing.T) {
	m := New()
	f := &fakeSize{err: errors.New("store down")}
	m.WatchStoreSize(f.get, time.Minute)
	// Drive the collector's clock.
	now := time.Unix(1_000_000, 0)
	lastSizeCollector(t, m).now = func() time.Time { return now }

	// Before any success: no series, one error.
	out := scrape(t, m)
	if strings.Contains(out, "casier_store_bytes ") {
		t.Errorf("store size exposed before any success:\n%s", out)
	}
	hasLines(t, out, `casier_store_size_errors_total 1`)
	if f.calls != 1 {
		t.Fatalf("calls = %d, want 1", f.calls)
	}

	// A failure also waits the TTL.
	now = now.Add(30 * time.Second)
	scrape(t, m)
	if f.calls != 1 {
		t.Fatalf("calls = %d after 30 s, want 1 (cached failure)", f.calls)
	}

	now = now.Add(31 * time.Second)
	f.size, f.err = StoreSize{Messages: 7, Bytes: 12345}, nil
	hasLines(t, scrape(t, m), `casier_store_messages 7`, `casier_store_bytes 12345`, `casier_store_size_errors_total 1`)

	// Within the TTL the cached value is served.
	f.size = StoreSize{Messages: 8, Bytes: 20000}
	now = now.Add(59 * time.Second)
	hasLines(t, scrape(t, m), `casier_store_messages 7`, `casier_store_bytes 12345`)
	if f.calls != 2 {
		t.Fatalf("calls = %d, want 2", f.calls)
	}

	// After it, recomputed; a failure then keeps the last value.
	now = now.Add(2 * time.Second)
	hasLines(t, scrape(t, m), `casier_store_messages 8`, `casier_store_bytes 20000`)
	now = now.Add(time.Minute)
	f.err = errors.New("store down")
	hasLines(t, scrape(t, m), `casier_store_messages 8`, `casier_store_bytes 20000`, `casier_store_size_errors_total 2`)
}

// lastSizeCollector finds the sizeCollector WatchStoreSize registered.
func lastSizeCollector(t *testing.T, m *Metrics) *sizeCollector {
	t.Helper()
	if m.size == nil {
		t.Fatal("no store size collector")
	}
	return m.size
}

func TestStoreSizeOf(t *testing.T) {
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{NoSync: true, NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	f := StoreSizeOf(st)
	if got, err := f(ctx); err != nil || got != (StoreSize{}) {
		t.Fatalf("empty store: %+v, %v", got, err)
	}
	msg := "Subject: hi\r\n\r\nhello\r\n" // 22 octets
	var want StoreSize
	for i, name := range []string{"alice", "bob"} {
		u, err := st.CreateUser(ctx, name, "x")
		if err != nil {
			t.Fatal(err)
		}
		acct, err := st.Account(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, mbox := range []string{"INBOX", "Archive"} {
			mb, err := acct.Mailbox(ctx, mbox)
			if errors.Is(err, store.ErrNoMailbox) || errors.Is(err, store.ErrNotFound) {
				mb, err = acct.CreateMailbox(ctx, mbox, "")
			}
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j <= i; j++ {
				if _, err := acct.Append(ctx, mb.ID, store.AppendRequest{Body: strings.NewReader(msg), Size: int64(len(msg))}); err != nil {
					t.Fatal(err)
				}
				want.Messages++
				want.Bytes += int64(len(msg))
			}
		}
	}
	if got, err := f(ctx); err != nil || got != want {
		t.Fatalf("StoreSizeOf = %+v, %v; want %+v", got, err, want)
	}
	if want != (StoreSize{Messages: 6, Bytes: 132}) {
		t.Fatalf("test arithmetic: %+v", want)
	}
}
