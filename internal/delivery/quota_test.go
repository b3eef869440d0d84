package delivery

import (
	"context"
	"testing"
)

// TestOverQuota: a recipient whose quota (RFC 9208, set by the
// administrator) the message would pass gets 552 5.2.2 (RFC 3463 mailbox
// full) and nothing is stored for them; the other recipient of the same
// transaction still gets the message, and the connection stays usable.
func TestOverQuota(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	// alice may hold one more message, of at most 300 octets.
	if err := e.Store.SetQuota(ctx, "alice", 300, 0); err != nil {
		t.Fatal(err)
	}
	limit := e.Srv.SizeLimit()
	c := dial(t, e.Addr)
	c.lhlo(limit + 1)

	c.send("MAIL FROM:<carol@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>", "DATA")
	c.expect(mailOK("carol@example.net"), rcptOK("alice@example.org"), rcptOK("bob@example.org"), goAhead)
	c.sendRaw(sizedBody(400) + ".\r\n")
	c.expect("552 5.2.2 <alice@example.org> mailbox full", "250 2.0.0 <bob@example.org> delivered")
	if got := bodies(t, e.Store, "alice", "INBOX"); len(got) != 0 {
		t.Fatalf("alice's INBOX holds %d messages after a refused delivery", len(got))
	}
	if got := bodies(t, e.Store, "bob", "INBOX"); len(got) != 1 {
		t.Fatalf("bob's INBOX holds %d messages, want 1", len(got))
	}

	// A message that fits is delivered; the next one no longer fits.
	c.send("MAIL FROM:<carol@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	c.expect(mailOK("carol@example.net"), rcptOK("alice@example.org"), goAhead)
	c.sendRaw(sizedBody(100) + ".\r\n")
	c.expect("250 2.0.0 <alice@example.org> delivered")
	c.send("MAIL FROM:<carol@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	c.expect(mailOK("carol@example.net"), rcptOK("alice@example.org"), goAhead)
	c.sendRaw(sizedBody(100) + ".\r\n")
	c.expect("552 5.2.2 <alice@example.org> mailbox full")
	c.send("NOOP")
	c.expect("250 2.0.0 I have successfully done nothing")
	if got := bodies(t, e.Store, "alice", "INBOX"); len(got) != 1 {
		t.Fatalf("alice's INBOX holds %d messages, want 1", len(got))
	}
}
