package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"
)

// worker is one client running the mix.
type worker struct {
	cfg   config
	c     *client
	rng   *rand.Rand
	hs    map[string]*hist
	msgNo int // next generated message number for append
}

// loop runs commands until ctx ends or, when counted, the shared budget is
// spent. A NO/BAD counts as an error of that command and the loop goes on;
// a broken connection ends it.
func (w *worker) loop(ctx context.Context, counted bool, budget *atomic.Int64) error {
	total := 0
	for _, m := range w.cfg.mix {
		total += m.weight
	}
	for ctx.Err() == nil {
		if counted && budget.Add(-1) < 0 {
			return nil
		}
		r := w.rng.IntN(total)
		op := w.cfg.mix[0].op
		for _, m := range w.cfg.mix {
			if r < m.weight {
				op = m.op
				break
			}
			r -= m.weight
		}
		start := time.Now()
		err := w.do(op)
		d := time.Since(start)
		h := w.hs[op]
		if h == nil {
			h = &hist{}
			w.hs[op] = h
		}
		var st *errStatus
		switch {
		case err == nil:
			h.add(d)
		case errors.As(err, &st):
			h.errors++
		default:
			h.errors++
			if ctx.Err() != nil {
				return nil // cut by the deadline mid-command
			}
			return err
		}
	}
	return nil
}

// do runs one command of the mix.
func (w *worker) do(op string) error {
	c := w.c
	n := max(c.exists, 1)
	var err error
	switch op {
	case "select":
		_, err = c.run("SELECT " + quote(w.cfg.mailbox))
	case "fetch-flags":
		_, err = c.run("FETCH 1:* (FLAGS)")
	case "fetch-headers":
		lo := max(n-49, 1)
		_, err = c.run("FETCH " + strconv.Itoa(lo) + ":* (UID FLAGS RFC822.SIZE ENVELOPE BODY.PEEK[HEADER.FIELDS (From To Subject Date)])")
	case "fetch-body":
		_, err = c.run("FETCH " + strconv.Itoa(1+w.rng.IntN(n)) + " BODY.PEEK[]")
	case "search-unseen":
		_, err = c.run("SEARCH UNSEEN")
	case "store-seen":
		_, err = c.run("STORE " + strconv.Itoa(1+w.rng.IntN(n)) + ` +FLAGS (\Seen)`)
	case "append":
		_, err = c.appendMsg(w.cfg.mailbox, "", genMessage(w.msgNo))
		w.msgNo++
	case "noop":
		_, err = c.run("NOOP")
	}
	return err
}
