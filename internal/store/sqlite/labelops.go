package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
)

// Writes through virtual mailboxes (docs/labels.md): each acts on the
// folder entries the virtual mailbox's messages show, with the label
// semantics of the tables there, and lets syncMirrors bring every virtual
// mailbox up to date. Nothing is ever written to a virtual mailbox here.
// At the end of the file: what every write path reads about its mailboxes
// (mboxInfo), and the folders the label operations file messages in
// (Archive, Trash).

// ref is a message of a virtual mailbox and the folder entry it shows.
type ref struct {
	uid    uint32 // in the virtual mailbox
	bits   int
	modseq uint64
	src    store.MailboxID
	srcUID uint32
}

// readRefs reads the messages uids of virtual mailbox id, ascending.
func readRefs(ctx context.Context, tx *Tx, id store.MailboxID, uids []uint32) ([]ref, error) {
	u, sp := spans(uids, 16)
	w := wanted{u: u}
	var out []ref
	for _, s := range sp {
		rows, err := tx.QueryContext(ctx, `SELECT mm.uid, mm.flags, mm.modseq, m.src_mailbox_id, m.src_uid
			FROM mailbox_messages mm JOIN mirrors m ON m.mailbox_id = mm.mailbox_id AND m.uid = mm.uid
			WHERE mm.mailbox_id = ? AND mm.uid BETWEEN ? AND ? ORDER BY mm.uid`, id, s.lo, s.hi)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.uid, &r.bits, &r.modseq, &r.src, &r.srcUID); err != nil {
				rows.Close()
				return nil, err
			}
			if w.has(r.uid) {
				out = append(out, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// target is a message named by the caller (uid, in the source mailbox)
// and the folder entry it stands for: first the one it shows, then where
// the operation put it.
type target struct {
	uid    uint32
	folder store.MailboxID
	fuid   uint32
}

// group is the targets of one folder, in caller UID order.
type group struct {
	folder store.MailboxID
	idx    []int // into the targets
}

func groupByFolder(ts []target) []group {
	var out []group
	for i, t := range ts {
		j := slices.IndexFunc(out, func(g group) bool { return g.folder == t.folder })
		if j < 0 {
			out = append(out, group{folder: t.folder})
			j = len(out) - 1
		}
		out[j].idx = append(out[j].idx, i)
	}
	return out
}

// labelOp is one operation through a virtual mailbox.
type labelOp struct {
	tx    *Tx
	mx    *mirrorSync
	ms    uint64 // taken up front (copy, move) or when needed
	added bool   // folder entries were added (the usage grew)
}

func (o *labelOp) modseq(ctx context.Context) (uint64, error) {
	if o.ms == 0 {
		m, err := nextModSeq(ctx, o.tx, o.mx.user)
		if err != nil {
			return 0, err
		}
		o.ms = m
	}
	return o.ms, nil
}

// flags applies chg to entries fuids of folder and syncs their mirrors
// unless noSync (the caller moves them next).
func (o *labelOp) flags(ctx context.Context, folder store.MailboxID, fuids []uint32, chg flagChange, noSync bool) ([]store.Entry, error) {
	changed, rows, _, err := storeFlagsTx(ctx, o.tx, o.mx.user, folder, fuids, chg, 0, &o.ms)
	if err != nil || noSync || len(changed) == 0 {
		return changed, err
	}
	return changed, o.mx.syncFlags(ctx, folder, rows, o.ms)
}

// copy copies (or moves) the targets ts[g.idx] from their folder to dst and
// points them at their new entries.
func (o *labelOp) copy(ctx context.Context, ts []target, g group, dst store.MailboxID, move, relink bool) error {
	ms, err := o.modseq(ctx)
	if err != nil {
		return err
	}
	fuids := make([]uint32, len(g.idx))
	for i, j := range g.idx {
		fuids[i] = ts[j].fuid
	}
	res, err := copyTx(ctx, o.tx, o.mx, g.folder, fuids, dst, ms, move, relink)
	if err != nil {
		return err
	}
	if !move && len(res.SrcUIDs) > 0 {
		o.added = true
	}
	moved := make(map[uint32]uint32, len(res.SrcUIDs))
	for k, u := range res.SrcUIDs {
		moved[u] = res.DstUIDs[k]
	}
	for _, j := range g.idx {
		if u, ok := moved[ts[j].fuid]; ok {
			ts[j].folder, ts[j].fuid = dst, u
		}
	}
	return nil
}

func fuidsOf(ts []target, g group) []uint32 {
	out := make([]uint32, len(g.idx))
	for i, j := range g.idx {
		out[i] = ts[j].fuid
	}
	return out
}

// resolve returns the targets of uids in mailbox from, ascending.
func (o *labelOp) resolve(ctx context.Context, from mboxInfo, uids []uint32) ([]target, error) {
	if !from.virtual() {
		rows, err := readSrcRows(ctx, o.tx, from.id, uids)
		if err != nil {
			return nil, err
		}
		out := make([]target, len(rows))
		for i, r := range rows {
			out[i] = target{uid: r.uid, folder: from.id, fuid: r.uid}
		}
		return out, nil
	}
	refs, err := readRefs(ctx, o.tx, from.id, uids)
	if err != nil {
		return nil, err
	}
	out := make([]target, len(refs))
	for i, r := range refs {
		out[i] = target{uid: r.uid, folder: r.src, fuid: r.srcUID}
	}
	return out, nil
}

// copyOrMove implements COPY and MOVE when from or to is virtual, as the
// tables of docs/labels.md say. The result maps the caller's UIDs to the
// messages' UIDs in to.
func (o *labelOp) copyOrMove(ctx context.Context, from, to mboxInfo, uids []uint32, move bool) (store.CopyResult, error) {
	res := store.CopyResult{UIDValidity: to.uidvalidity}
	ts, err := o.resolve(ctx, from, uids)
	if err != nil || len(ts) == 0 {
		return res, err
	}
	var arch mboxInfo // the archive, found when needed
	archive := func() (mboxInfo, error) {
		if arch.id == 0 {
			a, err := o.mx.archive(ctx)
			if err != nil {
				return a, err
			}
			arch = a
		}
		return arch, nil
	}
	for _, g := range groupByFolder(ts) {
		f, err := o.mx.info(ctx, g.folder)
		if err != nil {
			return res, err
		}
		fuids := fuidsOf(ts, g)
		switch {
		case to.kind == store.KindLabel:
			if from.id == to.id {
				continue // into itself: nothing to do
			}
			chg := flagChange{add: []string{to.label()}}
			if move && from.kind == store.KindLabel {
				chg.del = []string{from.label()} // relabel
			}
			var a mboxInfo
			if !move && f.hidden() || move && from.kind != store.KindLabel {
				if a, err = archive(); err != nil {
					return res, err
				}
			}
			switch {
			case !move && f.hidden():
				// From Trash or Junk: a copy in Archive, with the label.
				if err := o.copy(ctx, ts, g, a.id, false, false); err != nil {
					return res, err
				}
				if _, err := o.flags(ctx, a.id, fuidsOf(ts, g), chg, false); err != nil {
					return res, err
				}
			case move && from.kind != store.KindLabel && f.id != a.id:
				// Archiving: the label, then the move to Archive. The
				// mirrors follow unless the source is virtual, where the
				// message must leave.
				if _, err := o.flags(ctx, f.id, fuids, chg, true); err != nil {
					return res, err
				}
				if err := o.copy(ctx, ts, g, a.id, true, from.kind == store.KindFolder); err != nil {
					return res, err
				}
			default:
				// From All Mail, renew (below) syncs the mirrors.
				if _, err := o.flags(ctx, f.id, fuids, chg, move && from.kind == store.KindAll); err != nil {
					return res, err
				}
			}
		case to.kind == store.KindAll:
			switch {
			case from.kind == store.KindLabel && move:
				if _, err := o.flags(ctx, f.id, fuids, flagChange{del: []string{from.label()}}, false); err != nil {
					return res, err
				}
			case from.kind == store.KindFolder && f.hidden() || from.kind == store.KindFolder && move:
				a, err := archive()
				if err != nil {
					return res, err
				}
				if f.id != a.id {
					if err := o.copy(ctx, ts, g, a.id, move, true); err != nil {
						return res, err
					}
				}
			}
		default: // into a folder from a virtual mailbox
			switch {
			case !move:
				if err := o.copy(ctx, ts, g, to.id, false, false); err != nil {
					return res, err
				}
			case from.kind == store.KindAll:
				if f.id != to.id {
					if err := o.copy(ctx, ts, g, to.id, true, false); err != nil {
						return res, err
					}
				}
			default: // out of a label: remove it, and copy unless already there
				changed, err := o.flags(ctx, f.id, fuids, flagChange{del: []string{from.label()}}, true)
				if err != nil {
					return res, err
				}
				if f.id != to.id {
					if err := o.copy(ctx, ts, g, to.id, false, false); err != nil {
						return res, err
					}
				}
				if err := o.mx.sync(ctx, f.id, entryUIDs(changed), o.ms); err != nil {
					return res, err
				}
			}
		}
		// A MOVE out of All Mail takes the messages out of it (RFC 6851)
		// even when they stay in their folder: they are shown again under
		// new UIDs (docs/labels.md).
		if move && from.kind == store.KindAll {
			var stayed []uint32
			for _, j := range g.idx {
				if ts[j].folder == g.folder {
					stayed = append(stayed, ts[j].fuid)
				}
			}
			if err := o.mx.renew(ctx, g.folder, stayed, o.ms); err != nil {
				return res, err
			}
		}
	}
	for _, t := range ts {
		uid := t.fuid
		if to.virtual() {
			if uid, err = mirrorUID(ctx, o.tx, t.folder, t.fuid, to.id); err != nil {
				return res, err
			}
		} else if t.folder != to.id {
			uid = 0
		}
		if uid != 0 {
			res.SrcUIDs = append(res.SrcUIDs, t.uid)
			res.DstUIDs = append(res.DstUIDs, uid)
		}
	}
	return res, nil
}

// storeFlags implements STORE in a virtual mailbox: UNCHANGEDSINCE is
// tested on its own messages, the change applies to the folder entries
// they show, and the result lists its messages whose flags changed (one
// whose label was removed may be gone from it already).
func (o *labelOp) storeFlags(ctx context.Context, box mboxInfo, uids []uint32, chg flagChange, unchangedSince uint64) (store.StoreResult, error) {
	var res store.StoreResult
	refs, err := readRefs(ctx, o.tx, box.id, uids)
	if err != nil {
		return res, err
	}
	var ts []target
	for _, r := range refs {
		// RFC 7162 3.1.3, with the virtual mailbox's modseqs.
		if unchangedSince != 0 && r.modseq > unchangedSince {
			res.Modified = append(res.Modified, r.uid)
			continue
		}
		ts = append(ts, target{uid: r.uid, folder: r.src, fuid: r.srcUID})
	}
	type key struct {
		folder store.MailboxID
		uid    uint32
	}
	newFlags := map[key][]string{}
	for _, g := range groupByFolder(ts) {
		changed, err := o.flags(ctx, g.folder, fuidsOf(ts, g), chg, false)
		if err != nil {
			return res, err
		}
		for _, e := range changed {
			newFlags[key{g.folder, e.UID}] = e.Flags
		}
	}
	if len(newFlags) == 0 {
		return res, nil
	}
	var vuids []uint32
	for _, t := range ts {
		if _, ok := newFlags[key{t.folder, t.fuid}]; ok {
			vuids = append(vuids, t.uid)
		}
	}
	now, err := readSrcRows(ctx, o.tx, box.id, vuids)
	if err != nil {
		return res, err
	}
	i := 0
	for _, t := range ts {
		fl, ok := newFlags[key{t.folder, t.fuid}]
		if !ok {
			continue
		}
		for i < len(now) && now[i].uid < t.uid {
			i++
		}
		if i < len(now) && now[i].uid == t.uid {
			fl = flagList(now[i].bits, joinKeywords(now[i].kws))
		}
		res.Changed = append(res.Changed, store.Entry{UID: t.uid, Flags: fl, ModSeq: o.ms})
	}
	return res, nil
}

// expunge implements EXPUNGE in a virtual mailbox for the messages among
// uids that carry \Deleted. In a label folder they lose the label and
// \Deleted; in All Mail they move to Trash without \Deleted, or, with no
// Trash, are expunged from their folders. It returns the UIDs that left
// the virtual mailbox, and the bodies to collect.
func (o *labelOp) expunge(ctx context.Context, box mboxInfo, uids []uint32) ([]uint32, []blobstore.Hash, error) {
	refs, err := readRefs(ctx, o.tx, box.id, uids)
	if err != nil {
		return nil, nil, err
	}
	var ts []target
	for _, r := range refs {
		if r.bits&bitDeleted != 0 {
			ts = append(ts, target{uid: r.uid, folder: r.src, fuid: r.srcUID})
		}
	}
	if len(ts) == 0 {
		return nil, nil, nil
	}
	if _, err := o.modseq(ctx); err != nil {
		return nil, nil, err
	}
	var trash store.MailboxID
	if box.kind == store.KindAll {
		if trash, err = trashFolder(ctx, o.tx, o.mx.user); err != nil {
			return nil, nil, err
		}
	}
	var blobs []blobstore.Hash
	for _, g := range groupByFolder(ts) {
		fuids := fuidsOf(ts, g)
		switch {
		case box.kind == store.KindLabel:
			chg := flagChange{delBits: bitDeleted, del: []string{box.label()}}
			if _, err := o.flags(ctx, g.folder, fuids, chg, false); err != nil {
				return nil, nil, err
			}
		case trash != 0:
			if _, err := o.flags(ctx, g.folder, fuids, flagChange{delBits: bitDeleted}, true); err != nil {
				return nil, nil, err
			}
			if err := o.copy(ctx, ts, g, trash, true, false); err != nil {
				return nil, nil, err
			}
		default:
			rows, err := readSrcRows(ctx, o.tx, g.folder, fuids)
			if err != nil {
				return nil, nil, err
			}
			b, err := removeTx(ctx, o.tx, o.mx, g.folder, rows, o.ms)
			if err != nil {
				return nil, nil, err
			}
			blobs = append(blobs, b...)
		}
	}
	return o.mx.removedFrom(box.id), blobs, nil
}

// mboxInfo is what the write paths need to know about a mailbox.
type mboxInfo struct {
	id          store.MailboxID
	name        string
	kind        store.MailboxKind
	use         string
	uidvalidity uint32
	uidnext     uint32
}

func (m mboxInfo) virtual() bool { return m.kind == store.KindAll || m.kind == store.KindLabel }

// hidden reports whether the folder's messages are shown by no virtual
// mailbox (Trash and Junk).
func (m mboxInfo) hidden() bool { return m.use == `\Trash` || m.use == `\Junk` }

// label returns the keyword of a label folder, in its folder's spelling.
func (m mboxInfo) label() string { return labelOf(m.name) }

const mboxInfoQuery = `SELECT id, name, kind, special_use, uidvalidity, uidnext FROM mailboxes`

func scanMboxInfo(row *sql.Row) (mboxInfo, error) {
	var m mboxInfo
	err := row.Scan(&m.id, &m.name, &m.kind, &m.use, &m.uidvalidity, &m.uidnext)
	return m, err
}

// loadMbox reads the user's mailbox id.
func loadMbox(ctx context.Context, q querier, user store.UserID, id store.MailboxID) (mboxInfo, error) {
	m, err := scanMboxInfo(q.QueryRowContext(ctx, mboxInfoQuery+` WHERE id = ? AND user_id = ?`, id, user))
	if err == sql.ErrNoRows {
		return m, fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
	}
	return m, err
}

// noSelect refuses the label root as the target or source of a write.
func noSelect(ms ...mboxInfo) error {
	for _, m := range ms {
		if m.kind == store.KindLabelRoot {
			return fmt.Errorf("sqlite: mailbox %q: %w", m.name, store.ErrNoSelect)
		}
	}
	return nil
}

// archive returns the user's archive folder: the \Archive folder, else the
// folder named Archive, created (with \Archive) if missing.
func (x *mirrorSync) archive(ctx context.Context) (mboxInfo, error) {
	var id store.MailboxID
	err := x.tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE user_id = ? AND kind = 0 AND special_use = '\Archive' ORDER BY id LIMIT 1`, x.user).Scan(&id)
	if err == sql.ErrNoRows {
		m, err := scanMboxInfo(x.tx.QueryRowContext(ctx, mboxInfoQuery+` WHERE user_id = ? AND name = 'Archive'`, x.user))
		switch {
		case err == sql.ErrNoRows:
			if err := createParentsTx(ctx, x.tx, x.user, "Archive"); err != nil {
				return mboxInfo{}, err
			}
			nm, err := createMailboxTx(ctx, x.tx, x.user, "Archive", `\Archive`)
			if err != nil {
				return mboxInfo{}, err
			}
			if _, err := x.tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)`, x.user, nm.Name); err != nil {
				return mboxInfo{}, err
			}
			x.tx.publish(store.Change{User: x.user, Kind: store.ChangeMailboxes, Mailbox: nm.ID, ModSeq: nm.HighestModSeq})
			id = nm.ID
		case err != nil:
			return mboxInfo{}, err
		case m.kind != store.KindFolder:
			return mboxInfo{}, store.Cannot("there is no Archive folder to file the messages in")
		default:
			id = m.id
		}
	} else if err != nil {
		return mboxInfo{}, err
	}
	m, err := loadMbox(ctx, x.tx, x.user, id) // fresh: UIDNEXT moves as we add
	if err == nil {
		x.known(m)
	}
	return m, err
}

// trashFolder returns the user's \Trash folder, 0 if there is none.
func trashFolder(ctx context.Context, tx *Tx, user store.UserID) (store.MailboxID, error) {
	var id store.MailboxID
	err := tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE user_id = ? AND kind = 0 AND special_use = '\Trash' ORDER BY id LIMIT 1`, user).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}
