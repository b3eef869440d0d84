package delivery

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/casier/casier/internal/metrics"
)

// Every recipient's outcome is counted once, with the connections.
func TestMetrics(t *testing.T) {
	m := metrics.New()
	e := newTestEnv(t, func(o *Options) {
		o.Metrics = m
		o.MaxMessageSize = 2048
		o.MaxLineLength = 200
	})
	limit := 2048 - traceReserve
	c := dial(t, e.Addr)
	c.lhlo(int64(limit) + 1)
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>", "DATA")
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), rcptOK("bob@example.org"), goAhead)
	c.sendRaw(stuffed + ".\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered", "250 2.0.0 <bob@example.org> delivered")
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), goAhead)
	// Over the limit in short lines (sizedBody's one long line would
	// trip the line limit first).
	c.sendRaw("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("y", 98)+"\r\n", limit/100+1) + ".\r\n")
	c.expect("552 5.3.4 <alice@example.org> message too big")
	c.send("MAIL FROM:<bob@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	c.expect(mailOK("bob@example.net"), rcptOK("alice@example.org"), goAhead)
	c.sendRaw("Subject: x\r\n\r\n" + strings.Repeat("z", 250) + "\r\n.\r\n")
	c.expect("500 5.5.2 <alice@example.org> line longer than 200 octets", "500 5.4.0 Too long line, closing connection")
	c.expectEOF()
	c2 := dial(t, e.Addr)
	c2.lhlo(int64(limit) + 1)

	want := []string{
		`casier_connections_total{kind="lmtp"} 2`,
		`casier_connections_current{kind="lmtp"} 1`,
		`casier_lmtp_deliveries_total{result="delivered"} 2`,
		`casier_lmtp_deliveries_total{result="too_big"} 1`,
		`casier_lmtp_deliveries_total{result="rejected"} 1`,
		`casier_lmtp_deliveries_total{result="temp_failure"} 0`,
		`casier_lmtp_deliveries_total{result="over_quota"} 0`,
	}
	var got []string
	deadline := time.Now().Add(testTimeout)
	for {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		got = strings.Split(rec.Body.String(), "\n")
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(got, w) })
		if len(missing) == 0 {
			break
		}
		// The first connection's end is counted once go-smtp closed it.
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %q:\n%s", missing, strings.Join(got, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeliveryOutcome(t *testing.T) {
	for _, x := range []struct {
		rp   *smtp.SMTPError
		want string
	}{
		{replyErr(250, 2, 0, 0, "delivered"), metrics.DeliveryOK},
		{replyErr(552, 5, 2, 2, "mailbox full"), metrics.DeliveryOverQuota},
		{replyErr(552, 5, 3, 4, "message too big"), metrics.DeliveryTooBig},
		{errTempFail(), metrics.DeliveryTempFail},
		{replyErr(500, 5, 5, 2, "line too long"), metrics.DeliveryRejected},
	} {
		if got := deliveryOutcome(x.rp); got != x.want {
			t.Errorf("deliveryOutcome(%d %v) = %q, want %q", x.rp.Code, x.rp.EnhancedCode, got, x.want)
		}
	}
}
