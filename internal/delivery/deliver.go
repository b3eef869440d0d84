package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/casier/casier/internal/store"
)

// traceFields returns the header fields prepended to a recipient's copy:
// Return-Path with the envelope sender (RFC 5321 4.4, RFC 5322 3.6.7; the
// null sender gives "<>"), then Delivered-To with the recipient as the
// client sent it (the custom of Postfix and Dovecot, which also lets a
// mail loop be recognised). Ours come first; Return-Path fields already in
// the message are left below them, so a reader that takes the topmost
// finds the one this delivery wrote.
func traceFields(from, to string) string {
	return "Return-Path: <" + from + ">\r\nDelivered-To: " + to + "\r\n"
}

// deliver appends the message once for each recipient and returns the
// replies in the order of the recipients. A recipient named twice in the
// transaction gets one copy and the same reply twice.
func (c *conn) deliver(tx *transaction, sp *spool) []reply {
	out := make([]reply, len(tx.rcpts))
	done := make(map[string]int) // address -> index of its first reply
	for i, r := range tx.rcpts {
		if j, ok := done[r.addr]; ok {
			out[i] = out[j]
			continue
		}
		done[r.addr] = i
		out[i] = c.deliverOne(tx, r, sp)
	}
	return out
}

func (c *conn) deliverOne(tx *transaction, r recipient, sp *spool) reply {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.opts.Timeout)
	defer cancel()
	trace := traceFields(tx.from.raw, r.addr)
	appendTo := func(m store.Mailbox) (store.AppendResult, error) {
		return r.acct.Append(ctx, m.ID, store.AppendRequest{
			Body: io.MultiReader(strings.NewReader(trace), sp.Reader()),
			Size: int64(len(trace)) + sp.Size(),
		})
	}
	res, err := appendTo(r.mailbox)
	if errors.Is(err, store.ErrNoMailbox) && r.mailbox.Name != "INBOX" {
		// The +detail folder was deleted or renamed since RCPT.
		var m store.Mailbox
		if m, err = r.acct.Mailbox(ctx, "INBOX"); err == nil {
			r.mailbox = m
			res, err = appendTo(m)
		}
	}
	var rp reply
	switch {
	case err == nil:
		rp = reply{250, "2.0.0", "<" + r.addr + "> delivered"}
	case errors.Is(err, store.ErrOverQuota):
		rp = reply{552, "5.2.2", "<" + r.addr + "> mailbox full"}
	case errors.Is(err, store.ErrTooBig):
		rp = reply{552, "5.3.4", "<" + r.addr + "> message too big"}
	default:
		rp = reply{451, "4.3.0", "<" + r.addr + "> temporary failure, try again later"}
	}
	c.logDelivery(tx, r, sp.Size(), rp, res.UID, err)
	return rp
}

// logDelivery writes the one log line of a recipient's delivery.
func (c *conn) logDelivery(tx *transaction, r recipient, size int64, rp reply, uid uint32, err error) {
	attrs := []any{
		"remote", c.remote,
		"from", tx.from.raw,
		"to", r.addr,
		"user", r.user.Name,
		"mailbox", r.mailbox.Name,
		"size", size,
		"result", fmt.Sprintf("%d %s", rp.code, rp.ext),
	}
	if uid != 0 {
		attrs = append(attrs, "uid", uid)
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	if rp.code >= 400 && rp.code < 500 {
		c.srv.log.Warn("lmtp delivery", attrs...)
		return
	}
	c.srv.log.Info("lmtp delivery", attrs...)
}
