#!/usr/bin/env python3
"""Drives a running Casier server with Python's standard imaplib, the way a
script or a simple mail client would, and checks every answer exactly.

Usage: imaplib_client.py HOST IMAP_PORT IMAPS_PORT CERT_FILE USER PASSWORD

The account must be fresh (only the default folders). Prints "PASS <n>
checks" and exits 0 on success; prints the first mismatch and exits 1
otherwise. Run by internal/interop/imaplib_test.go.
"""

import imaplib
import re
import socket
import ssl
import sys

HOST, PORT, SPORT, CERT, USER, PASSWORD = sys.argv[1:7]
PORT, SPORT = int(PORT), int(SPORT)
TIMEOUT = 10

checks = 0


def eq(got, want, what):
    global checks
    checks += 1
    if got != want:
        print("FAIL %s:\n  got  %r\n  want %r" % (what, got, want))
        sys.exit(1)


def ok(res, what):
    """Asserts an imaplib (typ, data) result is OK and returns data."""
    typ, data = res
    eq(typ, "OK", what + " status (data %r)" % (data,))
    return data


def no(res, code, what):
    """Asserts an imaplib result is NO with the response code given."""
    typ, data = res
    eq(typ, "NO", what + " status (data %r)" % (data,))
    eq(data[0].startswith(b"[" + code.encode() + b"]"), True,
       "%s: response code %s in %r" % (what, code, data))


def drain(c):
    """Forgets the untagged responses imaplib collected so far."""
    c.untagged_responses.clear()


# Messages. Sizes and line counts below are those of these exact bytes.
M1 = (b"From: Bob Example <bob@example.org>\r\n"
      b"To: Alice <alice@example.org>\r\n"
      b"Subject: Quarterly report\r\n"
      b"Date: Mon, 02 Nov 2026 10:00:00 +0100\r\n"
      b"Message-ID: <m1@example.org>\r\n"
      b"MIME-Version: 1.0\r\n"
      b"Content-Type: text/plain; charset=us-ascii\r\n"
      b"\r\n"
      b"The numbers are in.\r\n")
M2 = ("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\r\n"
      "To: alice@example.org\r\n"
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_Z=C3=BCrich?=\r\n"
      "Date: Tue, 03 Nov 2026 11:30:00 +0100\r\n"
      "Message-ID: <m2@example.de>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n"
      "\r\n"
      "Liebe Alice,\r\nherzliche Grüße aus Zürich!\r\n").encode()
M3 = (b"From: carol@example.net\r\n"
      b"To: alice@example.org, Bob <bob@example.org>\r\n"
      b"Cc: dave@example.net\r\n"
      b"Subject: Photos\r\n"
      b"Date: Wed, 04 Nov 2026 12:00:00 +0000\r\n"
      b"Message-ID: <m3@example.net>\r\n"
      b"In-Reply-To: <m1@example.org>\r\n"
      b"MIME-Version: 1.0\r\n"
      b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
      b"\r\n"
      b"--b1\r\n"
      b"Content-Type: text/plain; charset=us-ascii\r\n"
      b"\r\n"
      b"See attached.\r\nBye.\r\n"
      b"\r\n--b1\r\n"
      b"Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
      b"Content-Disposition: attachment; filename=\"a.bin\"\r\n"
      b"Content-Transfer-Encoding: base64\r\n"
      b"\r\n"
      b"AAECAwQFBgc=\r\n"
      b"\r\n--b1--\r\n")
M4 = (b"From: dave@example.net\r\n"
      b"To: alice@example.org\r\n"
      b"Subject: pushed while idling\r\n"
      b"Message-ID: <m4@example.net>\r\n"
      b"\r\n"
      b"ping\r\n")


def tls_context():
    # The server's self-signed certificate names 127.0.0.1 and localhost:
    # trusting that one file is enough for full verification.
    ctx = ssl.create_default_context(cafile=CERT)
    ctx.check_hostname = True
    return ctx


def connect_plain():
    c = imaplib.IMAP4(HOST, PORT, timeout=TIMEOUT)
    ok(c.login(USER, PASSWORD), "LOGIN (plain, loopback)")
    return c


def connect_tls():
    c = imaplib.IMAP4_SSL(HOST, SPORT, ssl_context=tls_context(), timeout=TIMEOUT)
    ok(c.login(USER, PASSWORD), "LOGIN (IMAPS)")
    return c


def appenduid(data):
    m = re.match(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
    eq(m is not None, True, "APPENDUID in %r" % data)
    return int(m.group(1)), int(m.group(2))


def fetch_map(data):
    """Turns FETCH data into {msn: bytes}; literals are inlined as
    {n}<bytes> so a whole response can be compared at once."""
    out = {}
    cur = None
    for item in data:
        if isinstance(item, tuple):
            head, lit = item
            m = re.match(rb"(\d+) \(", head)
            if m and cur is None:
                cur = int(m.group(1))
                out[cur] = head[m.end():] + lit
            else:
                out[cur] += head + lit
        else:
            if cur is None:
                m = re.match(rb"(\d+) \((.*)\)$", item)
                eq(m is not None, True, "FETCH line %r" % item)
                out[int(m.group(1))] = m.group(2)
            else:
                eq(item.endswith(b")"), True, "FETCH tail %r" % item)
                out[cur] += item[:-1]
                cur = None
    return out


def test_greeting_and_tls():
    c = imaplib.IMAP4(HOST, PORT, timeout=TIMEOUT)
    caps = c.capabilities
    for want in ("IMAP4REV1", "IMAP4REV2", "STARTTLS", "AUTH=PLAIN", "IDLE", "LITERAL+"):
        eq(want in caps, True, "pre-login capability %s in %r" % (want, caps))
    ok(c.starttls(ssl_context=tls_context()), "STARTTLS")
    eq("STARTTLS" in c.capabilities, False, "STARTTLS gone after TLS")
    try:
        c.login(USER, "wrong password")
        eq("login succeeded", "login refused", "LOGIN with a bad password")
    except imaplib.IMAP4.error as e:
        eq("[AUTHENTICATIONFAILED]" in str(e), True, "bad password answer %s" % e)
    ok(c.login(USER, PASSWORD), "LOGIN after STARTTLS")
    caps = ok(c.capability(), "CAPABILITY")[0].split()
    for want in (b"MOVE", b"UIDPLUS", b"NAMESPACE", b"UNSELECT", b"SPECIAL-USE", b"ENABLE"):
        eq(want in caps, True, "capability %r" % want)
    eq(ok(c.namespace(), "NAMESPACE"), [b'(("" "/")) NIL NIL'], "NAMESPACE")
    eq(c.logout()[0], "BYE", "LOGOUT")

    s = connect_tls()
    ok(s.noop(), "NOOP over IMAPS")
    s.logout()


def test_folders(c):
    # All Mail (RFC 6154 \All) and the \Noselect parent of the label
    # folders come with every account (docs/labels.md).
    eq(ok(c.list(), "LIST"), [
        b'(\\HasNoChildren) "/" INBOX',
        b'(\\HasNoChildren \\All) "/" "All Mail"',
        b'(\\HasNoChildren \\Archive) "/" "Archive"',
        b'(\\HasNoChildren \\Drafts) "/" "Drafts"',
        b'(\\HasNoChildren \\Junk) "/" "Junk"',
        b'(\\Noselect \\HasNoChildren) "/" "Labels"',
        b'(\\HasNoChildren \\Sent) "/" "Sent"',
        b'(\\HasNoChildren \\Trash) "/" "Trash"',
    ], "initial LIST")
    # RFC 9051 6.3.4: creating a/b/c creates the superiors too.
    ok(c.create("Projects/2026/Q1"), "CREATE nested")
    ok(c.create("Projects/2026/Q2"), "CREATE sibling")
    # "Entwürfe" in modified UTF-7 (RFC 3501 5.1.3).
    ok(c.create('"Entw&APw-rfe"'), "CREATE non-ASCII (mUTF-7)")
    no(c.create("Projects/2026"), "ALREADYEXISTS", "CREATE of an existing mailbox")
    eq(ok(c.list('""', "Projects/*"), "LIST Projects/*"), [
        b'(\\HasChildren) "/" "Projects/2026"',
        b'(\\HasNoChildren) "/" "Projects/2026/Q1"',
        b'(\\HasNoChildren) "/" "Projects/2026/Q2"',
    ], "LIST Projects/*")
    eq(ok(c.list('""', "%"), "LIST %"), [
        b'(\\HasNoChildren) "/" INBOX',
        b'(\\HasNoChildren \\All) "/" "All Mail"',
        b'(\\HasNoChildren \\Archive) "/" "Archive"',
        b'(\\HasNoChildren \\Drafts) "/" "Drafts"',
        b'(\\HasNoChildren) "/" "Entw&APw-rfe"',
        b'(\\HasNoChildren \\Junk) "/" "Junk"',
        b'(\\Noselect \\HasNoChildren) "/" "Labels"',
        b'(\\HasChildren) "/" "Projects"',
        b'(\\HasNoChildren \\Sent) "/" "Sent"',
        b'(\\HasNoChildren \\Trash) "/" "Trash"',
    ], "LIST %")
    ok(c.subscribe("Projects/2026/Q1"), "SUBSCRIBE")
    eq(ok(c.lsub('""', "Projects/*"), "LSUB"),
       [b'(\\HasNoChildren) "/" "Projects/2026/Q1"'], "LSUB")


def test_append(c):
    global UIDVALIDITY
    v1, u1 = appenduid(ok(c.append("Projects/2026", r"(\Seen $Label1)",
                                   '"02-Nov-2026 10:00:00 +0100"', M1), "APPEND M1"))
    v2, u2 = appenduid(ok(c.append("Projects/2026", r"(\Flagged)",
                                   '"03-Nov-2026 11:30:00 +0100"', M2), "APPEND M2"))
    v3, u3 = appenduid(ok(c.append("Projects/2026", None,
                                   '"04-Nov-2026 12:00:00 +0000"', M3), "APPEND M3"))
    eq((u1, u2, u3), (1, 2, 3), "APPENDUID uids")
    eq(v1 == v2 == v3, True, "one UIDVALIDITY")
    UIDVALIDITY = v1
    no(c.append("Nowhere", None, None, M1), "TRYCREATE", "APPEND to a missing mailbox")
    eq(ok(c.status("Projects/2026", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"), "STATUS"),
       [b'"Projects/2026" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY %d UNSEEN 2)' % UIDVALIDITY],
       "STATUS after APPEND")


def test_select_search(c):
    drain(c)
    eq(ok(c.select("Projects/2026"), "SELECT"), [b"3"], "SELECT count")
    eq(c.untagged_responses.get("FLAGS"),
       [b"(\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)"], "FLAGS")
    eq(c.untagged_responses.get("UIDVALIDITY"), [b"%d" % UIDVALIDITY], "UIDVALIDITY")
    eq(c.untagged_responses.get("UIDNEXT"), [b"4"], "UIDNEXT")
    eq("READ-WRITE" in c.untagged_responses, True, "READ-WRITE")
    searches = [
        ("ALL", b"1 2 3"),
        ("SEEN", b"1"),
        ("UNSEEN", b"2 3"),
        ("FLAGGED", b"2"),
        ("KEYWORD $Label1", b"1"),
        ("UNKEYWORD $Label1", b"2 3"),
        ("FROM bob", b"1"),
        ('OR FROM bob FROM "carol@example.net"', b"1 3"),
        ("NOT FROM bob", b"2 3"),
        ("TO bob", b"3"),
        ("CC dave", b"3"),
        ('SUBJECT "quarterly REPORT"', b"1"),
        ('HEADER Message-ID "<m3@example.net>"', b"3"),
        ("HEADER In-Reply-To m1", b"3"),
        ("BODY attached", b"3"),
        ("TEXT numbers", b"1"),
        ("SINCE 3-Nov-2026", b"2 3"),
        ("BEFORE 3-Nov-2026", b"1"),
        ("ON 4-Nov-2026", b"3"),
        ("SENTSINCE 4-Nov-2026", b"3"),
        ("SENTBEFORE 3-Nov-2026", b"1"),
        ("LARGER 300", b"2 3"),
        ("SMALLER 300", b"1"),
        ("2:3 UNFLAGGED", b"3"),
        ("UID 2:*", b"2 3"),
        ("NEW", b"2 3"),
        ("SUBJECT nothing-matches", b""),
    ]
    for crit, want in searches:
        eq(ok(c.search(None, crit), "SEARCH " + crit), [want], "SEARCH " + crit)
    eq(ok(c.uid("SEARCH", "FLAGGED"), "UID SEARCH"), [b"2"], "UID SEARCH FLAGGED")
    # Non-ASCII keys as literals with CHARSET UTF-8 (RFC 9051 6.4.4):
    # matched against decoded headers (RFC 2047) and the decoded body.
    for key, text, want in [("BODY", "Zürich", b"2"), ("SUBJECT", "grüße", b"2"),
                            ("FROM", "Müller", b"2"), ("TEXT", "Grüße aus", b"2"),
                            ("BODY", "Zürichsee", b"")]:
        c.literal = text.encode("utf-8")
        eq(ok(c.search("UTF-8", key), "SEARCH CHARSET UTF-8 " + key),
           [want], "SEARCH CHARSET UTF-8 %s {%s}" % (key, text))
    typ, data = c.search("X-NO-SUCH-CHARSET", "TEXT", "a")
    eq(typ, "NO", "unknown charset status")
    eq(data[0].startswith(b"[BADCHARSET"), True, "BADCHARSET code in %r" % data)


ENV1 = (b'ENVELOPE ("Mon, 02 Nov 2026 10:00:00 +0100" "Quarterly report" '
        b'(("Bob Example" NIL "bob" "example.org")) (("Bob Example" NIL "bob" "example.org")) '
        b'(("Bob Example" NIL "bob" "example.org")) (("Alice" NIL "alice" "example.org")) '
        b'NIL NIL NIL "<m1@example.org>")')
ENV3 = (b'ENVELOPE ("Wed, 04 Nov 2026 12:00:00 +0000" "Photos" '
        b'((NIL NIL "carol" "example.net")) ((NIL NIL "carol" "example.net")) '
        b'((NIL NIL "carol" "example.net")) '
        b'((NIL NIL "alice" "example.org")("Bob" NIL "bob" "example.org")) '
        b'((NIL NIL "dave" "example.net")) NIL "<m1@example.org>" "<m3@example.net>")')
BS1 = b'BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 21 1 NIL NIL NIL NIL)'
BS2 = b'BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "8BIT" 46 2 NIL NIL NIL NIL)'
BS3 = (b'BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 21 2 NIL NIL NIL NIL)'
       b'("application" "octet-stream" ("name" "a.bin") NIL NIL "BASE64" 14 NIL '
       b'("attachment" ("filename" "a.bin")) NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL)')


def test_fetch(c):
    drain(c)
    got = fetch_map(ok(c.fetch("1:3", "(UID FLAGS INTERNALDATE RFC822.SIZE)"), "FETCH attrs"))
    eq(got, {
        1: b'UID 1 FLAGS ($Label1 \\Seen \\Recent) INTERNALDATE " 2-Nov-2026 10:00:00 +0100" RFC822.SIZE %d' % len(M1),
        2: b'UID 2 FLAGS (\\Flagged \\Recent) INTERNALDATE " 3-Nov-2026 11:30:00 +0100" RFC822.SIZE %d' % len(M2),
        3: b'UID 3 FLAGS (\\Recent) INTERNALDATE " 4-Nov-2026 12:00:00 +0000" RFC822.SIZE %d' % len(M3),
    }, "FETCH UID FLAGS INTERNALDATE RFC822.SIZE")
    got = fetch_map(ok(c.fetch("1,3", "(ENVELOPE)"), "FETCH ENVELOPE"))
    eq(got, {1: ENV1, 3: ENV3}, "FETCH ENVELOPE")
    got = fetch_map(ok(c.fetch("1:3", "(BODYSTRUCTURE)"), "FETCH BODYSTRUCTURE"))
    eq(got, {1: BS1, 2: BS2, 3: BS3}, "FETCH BODYSTRUCTURE")
    data = ok(c.fetch("1:2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])"), "FETCH HEADER.FIELDS")
    eq(fetch_map(data), {
        1: b"BODY[HEADER.FIELDS (SUBJECT FROM)] {66}"
           b"From: Bob Example <bob@example.org>\r\nSubject: Quarterly report\r\n\r\n",
        2: b"BODY[HEADER.FIELDS (SUBJECT FROM)] {120}"
           b"From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\r\n"
           b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_Z=C3=BCrich?=\r\n\r\n",
    }, "FETCH BODY.PEEK[HEADER.FIELDS]")
    got = fetch_map(ok(c.fetch("3", "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[]<0.10>)"), "FETCH parts"))
    eq(got, {3: b"BODY[1] {21}See attached.\r\nBye.\r\n"
                b" BODY[2.MIME] {142}Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
                b"Content-Disposition: attachment; filename=\"a.bin\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n"
                b" BODY[]<0> {10}From: caro"}, "FETCH sections and partial")
    # PEEK leaves \Seen alone; RFC822 sets it and reports the new flags
    # (RFC 9051 6.4.5).
    eq(ok(c.search(None, "UNSEEN"), "SEARCH UNSEEN"), [b"2 3"], "UNSEEN after PEEKs")
    data = ok(c.fetch("2", "(RFC822)"), "FETCH RFC822")
    eq(data[0][1], M2, "RFC822 bytes of M2")
    eq(b"FLAGS (\\Flagged \\Seen \\Recent)" in data[0][0] + data[1], True,
       "implicit \\Seen reported in %r" % data)
    eq(ok(c.uid("FETCH", "3", "(BODY.PEEK[])"), "UID FETCH BODY.PEEK[]")[0][1], M3,
       "BODY.PEEK[] bytes of M3")
    eq(ok(c.search(None, "UNSEEN"), "SEARCH UNSEEN"), [b"3"], "UNSEEN after RFC822")


def test_store_copy_move_expunge(c):
    drain(c)
    eq(ok(c.store("3", "+FLAGS", r"(\Answered $Work)"), "STORE +FLAGS"),
       [b"3 (FLAGS ($Work \\Answered \\Recent))"], "STORE +FLAGS answer")
    eq(ok(c.store("3", "-FLAGS", r"(\Answered)"), "STORE -FLAGS"),
       [b"3 (FLAGS ($Work \\Recent))"], "STORE -FLAGS answer")
    eq(ok(c.uid("STORE", "1", "FLAGS.SILENT", r"(\Seen \Draft)"), "UID STORE FLAGS.SILENT"),
       [None], "FLAGS.SILENT is silent")
    eq(fetch_map(ok(c.fetch("1", "(FLAGS)"), "FETCH FLAGS")),
       {1: b"FLAGS (\\Draft \\Seen \\Recent)"}, "flags after FLAGS.SILENT")
    eq(c.untagged_responses.get("FLAGS"), [b"(\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 $Work)"],
       "new keyword announced in FLAGS")

    drain(c)
    data = ok(c.copy("1:2", "Archive"), "COPY")
    arch = ok(c.status("Archive", "(UIDVALIDITY)"), "STATUS Archive")[0]
    av = int(re.search(rb"UIDVALIDITY (\d+)", arch).group(1))
    eq(data[0].startswith(b"[COPYUID %d 1:2 1:2] " % av), True, "COPYUID in %r" % data)
    no(c.copy("1", "Nowhere"), "TRYCREATE", "COPY to a missing mailbox")

    # UID MOVE (RFC 6851): COPYUID comes in an untagged OK before the
    # EXPUNGE of the moved message.
    drain(c)
    ok(c.uid("MOVE", "2", "Archive"), "UID MOVE")
    eq(c.untagged_responses.get("COPYUID"), [b"%d 2 3" % av], "MOVE COPYUID")
    eq(c.untagged_responses.get("EXPUNGE"), [b"2"], "MOVE EXPUNGE")
    drain(c)
    ok(c._simple_command("MOVE", "2", "Trash"), "MOVE by sequence number")
    eq(c.untagged_responses.get("EXPUNGE"), [b"2"], "MOVE (msn) EXPUNGE")
    eq(ok(c.status("Archive", "(MESSAGES)"), "STATUS"), [b'"Archive" (MESSAGES 3)'], "Archive count")
    eq(ok(c.status("Trash", "(MESSAGES)"), "STATUS"), [b'"Trash" (MESSAGES 1)'], "Trash count")

    drain(c)
    ok(c.select("Archive"), "SELECT Archive")
    got = fetch_map(ok(c.fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"), "FETCH Archive"))
    eq(got, {
        1: b"UID 1 FLAGS (\\Draft \\Seen \\Recent) BODY[HEADER.FIELDS (MESSAGE-ID)] {32}Message-ID: <m1@example.org>\r\n\r\n",
        2: b"UID 2 FLAGS (\\Flagged \\Seen \\Recent) BODY[HEADER.FIELDS (MESSAGE-ID)] {31}Message-ID: <m2@example.de>\r\n\r\n",
        3: b"UID 3 FLAGS (\\Flagged \\Seen \\Recent) BODY[HEADER.FIELDS (MESSAGE-ID)] {31}Message-ID: <m2@example.de>\r\n\r\n",
    }, "copied and moved messages keep flags")
    drain(c)
    ok(c.store("1:2", "+FLAGS.SILENT", r"(\Deleted)"), "STORE \\Deleted")
    eq(ok(c.expunge(), "EXPUNGE"), [b"1", b"1"], "EXPUNGE responses")
    eq(ok(c.search(None, "ALL"), "SEARCH ALL"), [b"1"], "one left")
    eq(ok(c.uid("SEARCH", "ALL"), "UID SEARCH ALL"), [b"3"], "UID of the one left")
    ok(c.unselect(), "UNSELECT")


def test_rename_delete(c):
    ok(c.rename("Projects", '"Old Projects"'), "RENAME with children")
    eq(ok(c.list('""', "*Projects*"), "LIST after RENAME"), [
        b'(\\HasChildren) "/" "Old Projects"',
        b'(\\HasChildren) "/" "Old Projects/2026"',
        b'(\\HasNoChildren) "/" "Old Projects/2026/Q1"',
        b'(\\HasNoChildren) "/" "Old Projects/2026/Q2"',
    ], "LIST after RENAME")
    eq(ok(c.status('"Old Projects/2026"', "(MESSAGES UIDVALIDITY)"), "STATUS renamed"),
       [b'"Old Projects/2026" (MESSAGES 1 UIDVALIDITY %d)' % UIDVALIDITY],
       "renamed mailbox keeps its messages and UIDVALIDITY")
    no(c.rename("Archive", "Trash"), "ALREADYEXISTS", "RENAME onto an existing mailbox")
    for name in ('"Old Projects/2026/Q1"', '"Old Projects/2026/Q2"',
                 '"Old Projects/2026"', '"Old Projects"', '"Entw&APw-rfe"'):
        ok(c.delete(name), "DELETE " + name)
    no(c.delete("Projects"), "NONEXISTENT", "DELETE of a missing mailbox")
    # The default folders, All Mail, Labels and the label folders the
    # keywords $Label1 and $Work made (a label stays until deleted).
    eq(ok(c.list('""', "Labels/*"), "LIST Labels/*"),
       [b'(\\HasNoChildren) "/" "Labels/$Label1"', b'(\\HasNoChildren) "/" "Labels/$Work"'],
       "label folders of the keywords")
    eq(len(ok(c.list(), "LIST at end")), 10, "back to the default folders")


def read_until(c, tag):
    """Reads raw response lines up to the tagged one; returns all lines."""
    out = []
    while True:
        line = c.readline()
        if not line:
            eq(line, b"a line", "connection closed while waiting for " + tag.decode())
        out.append(line.rstrip(b"\r\n"))
        if line.startswith(tag + b" "):
            c.tagged_commands.pop(tag, None)
            return out


def idle_start(c):
    # imaplib (3.11) has no idle(): RFC 2177 by hand.
    tag = c._new_tag()
    c.send(tag + b" IDLE\r\n")
    eq(c.readline().startswith(b"+ "), True, "IDLE continuation")
    return tag


def idle_done(c, tag):
    c.send(b"DONE\r\n")
    lines = read_until(c, tag)
    eq(lines[-1].startswith(tag + b" OK "), True, "IDLE end %r" % lines[-1])
    return lines[:-1]


def test_idle_two_devices():
    a = connect_plain()
    b = connect_tls()
    ok(a.select("INBOX"), "device A SELECT INBOX")
    ok(b.select("INBOX"), "device B SELECT INBOX")
    tag = idle_start(a)
    # Device B (another connection) delivers mail: A hears of it at once.
    ok(b.append("INBOX", None, None, M4), "device B APPEND")
    eq(a.readline(), b"* 1 EXISTS\r\n", "IDLE sees EXISTS")
    # \Recent goes to whichever session hears of the message first (RFC
    # 3501 2.3.2): A in IDLE or B, whose APPEND reports it too.
    recent = a.readline()
    eq(recent in (b"* 0 RECENT\r\n", b"* 1 RECENT\r\n"), True, "IDLE sees RECENT: %r" % recent)
    rec = b" \\Recent" if recent == b"* 1 RECENT\r\n" else b""
    drain(b)
    ok(b.store("1", "+FLAGS.SILENT", r"(\Flagged)"), "device B flags")
    eq(a.readline(), b"* 1 FETCH (FLAGS (\\Flagged%s))\r\n" % rec, "IDLE sees the flag change")
    eq(idle_done(a, tag), [], "nothing pending at DONE")

    # A sets \Seen; B learns on NOOP.
    drain(b)
    ok(a.store("1", "+FLAGS.SILENT", r"(\Seen)"), "device A \\Seen")
    ok(b.noop(), "device B NOOP")
    brec = b"" if rec else b" \\Recent"
    eq(b.untagged_responses.get("FETCH"), [b"1 (FLAGS (\\Flagged \\Seen%s))" % brec], "B sees A's flags")

    tag = idle_start(a)
    drain(b)
    ok(b.store("1", "+FLAGS.SILENT", r"(\Deleted)"), "device B \\Deleted")
    eq(a.readline(), b"* 1 FETCH (FLAGS (\\Deleted \\Flagged \\Seen%s))\r\n" % rec, "IDLE sees \\Deleted")
    ok(b.expunge(), "device B EXPUNGE")
    eq(a.readline(), b"* 1 EXPUNGE\r\n", "IDLE sees EXPUNGE")
    eq(idle_done(a, tag), [], "nothing pending at DONE")
    eq(ok(a.search(None, "ALL"), "SEARCH after expunge"), [b""], "INBOX empty for A")
    a.logout()
    b.logout()


def test_utf8_accept():
    # RFC 6855: after ENABLE UTF8=ACCEPT names and strings go as UTF-8.
    c = connect_plain()
    ok(c.create('"Entw&APw-rfe"'), "CREATE for UTF8=ACCEPT")
    ok(c.enable("UTF8=ACCEPT"), "ENABLE UTF8=ACCEPT")
    eq(ok(c.list('""', "Entw*"), "LIST UTF-8"), ['(\\HasNoChildren) "/" "Entwürfe"'.encode()],
       "LIST name in UTF-8")
    ok(c.select('"Entwürfe"'), "SELECT by UTF-8 name")
    ok(c.append('"Entwürfe"', None, None, M2), "APPEND UTF-8 name")
    eq(ok(c.search(None, 'SUBJECT "Grüße"'), "SEARCH quoted UTF-8"), [b"1"], "SEARCH quoted UTF-8")
    ok(c.close(), "CLOSE")
    ok(c.delete('"Entwürfe"'), "DELETE by UTF-8 name")
    c.logout()


def main():
    test_greeting_and_tls()
    c = connect_plain()
    test_folders(c)
    test_append(c)
    test_select_search(c)
    test_fetch(c)
    test_store_copy_move_expunge(c)
    test_rename_delete(c)
    c.logout()
    test_idle_two_devices()
    test_utf8_accept()
    print("PASS %d checks" % checks)


if __name__ == "__main__":
    socket.setdefaulttimeout(TIMEOUT)
    main()
