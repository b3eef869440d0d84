package delivery

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/casier/casier/internal/metrics"
	"github.com/casier/casier/internal/store"
)

// traceFields returns the header fields prepended to a recipient's copy:
// Return-Path with the envelope sender (RFC 5321 4.4, RFC 5322 3.6.7; the
// null sender gives "<>"), then Delivered-To with the recipient (the
// custom of Postfix and Dovecot, which also lets a mail loop be
// recognised). Ours come first; Return-Path fields already in the message
// are left below them, so a reader that takes the topmost finds the one
// this delivery wrote.
func traceFields(from, to string) string {
	return "Return-Path: <" + from + ">\r\nDelivered-To: " + to + "\r\n"
}

// deliver appends the message once for each recipient and sets the
// statuses in the order of the recipients. A recipient named twice in the
// transaction gets one copy and the same status twice (go-smtp wants one
// SetStatus per RCPT).
func (s *session) deliver(sp *spool, status smtp.StatusCollector) {
	done := make(map[string]*smtp.SMTPError)
	for _, r := range s.rcpts {
		rp, ok := done[r.addr]
		if !ok {
			rp = s.deliverOne(r, sp)
			done[r.addr] = rp
		}
		status.SetStatus(r.addr, rp)
	}
}

func (s *session) deliverOne(r recipient, sp *spool) *smtp.SMTPError {
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.opts.Timeout)
	defer cancel()
	trace := traceFields(s.from.header, r.header)
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
	var rp *smtp.SMTPError
	switch {
	case err == nil:
		rp = replyErr(250, 2, 0, 0, "delivered")
	case errors.Is(err, store.ErrOverQuota):
		rp = replyErr(552, 5, 2, 2, "mailbox full")
	case errors.Is(err, store.ErrTooBig):
		rp = replyErr(552, 5, 3, 4, "message too big")
	default:
		rp = errTempFail()
	}
	s.logDelivery(r, sp.Size(), rp, res.UID, err)
	return rp
}

// logDelivery writes the one log line of a recipient's delivery, and
// counts it.
func (s *session) logDelivery(r recipient, size int64, rp *smtp.SMTPError, uid uint32, err error) {
	s.srv.opts.Metrics.Delivery(deliveryOutcome(rp))
	attrs := []any{
		"remote", s.remote,
		"from", s.from.addr,
		"to", r.addr,
		"user", r.user.Name,
		"mailbox", r.mailbox.Name,
		"size", size,
		"result", result(rp),
	}
	if uid != 0 {
		attrs = append(attrs, "uid", uid)
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	if rp.Code >= 400 && rp.Code < 500 {
		s.srv.log.Warn("lmtp delivery", attrs...)
		return
	}
	s.srv.log.Info("lmtp delivery", attrs...)
}

// deliveryOutcome is the metrics result of a recipient's reply.
func deliveryOutcome(rp *smtp.SMTPError) string {
	switch {
	case rp.Code == 250:
		return metrics.DeliveryOK
	case rp.Code >= 400 && rp.Code < 500:
		return metrics.DeliveryTempFail
	case rp.EnhancedCode == smtp.EnhancedCode{5, 2, 2}: // RFC 3463 3.3: mailbox full
		return metrics.DeliveryOverQuota
	case rp.EnhancedCode == smtp.EnhancedCode{5, 3, 4}: // RFC 3463 3.4: message too big
		return metrics.DeliveryTooBig
	}
	return metrics.DeliveryRejected
}
