package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"time"

	"github.com/casier/casier/internal/message"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/blobstore"
)

// span is a UID range [lo, hi] to read with one indexed query.
type span struct{ lo, hi uint32 }

// spans sorts and dedupes uids and groups them into ranges, merging
// neighbours whose gap is at most maxGap (the unwanted rows in a gap are
// skipped while scanning). Contiguous sets, the common case ("1:*"), cost
// one query.
func spans(uids []uint32, maxGap uint32) ([]uint32, []span) {
	u := slices.Clone(uids)
	slices.Sort(u)
	u = slices.Compact(u)
	if len(u) > 0 && u[0] == 0 {
		u = u[1:] // UID 0 never exists
	}
	var out []span
	for _, x := range u {
		if n := len(out); n > 0 && x-out[n-1].hi <= maxGap+1 {
			out[n-1].hi = x
			continue
		}
		out = append(out, span{x, x})
	}
	return u, out
}

// wanted walks the sorted wanted UIDs alongside an ascending row scan.
type wanted struct {
	u []uint32
	i int
}

func (w *wanted) has(uid uint32) bool {
	for w.i < len(w.u) && w.u[w.i] < uid {
		w.i++
	}
	return w.i < len(w.u) && w.u[w.i] == uid
}

// checkMailbox verifies that id is one of the user's mailboxes.
func checkMailbox(ctx context.Context, q querier, user store.UserID, id store.MailboxID) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE id = ? AND user_id = ?`, id, user).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
	}
	return nil
}

// Entries returns every message of the mailbox, ascending UID: from the
// entries cache brought up to date with the changes since it was read
// (see entriesCache), else in one primary-key range scan of small rows.
func (a *Account) Entries(ctx context.Context, id store.MailboxID) ([]store.Entry, error) {
	var out []store.Entry
	err := a.s.read(ctx, func(tx *Tx) error {
		var n int
		var hms int64
		if err := tx.QueryRowContext(ctx, `SELECT messages, highestmodseq FROM mailboxes WHERE id = ? AND user_id = ?`, id, a.user).Scan(&n, &hms); err != nil {
			if err == sql.ErrNoRows {
				return fmt.Errorf("sqlite: mailbox %d: %w", id, store.ErrNoMailbox)
			}
			return err
		}
		ms := uint64(hms)
		if snap := a.s.entries.get(id); snap != nil && snap.modseq <= ms {
			if snap.modseq == ms && len(snap.entries) == n {
				out = slices.Clone(snap.entries)
				return nil
			}
			merged, ok, err := entriesDelta(ctx, tx, id, snap, n)
			if err != nil {
				return err
			}
			if ok {
				a.s.entries.put(id, ms, merged)
				out = slices.Clone(merged)
				return nil
			}
		}
		all, err := scanAllEntries(ctx, tx, id, n)
		if err != nil {
			return err
		}
		a.s.entries.put(id, ms, all)
		out = slices.Clone(all)
		return nil
	})
	return out, err
}

// scanAllEntries reads every entry of a mailbox of about n messages.
func scanAllEntries(ctx context.Context, tx *Tx, id store.MailboxID, n int) ([]store.Entry, error) {
	// uid and flags travel packed in one column: each column read costs a
	// mutex round trip in the driver, and this loop runs once per message
	// of the mailbox.
	rows, err := tx.QueryContext(ctx, `SELECT (flags << 32) | uid, modseq, keywords FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]store.Entry, 0, n)
	// modseq scans into an int64: database/sql converts to other integer
	// types through a string.
	var packed, modseq int64
	var kws sql.RawBytes // most messages have none: no allocation
	for rows.Next() {
		if err := rows.Scan(&packed, &modseq, &kws); err != nil {
			return nil, err
		}
		out = append(out, store.Entry{UID: uint32(packed), Flags: flagList(int(packed>>32), string(kws)), ModSeq: uint64(modseq)})
	}
	return slices.Clip(out), rows.Err()
}

// entryQuery reads the per-mailbox part of records: small rows of one
// primary-key range. uid and flags travel packed (see Entries).
const entryQuery = `SELECT (flags << 32) | uid, keywords, modseq, message_id, internal_date, internal_tz, save_date, size
	FROM mailbox_messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`

// modelQuery reads the header and model of the messages whose ids are
// listed in a JSON array: one statement (prepared once) for any number of
// ids, each found by rowid.
const modelQuery = `SELECT id, header, parsed FROM messages WHERE id IN (SELECT value FROM json_each(?))`

const insertEntry = `INSERT INTO mailbox_messages
	(mailbox_id, uid, message_id, flags, keywords, modseq, size, internal_date, internal_tz, save_date)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Records returns the full records of the given UIDs that exist,
// ascending, reading them by UID ranges. Headers and models come from the
// model cache when present, else from the messages rows in one query per
// call; see modelCache for why they are shared and read-only.
func (a *Account) Records(ctx context.Context, id store.MailboxID, uids []uint32) ([]store.Record, error) {
	u, sp := spans(uids, 4)
	var out []store.Record
	err := a.s.read(ctx, func(tx *Tx) error {
		out = make([]store.Record, 0, len(u))
		if err := checkMailbox(ctx, tx, a.user, id); err != nil {
			return err
		}
		w := wanted{u: u}
		for _, s := range sp {
			if err := scanEntries(ctx, tx, id, s, &w, &out); err != nil {
				return err
			}
		}
		return a.s.loadModels(ctx, tx, out)
	})
	return out, err
}

// scanEntries appends the mailbox_messages part of the records of span s.
func scanEntries(ctx context.Context, tx *Tx, id store.MailboxID, s span, w *wanted, out *[]store.Record) error {
	rows, err := tx.QueryContext(ctx, entryQuery, id, s.lo, s.hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	// Every destination is an int64: database/sql converts other integer
	// types through a string (an allocation and a parse per column).
	var packed, modseq, mid, idate, tz, sdate, size int64
	var kws sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&packed, &kws, &modseq, &mid, &idate, &tz, &sdate, &size); err != nil {
			return err
		}
		uid := uint32(packed)
		if !w.has(uid) {
			continue
		}
		*out = append(*out, store.Record{
			Entry:        store.Entry{UID: uid, Flags: flagList(int(packed>>32), string(kws)), ModSeq: uint64(modseq)},
			MessageID:    store.MessageID(mid),
			InternalDate: time.Unix(idate, 0).In(zone(int(tz))),
			SaveDate:     time.Unix(sdate, 0),
			Size:         size,
		})
	}
	return rows.Err()
}

// loadModels sets Header and Parsed of recs, from the cache or the
// database (then caching them).
func (s *Store) loadModels(ctx context.Context, tx *Tx, recs []store.Record) error {
	miss := s.models.fill(recs, nil)
	if len(miss) == 0 {
		return nil
	}
	// The same body may sit at several UIDs (per-user dedupe): ask once.
	byID := make(map[store.MessageID][]int, len(miss))
	ids := make([]byte, 0, 8*len(miss)+2)
	ids = append(ids, '[')
	for _, i := range miss {
		mid := recs[i].MessageID
		if _, ok := byID[mid]; !ok {
			if len(ids) > 1 {
				ids = append(ids, ',')
			}
			ids = strconv.AppendInt(ids, int64(mid), 10)
		}
		byID[mid] = append(byID[mid], i)
	}
	ids = append(ids, ']')
	rows, err := tx.QueryContext(ctx, modelQuery, string(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	var raw sql.RawBytes
	for rows.Next() {
		var id int64
		var header []byte
		if err := rows.Scan(&id, &header, &raw); err != nil {
			return err
		}
		mid := store.MessageID(id)
		p, err := decodeParsed(raw)
		if err != nil {
			return fmt.Errorf("sqlite: message %d: corrupt parsed data: %w", mid, err)
		}
		if header == nil {
			header = []byte{}
		}
		s.models.add(mid, header, p, costOf(header, len(raw)))
		for _, i := range byID[mid] {
			recs[i].Header, recs[i].Parsed = header, p
		}
		delete(byID, mid)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for mid := range byID {
		return fmt.Errorf("sqlite: message %d: row missing", mid)
	}
	return nil
}

// OpenBody opens a stored message body.
func (a *Account) OpenBody(ctx context.Context, id store.MessageID) (store.Body, error) {
	var blob []byte
	err := a.s.rq().QueryRowContext(ctx, `SELECT blob FROM messages WHERE id = ? AND user_id = ?`, id, a.user).Scan(&blob)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("sqlite: message %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var h blobstore.Hash
	copy(h[:], blob)
	b, err := a.s.blobs.Open(h)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sqlite: message %d: body file missing: %w", id, store.ErrNotFound)
		}
		return nil, err
	}
	return b, nil
}

// readBody reads a whole body, refusing more than max bytes.
func readBody(r io.Reader, size, max int64) ([]byte, error) {
	if size > max {
		return nil, fmt.Errorf("sqlite: %d bytes: %w", size, store.ErrTooBig)
	}
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size))
	}
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading message: %w", err)
	}
	if n > max {
		return nil, fmt.Errorf("sqlite: message over %d bytes: %w", max, store.ErrTooBig)
	}
	return buf.Bytes(), nil
}

// parse runs the message parser; a message it rejects is still stored
// (mail must not be lost), with a minimal model: the header up to the
// first blank line and a text/plain body.
func parse(raw []byte) *message.Parsed {
	p, err := message.Parse(raw)
	if err == nil && p != nil && p.Root != nil && p.Root.BodyStart >= 0 && p.Root.BodyStart <= int64(len(raw)) {
		return p
	}
	hend := int64(len(raw))
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		hend = int64(i + 4)
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		hend = int64(i + 2)
	}
	body := raw[hend:]
	lines := int64(bytes.Count(body, []byte("\n")))
	if len(body) > 0 && body[len(body)-1] != '\n' {
		lines++
	}
	return &message.Parsed{Root: &message.Part{
		Type: "text", Subtype: "plain", Params: [][2]string{{"charset", "us-ascii"}},
		BodyStart: hend, BodyEnd: int64(len(raw)), Lines: lines, DecodedSize: int64(len(body)),
	}}
}

// Append stores a message: body file first (durable), then the metadata
// transaction, then the change notification. Appending to a virtual
// mailbox stores the message in Archive (with the label, for a label
// folder) and returns its UID in the virtual mailbox.
func (a *Account) Append(ctx context.Context, id store.MailboxID, req store.AppendRequest) (store.AppendResult, error) {
	na, err := a.prepareAppend(ctx, req)
	if err != nil {
		return store.AppendResult{}, err
	}
	h := na.msg.hash

	var res store.AppendResult
	err = a.s.write(ctx, func(tx *Tx) error {
		res = store.AppendResult{}
		t, err := appendTarget(ctx, tx, a.user, id)
		if err != nil {
			return err
		}
		mx := a.s.newMirrorSync(tx, a.user)
		mx.known(t)
		folder, na, err := virtualTarget(ctx, mx, t, na)
		if err != nil {
			return err
		}
		mid, err := a.s.messageRow(ctx, tx, a.user, na.msg)
		if err != nil {
			return err
		}
		ms, err := nextModSeq(ctx, tx, a.user)
		if err != nil {
			return err
		}
		row, err := insertAppended(ctx, tx, a.user, folder.id, folder.uidnext, mid, ms, na)
		if err != nil {
			return err
		}
		if err := mx.syncNew(ctx, folder.id, []srcRow{row}, ms); err != nil {
			return err
		}
		if err := mx.flush(ctx); err != nil {
			return err
		}
		if err := checkQuota(ctx, tx, a.user); err != nil { // RFC 9208: rolls back
			return err
		}
		res, err = appendResult(ctx, tx, t, folder, mid, ms)
		return err
	})
	if err != nil {
		if errors.Is(err, store.ErrOverQuota) {
			a.s.collect(ctx, []blobstore.Hash{h}) // the body no row took
		}
		return store.AppendResult{}, err
	}
	return res, nil
}

// virtualTarget returns the folder that receives a message appended to t
// (t itself if it is a folder; Archive for a virtual mailbox) and the
// message with t's label added.
func virtualTarget(ctx context.Context, mx *mirrorSync, t mboxInfo, na pendingAppend) (mboxInfo, pendingAppend, error) {
	if err := noSelect(t); err != nil {
		return t, na, err
	}
	if !t.virtual() {
		return t, na, nil
	}
	arch, err := mx.archive(ctx)
	if err != nil {
		return t, na, err
	}
	if t.kind == store.KindLabel && !containsFold(na.kws, t.label()) {
		na.kws = append(slices.Clip(na.kws), t.label())
	}
	return arch, na, nil
}

// appendResult is the AppendResult of the message stored at folder's
// UIDNEXT for an append to t: its UID in t, which is a virtual mailbox
// when folder is not t. If t does not show it, the folder's UID is
// returned.
func appendResult(ctx context.Context, tx *Tx, t, folder mboxInfo, mid int64, ms uint64) (store.AppendResult, error) {
	res := store.AppendResult{UIDValidity: folder.uidvalidity, UID: folder.uidnext, MessageID: store.MessageID(mid), ModSeq: ms}
	if t.id == folder.id {
		return res, nil
	}
	uid, err := mirrorUID(ctx, tx, folder.id, folder.uidnext, t.id)
	if err != nil || uid == 0 {
		return res, err
	}
	res.UIDValidity, res.UID = t.uidvalidity, uid
	return res, nil
}

// pendingAppend is a message of APPEND or REPLACE whose body is already
// durable, with what its entry needs.
type pendingAppend struct {
	msg   newMessage
	bits  int
	kws   []string
	idate time.Time
	tz    int
}

// prepareAppend reads the body, makes it durable and precomputes the
// message's metadata, all before the write transaction (Append, Replace).
func (a *Account) prepareAppend(ctx context.Context, req store.AppendRequest) (pendingAppend, error) {
	raw, err := readBody(req.Body, req.Size, a.s.maxSize)
	if err != nil {
		return pendingAppend{}, err
	}
	if err := ctx.Err(); err != nil {
		return pendingAppend{}, err
	}
	h := blobstore.Sum(raw)
	if err := a.s.blobs.Put(h, raw); err != nil {
		return pendingAppend{}, err
	}
	p := parse(raw)
	pj := encodeParsed(p)
	var date any
	if !p.Date.IsZero() {
		date = p.Date.Unix()
	}
	bits, kws := parseFlags(req.Flags)
	idate := req.InternalDate
	if idate.IsZero() {
		idate = time.Now()
	}
	_, tz := idate.Zone()
	header := raw[:p.Root.BodyStart]
	if header == nil {
		header = []byte{} // NOT NULL: an empty message has an empty header
	}
	return pendingAppend{
		msg:  newMessage{hash: h, raw: raw, header: header, parsed: pj, date: date},
		bits: bits, kws: kws, idate: idate, tz: tz,
	}, nil
}

// appendTarget returns the user's mailbox id, which is to receive one
// message at its UIDNEXT.
func appendTarget(ctx context.Context, tx *Tx, user store.UserID, id store.MailboxID) (mboxInfo, error) {
	m, err := loadMbox(ctx, tx, user, id)
	if err != nil {
		return m, err
	}
	if m.uidnext == 1<<32-1 {
		return m, fmt.Errorf("sqlite: mailbox %d: UID space exhausted", id)
	}
	return m, nil
}

// insertAppended adds the entry of message row mid to folder id at UID
// uidnext and modseq ms, and updates the mailbox's counters. It returns the
// entry, for the caller to sync its mirrors.
func insertAppended(ctx context.Context, tx *Tx, user store.UserID, id store.MailboxID, uidnext uint32, mid int64, ms uint64, na pendingAppend) (srcRow, error) {
	kt := newKeywordTable(id)
	ck, err := kt.canon(ctx, tx, na.kws, true)
	if err != nil {
		return srcRow{}, err
	}
	row := srcRow{uid: uidnext, mid: mid, bits: na.bits, kws: ck, size: int64(len(na.msg.raw)),
		idate: na.idate.Unix(), tz: na.tz, sdate: time.Now().Unix()}
	if _, err := tx.ExecContext(ctx, insertEntry,
		id, uidnext, mid, na.bits, joinKeywords(ck), ms, row.size, row.idate, row.tz, row.sdate); err != nil {
		return srcRow{}, err
	}
	if err := indexKeywords(ctx, tx, id, uidnext, ck, true); err != nil {
		return srcRow{}, err
	}
	if _, err = tx.ExecContext(ctx, `UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, messages = messages + 1, recent = recent + 1,
			unseen = unseen + ?, deleted = deleted + ?, size = size + ? WHERE id = ?`,
		uidnext+1, ms, b2i(na.bits&bitSeen == 0), b2i(na.bits&bitDeleted != 0), row.size, id); err != nil {
		return srcRow{}, err
	}
	tx.publish(store.Change{User: user, Kind: store.ChangeMessages, Mailbox: id, ModSeq: ms})
	return row, nil
}

// newMessage is a body being appended, with its precomputed metadata.
type newMessage struct {
	hash   blobstore.Hash
	raw    []byte
	header []byte
	parsed []byte
	date   any
}

// messageRow returns the user's message row for the body, creating it if
// needed (per-user dedupe). Under the write lock it makes sure the body
// file exists: a concurrent collection may have removed it between our
// Put and this transaction, since no row referenced it yet.
func (s *Store) messageRow(ctx context.Context, tx *Tx, user store.UserID, m newMessage) (int64, error) {
	ok, err := s.blobs.Has(m.hash)
	if err != nil {
		return 0, err
	}
	if !ok {
		if err := s.blobs.Put(m.hash, m.raw); err != nil {
			return 0, err
		}
	}
	var mid int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE blob = ? AND user_id = ?`, m.hash[:], user).Scan(&mid)
	if err == nil {
		return mid, nil
	}
	if err != sql.ErrNoRows {
		return 0, err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO messages (user_id, blob, size, header, parsed, date) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		user, m.hash[:], len(m.raw), m.header, m.parsed, m.date).Scan(&mid)
	return mid, err
}
