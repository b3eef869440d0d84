package sqlite

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"

	"modernc.org/sqlite"
)

// Threads (RFC 8474 THREADID). A message's thread is computed once, when
// its messages row is inserted, from the Message-ID, In-Reply-To and
// References fields of its header: if any of those ids is already known
// for the user, the message joins the oldest such thread, otherwise it
// starts its own, named after its own row id. Every id it carries is then
// recorded for that thread (first writer wins), so a later reply, or the
// parent of an earlier reply, finds it. A thread id never changes once
// given (RFC 8474 5.2: THREADID is immutable), so two threads later linked
// by a message referencing both are not merged.
//
// The work is done by triggers on the messages table, so every way a
// message is stored (Append, AppendBatch, Copy of a new body) gets a
// thread in the same transaction without the insert paths knowing. The
// triggers call two Go functions registered with the SQLite driver:
//   - casier_thread_keys(header): the message ids of a raw header, as a
//     JSON array (own id first, then In-Reply-To, then References newest
//     first), at most maxThreadKeys of them;
//   - casier_parsed_thread(parsed, id): the encoded model with ThreadID
//     set, so the thread reaches FETCH and SEARCH through Record.Parsed
//     like the rest of the precomputed model, with no extra read.
//
// thread_keys maps (user, message id) to a thread. When the last message
// of a thread is deleted, its keys go too, so the table stays
// proportional to the mail kept.
//
// Messages stored before this migration each get a thread of their own
// (their keys are recorded in id order, so replies that arrive later join
// the oldest of them).

// maxThreadKeys bounds the ids taken from one header: a References field
// can list hundreds, and the newest ones (plus the root) suffice to link a
// reply into its thread.
const maxThreadKeys = 32

const threadsMigration = `
ALTER TABLE messages ADD COLUMN thread_id INTEGER;
CREATE INDEX messages_thread ON messages(user_id, thread_id);

CREATE TABLE thread_keys (
	user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	msgid     TEXT    NOT NULL,
	thread_id INTEGER NOT NULL,
	PRIMARY KEY (user_id, msgid)
) WITHOUT ROWID;
CREATE INDEX thread_keys_thread ON thread_keys(user_id, thread_id);

UPDATE messages SET thread_id = id;
INSERT OR IGNORE INTO thread_keys (user_id, msgid, thread_id)
	SELECT m.user_id, j.value, m.id FROM messages m, json_each(casier_thread_keys(m.header)) j ORDER BY m.id;
UPDATE messages SET parsed = casier_parsed_thread(parsed, 'T' || thread_id);

CREATE TRIGGER messages_thread AFTER INSERT ON messages BEGIN
	UPDATE messages SET thread_id = coalesce(
		(SELECT min(k.thread_id) FROM json_each(casier_thread_keys(NEW.header)) j
			JOIN thread_keys k ON k.user_id = NEW.user_id AND k.msgid = j.value),
		NEW.id) WHERE id = NEW.id;
	INSERT OR IGNORE INTO thread_keys (user_id, msgid, thread_id)
		SELECT NEW.user_id, j.value, m.thread_id FROM json_each(casier_thread_keys(NEW.header)) j, messages m
		WHERE m.id = NEW.id;
	UPDATE messages SET parsed = casier_parsed_thread(parsed, 'T' || thread_id) WHERE id = NEW.id;
END;

CREATE TRIGGER messages_thread_gone AFTER DELETE ON messages
	WHEN OLD.thread_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM messages WHERE user_id = OLD.user_id AND thread_id = OLD.thread_id)
BEGIN
	DELETE FROM thread_keys WHERE user_id = OLD.user_id AND thread_id = OLD.thread_id;
END;
`

// threadsTriggerMigration (schema version 6) rewrites the insert trigger
// of threadsMigration. Its first form joined json_each(...) to thread_keys,
// and SQLite chose to walk every thread_keys row of the user, calling
// casier_thread_keys once per row: each delivery cost time in proportion
// to the user's mail (10,000 messages took minutes to import). The IN
// subquery below is evaluated once and looks each key up by primary key
// (TestQueryPlans checks the plan).
const threadsTriggerMigration = `
DROP TRIGGER messages_thread;
CREATE TRIGGER messages_thread AFTER INSERT ON messages BEGIN
	UPDATE messages SET thread_id = coalesce(
		(SELECT min(k.thread_id) FROM thread_keys k
			WHERE k.user_id = NEW.user_id
			AND k.msgid IN (SELECT value FROM json_each(casier_thread_keys(NEW.header)))),
		NEW.id) WHERE id = NEW.id;
	INSERT OR IGNORE INTO thread_keys (user_id, msgid, thread_id)
		SELECT NEW.user_id, j.value, m.thread_id FROM json_each(casier_thread_keys(NEW.header)) j, messages m
		WHERE m.id = NEW.id;
	UPDATE messages SET parsed = casier_parsed_thread(parsed, 'T' || thread_id) WHERE id = NEW.id;
END;
`

func init() {
	sqlite.MustRegisterDeterministicScalarFunction("casier_thread_keys", 1, sqlThreadKeys)
	sqlite.MustRegisterDeterministicScalarFunction("casier_parsed_thread", 2, sqlParsedThread)
}

// sqlThreadKeys implements casier_thread_keys(header).
func sqlThreadKeys(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	var h []byte
	switch v := args[0].(type) {
	case []byte:
		h = v
	case string:
		h = []byte(v)
	}
	keys := threadKeys(h)
	if keys == nil {
		keys = []string{}
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// sqlParsedThread implements casier_parsed_thread(parsed, threadID).
func sqlParsedThread(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	b, ok := args[0].([]byte)
	if !ok {
		if s, isStr := args[0].(string); isStr {
			b = []byte(s)
		} else {
			return nil, fmt.Errorf("sqlite: casier_parsed_thread: parsed is %T", args[0])
		}
	}
	id, _ := args[1].(string)
	p, err := decodeParsed(b)
	if err != nil {
		// A model we cannot read is left as it is: the message simply
		// has no thread, which FETCH shows as NIL.
		return append([]byte(nil), b...), nil
	}
	p.ThreadID = id
	return encodeParsed(p), nil
}

// threadKeys returns the message ids a raw header names: its own
// Message-ID, then In-Reply-To, then References from the newest, with the
// root of References kept even when the list is cut; each id once, with
// its angle brackets, at most maxThreadKeys.
func threadKeys(header []byte) []string {
	var own, irt, refs []string
	forEachField(header, func(name, value []byte) {
		switch {
		case bytes.EqualFold(name, []byte("Message-ID")):
			if own == nil {
				own = msgIDs(value)
			}
		case bytes.EqualFold(name, []byte("In-Reply-To")):
			if irt == nil {
				irt = msgIDs(value)
			}
		case bytes.EqualFold(name, []byte("References")):
			if refs == nil {
				refs = msgIDs(value)
			}
		}
	})
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if len(out) < maxThreadKeys && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(own) > 0 {
		add(own[0])
	}
	for _, id := range irt {
		add(id)
	}
	if len(refs) > 0 {
		add(refs[0]) // the thread's root (RFC 5322 3.6.4)
	}
	for i := len(refs) - 1; i > 0; i-- {
		add(refs[i])
	}
	return out
}

// forEachField calls fn with the name and unfolded value of every field of
// a raw header section; it stops at the blank line ending the header.
func forEachField(h []byte, fn func(name, value []byte)) {
	var name, value []byte
	flush := func() {
		if name != nil {
			fn(name, value)
		}
		name, value = nil, nil
	}
	for len(h) > 0 {
		line := h
		if i := bytes.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if name != nil {
				value = append(value, line...)
			}
			continue
		}
		flush()
		if c := bytes.IndexByte(line, ':'); c > 0 {
			name = bytes.TrimSpace(line[:c])
			value = append([]byte(nil), line[c+1:]...)
		}
	}
	flush()
}

// msgIDs extracts the "<...>" tokens of a msg-id list (RFC 5322 3.6.4),
// skipping comments' contents only as far as they are not bracketed:
// what matters is that the same id yields the same key everywhere.
func msgIDs(v []byte) []string {
	var out []string
	for {
		i := bytes.IndexByte(v, '<')
		if i < 0 {
			return out
		}
		v = v[i+1:]
		j := bytes.IndexAny(v, "<>")
		if j < 0 {
			return out
		}
		if v[j] == '<' {
			continue // an unclosed bracket: restart at the next one
		}
		id := bytes.TrimSpace(v[:j])
		v = v[j+1:]
		if len(id) > 0 && len(id) <= 998 && bytes.IndexAny(id, " \t") < 0 {
			out = append(out, "<"+string(id)+">")
		}
	}
}
