package sqlite

// Labels, label folders and All Mail (docs/labels.md).
//
// A virtual mailbox (All Mail, a label folder) is a mailboxes row with
// kind <> 0, and each message it shows is an ordinary mailbox_messages row
// of it, with its own UID (from the virtual mailbox's UIDNEXT), the same
// message_id as the folder entry it shows, and a copy of that entry's
// flags; a mirrors row links the two. So Entries, Records, Changes, Status,
// UIDList, the caches and SEARCH read a virtual mailbox exactly like a
// folder, and CONDSTORE/QRESYNC/IDLE work on it unchanged.
//
// The price is paid by the writes: every write that changes folder entries
// calls syncMirrors for them in the same transaction, with the modseq of
// the change. syncMirrors compares the mirrors an entry has with those it
// should have (All Mail, plus the label folder of each of its keywords
// that is a label, none in \Trash and \Junk) and inserts, updates or
// removes mirror rows, leaving tombstones, so a crash never leaves a
// virtual mailbox out of step. Its cost follows the entries changed: a few
// indexed statements per entry and one counter update per virtual mailbox
// touched.
//
// A message moved between folders keeps its mirrors: the mirrors rows are
// relinked to the new entry before the old one goes (copyTx), so its UIDs
// in All Mail and the label folders stay.
//
// Writes through a virtual mailbox (labelops.go) act on the folder entries
// its messages show and let syncMirrors bring the virtual mailboxes up to
// date: nothing is ever stored in a virtual mailbox directly.

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"github.com/casier/casier/internal/store"
)

const labelsMigration = `
ALTER TABLE mailboxes ADD COLUMN kind  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN label TEXT    NOT NULL DEFAULT '';
CREATE UNIQUE INDEX mailboxes_label ON mailboxes(user_id, label) WHERE kind = 2;

CREATE TABLE mirrors (
	mailbox_id     INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE, -- the virtual mailbox
	uid            INTEGER NOT NULL,
	src_mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE, -- the folder
	src_uid        INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX mirrors_src ON mirrors(src_mailbox_id, src_uid, mailbox_id);

-- reconcileLabels makes the label folders, All Mail and the mirrors of
-- the mail stored so far, once, at the next Open.
INSERT INTO meta (key, value) VALUES ('labels_backfill', 1);
`

// mirrorRow is an existing mirror of a folder entry.
type mirrorRow struct {
	srcUID uint32
	box    store.MailboxID
	uid    uint32
	bits   int
	kws    []string
	size   int64
}

// vbox is a virtual mailbox being written by a mirrorSync: its UIDNEXT and
// counter changes are kept here and written once, by flush.
type vbox struct {
	id          store.MailboxID
	loaded      bool // uidnext and firstRecent read
	uidnext     uint32
	firstRecent uint32
	kt          *keywordTable
	ms          uint64 // modseq of the pending change; 0: untouched
	messages    int
	recent      int
	unseen      int
	deleted     int
	size        int64
}

// mirrorSync brings the mirrors of folder entries up to date within one
// write transaction. It caches what it reads about the user's mailboxes,
// so one operation makes one (and calls sync as often as it needs), then
// calls flush before the transaction ends.
type mirrorSync struct {
	s    *Store
	tx   *Tx
	user store.UserID

	infos    map[store.MailboxID]mboxInfo
	all      store.MailboxID // All Mail; 0: none
	allKnown bool
	labels   map[string]store.MailboxID // folded keyword -> label folder; 0: not a label
	rootOK   bool
	boxes    map[store.MailboxID]*vbox
	order    []store.MailboxID            // boxes in first-touch order
	removed  map[store.MailboxID][]uint32 // mirror UIDs removed, per virtual mailbox
}

func (s *Store) newMirrorSync(tx *Tx, user store.UserID) *mirrorSync {
	return &mirrorSync{s: s, tx: tx, user: user,
		infos: map[store.MailboxID]mboxInfo{}, labels: map[string]store.MailboxID{},
		boxes: map[store.MailboxID]*vbox{}, removed: map[store.MailboxID][]uint32{}}
}

// syncMirrors brings the mirrors of the given entries of mailbox src up to
// date at modseq ms, in one call. The write paths use a mirrorSync instead
// (newMirrorSync, then sync and its variants, then flush), to share its
// reads across the steps of one operation.
func (s *Store) syncMirrors(ctx context.Context, tx *Tx, user store.UserID, src store.MailboxID, uids []uint32, ms uint64) error {
	x := s.newMirrorSync(tx, user)
	if err := x.sync(ctx, src, uids, ms); err != nil {
		return err
	}
	return x.flush(ctx)
}

// info returns (and caches) what the sync needs to know about a mailbox.
func (x *mirrorSync) info(ctx context.Context, id store.MailboxID) (mboxInfo, error) {
	if m, ok := x.infos[id]; ok {
		return m, nil
	}
	m, err := loadMbox(ctx, x.tx, x.user, id)
	if err != nil {
		return m, err
	}
	x.infos[id] = m
	return m, nil
}

// known records a mailbox the caller has read already.
func (x *mirrorSync) known(m mboxInfo) { x.infos[m.id] = m }

// allMail returns the user's All Mail, 0 if there is none.
func (x *mirrorSync) allMail(ctx context.Context) (store.MailboxID, error) {
	if x.allKnown {
		return x.all, nil
	}
	var id, next, first int64
	err := x.tx.QueryRowContext(ctx, `SELECT id, uidnext, first_recent_uid FROM mailboxes WHERE user_id = ? AND kind = 1 ORDER BY id LIMIT 1`, x.user).Scan(&id, &next, &first)
	if err != nil && err != sql.ErrNoRows {
		return 0, err
	}
	x.allKnown = true
	x.all = store.MailboxID(id)
	x.s.rememberAllMail(x.user, x.all)
	if id != 0 && x.boxes[x.all] == nil {
		x.boxes[x.all] = &vbox{id: x.all, loaded: true, uidnext: uint32(next), firstRecent: uint32(first)}
	}
	return x.all, nil
}

// allMailIDs remembers each user's All Mail id, found by mirrorSync.allMail
// (a hint, checked before use: see syncRows).
type allMailIDs struct {
	mu  sync.Mutex
	ids map[store.UserID]store.MailboxID
}

func (s *Store) knownAllMail(user store.UserID) store.MailboxID {
	s.allMail.mu.Lock()
	defer s.allMail.mu.Unlock()
	return s.allMail.ids[user]
}

func (s *Store) rememberAllMail(user store.UserID, id store.MailboxID) {
	s.allMail.mu.Lock()
	defer s.allMail.mu.Unlock()
	if s.allMail.ids == nil {
		s.allMail.ids = map[store.UserID]store.MailboxID{}
	}
	s.allMail.ids[user] = id
}

// label returns the label folder of keyword k, creating it when k is a
// label new to the user; 0 if k is not a label (or its folder name is
// taken by a folder).
func (x *mirrorSync) label(ctx context.Context, k string, ms uint64) (store.MailboxID, error) {
	f := fold(k)
	if id, ok := x.labels[f]; ok {
		return id, nil
	}
	var id store.MailboxID
	if x.s.labels.isLabel(k) {
		err := x.tx.QueryRowContext(ctx, labelQuery, x.user, f).Scan(&id)
		if err == sql.ErrNoRows {
			id, err = x.createLabel(ctx, k, ms)
		}
		if err != nil {
			return 0, err
		}
	}
	x.labels[f] = id
	return id, nil
}

// createLabel makes the label folder of k (spelled as given: the first
// spelling seen wins), unless its name is taken; 0 then.
func (x *mirrorSync) createLabel(ctx context.Context, k string, ms uint64) (store.MailboxID, error) {
	name := x.s.labels.labelName(k)
	taken, err := mailboxExists(ctx, x.tx, x.user, name)
	if err != nil || taken {
		return 0, err
	}
	if err := x.ensureRoot(ctx, ms); err != nil {
		return 0, err
	}
	m, err := insertMailbox(ctx, x.tx, x.user, name, "", store.KindLabel, fold(k), ms)
	if err != nil {
		return 0, err
	}
	if err := x.subscribe(ctx, name); err != nil {
		return 0, err
	}
	x.tx.publish(store.Change{User: x.user, Kind: store.ChangeMailboxes, Mailbox: m.ID, ModSeq: m.HighestModSeq})
	x.boxes[m.ID] = &vbox{id: m.ID, loaded: true, uidnext: 1, firstRecent: 1}
	x.labels[fold(k)] = m.ID
	return m.ID, nil
}

// subscribe subscribes a new label folder: clients that show only
// subscribed folders (LSUB, Thunderbird's default) then show the labels
// too. The user may unsubscribe; nothing subscribes the folder again. The
// root is not subscribed: LSUB "" "%" shows it as the \Noselect parent of
// its subscribed children (RFC 3501 6.3.9).
func (x *mirrorSync) subscribe(ctx context.Context, name string) error {
	if _, err := x.tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)`, x.user, name); err != nil {
		return err
	}
	x.tx.publish(store.Change{User: x.user, Kind: store.ChangeSubscription})
	return nil
}

// ensureRoot creates the label root (with its parents) if no mailbox has
// its name. A folder that has the name already serves as the parent.
func (x *mirrorSync) ensureRoot(ctx context.Context, ms uint64) error {
	if x.rootOK {
		return nil
	}
	p := x.s.labels.prefix
	ok, err := mailboxExists(ctx, x.tx, x.user, p)
	if err != nil {
		return err
	}
	if !ok {
		if err := createParentsTx(ctx, x.tx, x.user, p); err != nil {
			return err
		}
		m, err := insertMailbox(ctx, x.tx, x.user, p, "", store.KindLabelRoot, "", ms)
		if err != nil {
			return err
		}
		x.tx.publish(store.Change{User: x.user, Kind: store.ChangeMailboxes, Mailbox: m.ID, ModSeq: m.HighestModSeq})
	}
	x.rootOK = true
	return nil
}

// box returns the state of virtual mailbox id, reading its UIDNEXT and
// first recent UID when load is set.
func (x *mirrorSync) box(ctx context.Context, id store.MailboxID, load bool) (*vbox, error) {
	b := x.boxes[id]
	if b == nil {
		b = &vbox{id: id}
		x.boxes[id] = b
	}
	if load && !b.loaded {
		if err := x.tx.QueryRowContext(ctx, `SELECT uidnext, first_recent_uid FROM mailboxes WHERE id = ?`, id).Scan(&b.uidnext, &b.firstRecent); err != nil {
			return nil, err
		}
		b.loaded = true
	}
	return b, nil
}

func (x *mirrorSync) touch(b *vbox, ms uint64) {
	if b.ms == 0 && !slices.Contains(x.order, b.id) {
		x.order = append(x.order, b.id)
	}
	b.ms = max(b.ms, ms)
}

// sync brings the mirrors of the given entries of mailbox src up to date
// at modseq ms. An entry that no longer exists loses its mirrors. Nothing
// mirrors a virtual mailbox or the label root.
func (x *mirrorSync) sync(ctx context.Context, src store.MailboxID, uids []uint32, ms uint64) error {
	if len(uids) == 0 {
		return nil
	}
	info, err := x.info(ctx, src)
	if err != nil || info.kind != store.KindFolder {
		return err
	}
	u, _ := spans(uids, 16)
	rows, err := readSrcRows(ctx, x.tx, src, u)
	if err != nil {
		return err
	}
	return x.syncRows(ctx, info, u, rows, true, false, ms)
}

// syncNew is sync for entries just added to src (rows, ascending, full),
// which have no mirrors yet: it reads nothing about them.
func (x *mirrorSync) syncNew(ctx context.Context, src store.MailboxID, rows []srcRow, ms uint64) error {
	return x.syncGiven(ctx, src, rows, true, ms)
}

// syncFlags is sync for entries whose flags just changed, given with their
// new flags (uid, bits and kws of rows, ascending): it saves reading them
// again, and reads the rest of a row only for a mirror to insert.
func (x *mirrorSync) syncFlags(ctx context.Context, src store.MailboxID, rows []srcRow, ms uint64) error {
	return x.syncGiven(ctx, src, rows, false, ms)
}

// syncGiven is sync for entries whose current rows the caller has: full,
// fresh rows of new entries (syncNew), or their flags only (syncFlags).
func (x *mirrorSync) syncGiven(ctx context.Context, src store.MailboxID, rows []srcRow, fresh bool, ms uint64) error {
	if len(rows) == 0 {
		return nil
	}
	info, err := x.info(ctx, src)
	if err != nil || info.kind != store.KindFolder {
		return err
	}
	u := make([]uint32, len(rows))
	for i, r := range rows {
		u[i] = r.uid
	}
	return x.syncRows(ctx, info, u, rows, fresh, fresh, ms)
}

// syncRows does the work of sync for the entries u (ascending, unique) of
// folder src, whose current rows are rows (those missing are gone); when
// full is false, rows carry only the flags; fresh entries have no mirrors.
func (x *mirrorSync) syncRows(ctx context.Context, src mboxInfo, u []uint32, rows []srcRow, full, fresh bool, ms uint64) error {
	var have []mirrorRow
	if !fresh {
		_, sp := spans(u, 16)
		var err error
		if have, err = x.readMirrors(ctx, src.id, u, sp); err != nil {
			return err
		}
	}
	if !src.hidden() && !x.allKnown {
		// An entry already mirrored in the All Mail we know of saves the
		// lookup: ids are never reused and a mailbox never changes kind,
		// so a mirror in it proves it is still the user's All Mail.
		if id := x.s.knownAllMail(x.user); id != 0 && slices.ContainsFunc(have, func(h mirrorRow) bool { return h.box == id }) {
			x.all, x.allKnown = id, true
		} else if _, err := x.allMail(ctx); err != nil {
			return err
		}
	}
	type later struct {
		box store.MailboxID
		uid uint32
	}
	var inserts []later // with partial rows: inserted once the full rows are read
	var want []store.MailboxID
	ri, hi := 0, 0
	for _, uid := range u {
		for ri < len(rows) && rows[ri].uid < uid {
			ri++
		}
		var row *srcRow
		if ri < len(rows) && rows[ri].uid == uid {
			row = &rows[ri]
		}
		for hi < len(have) && have[hi].srcUID < uid {
			hi++
		}
		start := hi
		for hi < len(have) && have[hi].srcUID == uid {
			hi++
		}
		want = want[:0]
		if row != nil && !src.hidden() {
			if x.all != 0 {
				want = append(want, x.all)
			}
			for _, k := range row.kws {
				id, err := x.label(ctx, k, ms)
				if err != nil {
					return err
				}
				if id != 0 && !slices.Contains(want, id) {
					want = append(want, id)
				}
			}
		}
		for _, h := range have[start:hi] {
			var err error
			if slices.Contains(want, h.box) {
				err = x.update(ctx, h, row, ms)
			} else {
				err = x.remove(ctx, h, ms)
			}
			if err != nil {
				return err
			}
		}
		for _, w := range want {
			if slices.ContainsFunc(have[start:hi], func(h mirrorRow) bool { return h.box == w }) {
				continue
			}
			if !full {
				inserts = append(inserts, later{w, uid})
			} else if err := x.insert(ctx, w, src.id, row, ms); err != nil {
				return err
			}
		}
	}
	if len(inserts) == 0 {
		return nil
	}
	uids := make([]uint32, len(inserts))
	for i, l := range inserts {
		uids[i] = l.uid
	}
	fr, err := readSrcRows(ctx, x.tx, src.id, uids)
	if err != nil {
		return err
	}
	for _, l := range inserts {
		i, ok := slices.BinarySearchFunc(fr, l.uid, func(r srcRow, u uint32) int { return cmp.Compare(r.uid, u) })
		if !ok {
			return fmt.Errorf("sqlite: mailbox %d uid %d: entry vanished", src.id, l.uid)
		}
		if err := x.insert(ctx, l.box, src.id, &fr[i], ms); err != nil {
			return err
		}
	}
	return nil
}

// renew replaces the mirrors of the given entries of folder src by new
// ones, under new UIDs.
func (x *mirrorSync) renew(ctx context.Context, src store.MailboxID, uids []uint32, ms uint64) error {
	if len(uids) == 0 {
		return nil
	}
	u, sp := spans(uids, 16)
	have, err := x.readMirrors(ctx, src, u, sp)
	if err != nil {
		return err
	}
	for _, h := range have {
		if err := x.remove(ctx, h, ms); err != nil {
			return err
		}
	}
	return x.sync(ctx, src, u, ms)
}

// dropAll removes every mirror of folder src (before the folder goes).
func (x *mirrorSync) dropAll(ctx context.Context, src store.MailboxID, ms func() (uint64, error)) error {
	have, err := x.scanMirrors(ctx, `SELECT m.src_uid, m.mailbox_id, m.uid, mm.flags, mm.keywords, mm.size
		FROM mirrors m JOIN mailbox_messages mm ON mm.mailbox_id = m.mailbox_id AND mm.uid = m.uid
		WHERE m.src_mailbox_id = ?`, src)
	if err != nil || len(have) == 0 {
		return err
	}
	m, err := ms()
	if err != nil {
		return err
	}
	for _, h := range have {
		if err := x.remove(ctx, h, m); err != nil {
			return err
		}
	}
	return nil
}

// mirrorsQuery reads the mirrors of a UID range of a folder through
// mirrors_src, with the rows they own.
const mirrorsQuery = `SELECT m.src_uid, m.mailbox_id, m.uid, mm.flags, mm.keywords, mm.size
	FROM mirrors m JOIN mailbox_messages mm ON mm.mailbox_id = m.mailbox_id AND mm.uid = m.uid
	WHERE m.src_mailbox_id = ? AND m.src_uid BETWEEN ? AND ? ORDER BY m.src_uid`

// labelQuery finds a user's label folder by folded keyword.
const labelQuery = `SELECT id FROM mailboxes WHERE user_id = ? AND kind = 2 AND label = ?`

// relinkQuery points the mirrors of one folder entry at another.
const relinkQuery = `UPDATE mirrors SET src_mailbox_id = ?, src_uid = ? WHERE src_mailbox_id = ? AND src_uid = ?`

// readMirrors reads the existing mirrors of the entries u of src,
// ascending by source UID.
func (x *mirrorSync) readMirrors(ctx context.Context, src store.MailboxID, u []uint32, sp []span) ([]mirrorRow, error) {
	var out []mirrorRow
	w := wanted{u: u}
	for _, s := range sp {
		rows, err := x.scanMirrors(ctx, mirrorsQuery, src, s.lo, s.hi)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if w.has(r.srcUID) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func (x *mirrorSync) scanMirrors(ctx context.Context, q string, args ...any) ([]mirrorRow, error) {
	rows, err := x.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []mirrorRow
	for rows.Next() {
		var r mirrorRow
		var k string
		if err := rows.Scan(&r.srcUID, &r.box, &r.uid, &r.bits, &k, &r.size); err != nil {
			return nil, err
		}
		r.kws = splitKeywords(k)
		out = append(out, r)
	}
	return out, rows.Err()
}

// insert adds a mirror of entry row of src to virtual mailbox id.
func (x *mirrorSync) insert(ctx context.Context, id, src store.MailboxID, row *srcRow, ms uint64) error {
	b, err := x.box(ctx, id, true)
	if err != nil {
		return err
	}
	if b.uidnext == 1<<32-1 {
		return fmt.Errorf("sqlite: mailbox %d: UID space exhausted", id)
	}
	if b.kt == nil {
		b.kt = newKeywordTable(id)
	}
	ck, err := b.kt.canon(ctx, x.tx, row.kws, true)
	if err != nil {
		return err
	}
	uid := b.uidnext
	if _, err := x.tx.ExecContext(ctx, insertEntry, id, uid, row.mid, row.bits, joinKeywords(ck), ms, row.size, row.idate, row.tz, row.sdate); err != nil {
		return err
	}
	if err := indexKeywords(ctx, x.tx, id, uid, ck, true); err != nil {
		return err
	}
	if _, err := x.tx.ExecContext(ctx, `INSERT INTO mirrors (mailbox_id, uid, src_mailbox_id, src_uid) VALUES (?, ?, ?, ?)`, id, uid, src, row.uid); err != nil {
		return err
	}
	b.uidnext++
	b.messages++
	b.recent++ // a new UID is at or above first_recent_uid
	b.unseen += b2i(row.bits&bitSeen == 0)
	b.deleted += b2i(row.bits&bitDeleted != 0)
	b.size += row.size
	x.touch(b, ms)
	return nil
}

// update gives mirror h the flags of its entry row, if they differ.
func (x *mirrorSync) update(ctx context.Context, h mirrorRow, row *srcRow, ms uint64) error {
	sameKws := sameKeywords(h.kws, row.kws)
	if h.bits == row.bits && sameKws {
		return nil
	}
	b, err := x.box(ctx, h.box, false)
	if err != nil {
		return err
	}
	if sameKws { // the common case: system flags only
		if _, err := x.tx.ExecContext(ctx, `UPDATE mailbox_messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?`,
			row.bits, ms, h.box, h.uid); err != nil {
			return err
		}
	} else if err := x.updateKeywords(ctx, b, h, row, ms); err != nil {
		return err
	}
	b.unseen += b2i(row.bits&bitSeen == 0) - b2i(h.bits&bitSeen == 0)
	b.deleted += b2i(row.bits&bitDeleted != 0) - b2i(h.bits&bitDeleted != 0)
	x.touch(b, ms)
	return nil
}

// updateKeywords writes the flags and keywords of row to mirror h.
func (x *mirrorSync) updateKeywords(ctx context.Context, b *vbox, h mirrorRow, row *srcRow, ms uint64) error {
	if b.kt == nil {
		b.kt = newKeywordTable(h.box)
	}
	ck, err := b.kt.canon(ctx, x.tx, row.kws, true)
	if err != nil {
		return err
	}
	if _, err := x.tx.ExecContext(ctx, `UPDATE mailbox_messages SET flags = ?, keywords = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?`,
		row.bits, joinKeywords(ck), ms, h.box, h.uid); err != nil {
		return err
	}
	if err := indexKeywords(ctx, x.tx, h.box, h.uid, diffKeywords(h.kws, ck), false); err != nil {
		return err
	}
	return indexKeywords(ctx, x.tx, h.box, h.uid, diffKeywords(ck, h.kws), true)
}

// remove deletes mirror h, leaving a tombstone at ms.
func (x *mirrorSync) remove(ctx context.Context, h mirrorRow, ms uint64) error {
	b, err := x.box(ctx, h.box, true)
	if err != nil {
		return err
	}
	if _, err := x.tx.ExecContext(ctx, `DELETE FROM mailbox_messages WHERE mailbox_id = ? AND uid = ?`, h.box, h.uid); err != nil {
		return err
	}
	if _, err := x.tx.ExecContext(ctx, `INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)`, h.box, h.uid, ms); err != nil {
		return err
	}
	if err := indexKeywords(ctx, x.tx, h.box, h.uid, h.kws, false); err != nil {
		return err
	}
	if _, err := x.tx.ExecContext(ctx, `DELETE FROM mirrors WHERE mailbox_id = ? AND uid = ?`, h.box, h.uid); err != nil {
		return err
	}
	b.messages--
	b.recent -= b2i(h.uid >= b.firstRecent)
	b.unseen -= b2i(h.bits&bitSeen == 0)
	b.deleted -= b2i(h.bits&bitDeleted != 0)
	b.size -= h.size
	x.removed[h.box] = append(x.removed[h.box], h.uid)
	x.touch(b, ms)
	return nil
}

// flush writes the counters of the virtual mailboxes touched (one UPDATE
// each) and queues their changes for the hub.
func (x *mirrorSync) flush(ctx context.Context) error {
	for _, id := range x.order {
		b := x.boxes[id]
		if b.ms == 0 {
			continue
		}
		var err error
		if b.loaded {
			_, err = x.tx.ExecContext(ctx, `UPDATE mailboxes SET uidnext = ?, highestmodseq = max(highestmodseq, ?), messages = messages + ?,
				recent = recent + ?, unseen = unseen + ?, deleted = deleted + ?, size = size + ? WHERE id = ?`,
				b.uidnext, b.ms, b.messages, b.recent, b.unseen, b.deleted, b.size, id)
		} else {
			_, err = x.tx.ExecContext(ctx, `UPDATE mailboxes SET highestmodseq = max(highestmodseq, ?), unseen = unseen + ?, deleted = deleted + ? WHERE id = ?`,
				b.ms, b.unseen, b.deleted, id)
		}
		if err != nil {
			return err
		}
		x.tx.publish(store.Change{User: x.user, Kind: store.ChangeMessages, Mailbox: id, ModSeq: b.ms})
		b.ms, b.messages, b.recent, b.unseen, b.deleted, b.size = 0, 0, 0, 0, 0, 0
	}
	x.order = x.order[:0]
	return nil
}

// removedFrom returns the mirror UIDs removed from virtual mailbox id so
// far, ascending.
func (x *mirrorSync) removedFrom(id store.MailboxID) []uint32 {
	out := slices.Clone(x.removed[id])
	slices.Sort(out)
	return slices.Compact(out)
}

// mirrorUID returns the UID of the mirror of entry (src, uid) in virtual
// mailbox box, 0 if it has none.
func mirrorUID(ctx context.Context, tx *Tx, src store.MailboxID, uid uint32, box store.MailboxID) (uint32, error) {
	var v uint32
	err := tx.QueryRowContext(ctx, `SELECT uid FROM mirrors WHERE src_mailbox_id = ? AND src_uid = ? AND mailbox_id = ?`, src, uid, box).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return v, err
}

// relink makes the mirrors of entry (from, fromUID) show (to, toUID)
// instead: the message moved, its virtual UIDs stay.
func relink(ctx context.Context, tx *Tx, from store.MailboxID, fromUID uint32, to store.MailboxID, toUID uint32) error {
	_, err := tx.ExecContext(ctx, relinkQuery, to, toUID, from, fromUID)
	return err
}
