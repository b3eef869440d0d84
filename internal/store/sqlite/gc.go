package sqlite

import (
	"context"
	"time"

	"github.com/casier/casier/internal/store/blobstore"
)

// collect removes the body files among hashes that no message row
// references. It runs under the write lock (wsem and a BEGIN IMMEDIATE
// transaction, which also excludes other processes), the same lock under
// which Append checks that its body file exists, so a body is never
// removed under a delivery. Errors are dropped: a body left behind is
// only wasted space, and the next sweep retries.
func (s *Store) collect(ctx context.Context, hashes []blobstore.Hash) {
	if len(hashes) == 0 {
		return
	}
	s.collectCtx(context.WithoutCancel(ctx), hashes)
}

// sweep removes body files left unreferenced by a crash between the body
// write and the metadata commit, one fanout directory per transaction so
// writers are never held up for long.
func (s *Store) sweep(ctx context.Context) {
	s.blobs.CleanTemp(time.Hour)
	prefixes, err := s.blobs.Prefixes()
	if err != nil {
		return
	}
	for _, p := range prefixes {
		if ctx.Err() != nil {
			return
		}
		hs, err := s.blobs.List(p)
		if err != nil {
			continue
		}
		s.collectCtx(ctx, hs)
	}
}

// collectCtx is collect that stops when ctx is cancelled (Close).
func (s *Store) collectCtx(ctx context.Context, hashes []blobstore.Hash) {
	if len(hashes) == 0 || ctx.Err() != nil {
		return
	}
	s.write(ctx, func(tx *Tx) error {
		for _, h := range hashes {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE blob = ?`, h[:]).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				s.blobs.Remove(h)
			}
		}
		return nil
	})
}
