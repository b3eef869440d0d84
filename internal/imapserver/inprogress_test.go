package imapserver

import (
	"strconv"
	"testing"
	"time"
)

// setProgress makes progress reports frequent for one test (not
// parallel: the knobs are package variables).
func setProgress(t *testing.T, every int, interval time.Duration) {
	oldEvery, oldInterval := progressEvery, progressInterval
	progressEvery, progressInterval = every, interval
	t.Cleanup(func() { progressEvery, progressInterval = oldEvery, oldInterval })
}

// TestInProgress: a long search sends "* OK [INPROGRESS ("tag" done
// goal)]" as it goes (RFC 9585 2), on both search paths (entries only and
// records) and across mailboxes.
func TestInProgress(t *testing.T) {
	setProgress(t, 2, 0)
	ts := newTestServer(t)
	for i := 1; i <= 5; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	ts.deliver(t, "alice", "Sent", harnessMessage(6))
	c := ts.rawLogin(t, "alice")
	c.cmd("s SELECT INBOX")
	c.expectCmd("a UID SEARCH RETURN (COUNT) ALL", `* OK [INPROGRESS ("a" 2 5)] Searching`, `* OK [INPROGRESS ("a" 4 5)] Searching`,
		`* ESEARCH (TAG "a") UID COUNT 5`, "a OK UID SEARCH completed")
	c.expectCmd(`b SEARCH RETURN (MAX) SUBJECT test`, `* OK [INPROGRESS ("b" 2 5)] Searching`, `* OK [INPROGRESS ("b" 4 5)] Searching`,
		`* ESEARCH (TAG "b") MAX 5`, "b OK SEARCH completed")
	// Only the candidates of UID and sequence-set keys are examined.
	c.expectCmd(`c SEARCH 4:5 SUBJECT test`, `* OK [INPROGRESS ("c" 2 5)] Searching`, `* SEARCH 4 5`, "c OK SEARCH completed")
	c.expectCmd(`d ESEARCH IN (mailboxes (INBOX Sent)) SUBJECT test`, `* OK [INPROGRESS ("d" 2 6)] Searching`, `* OK [INPROGRESS ("d" 4 6)] Searching`,
		`* ESEARCH (TAG "d" MAILBOX INBOX UIDVALIDITY `+itoa32(ts.mailbox(t, "alice", "INBOX").UIDValidity)+`) UID ALL 1:5`,
		`* OK [INPROGRESS ("d" 6 6)] Searching`,
		`* ESEARCH (TAG "d" MAILBOX "Sent" UIDVALIDITY `+itoa32(ts.mailbox(t, "alice", "Sent").UIDValidity)+`) UID ALL 1`,
		"d OK ESEARCH completed")

	// With the default interval a quick search reports nothing.
	progressInterval = time.Hour
	c.expectCmd("e UID SEARCH RETURN (COUNT) ALL", `* ESEARCH (TAG "e") UID COUNT 5`, "e OK UID SEARCH completed")
}

func itoa32(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
