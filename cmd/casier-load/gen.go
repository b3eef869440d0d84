package main

import (
	"fmt"
	"strings"
	"time"
)

// genMessage returns generated message number i (from 0): the same bytes
// for the same i on every run, so two servers filled with -fill hold
// identical mailboxes. Sizes vary between about 1.5 and 12 KB; every 10th
// message is from "boss", every 7th is multipart with a small attachment,
// every 100th mentions "needlework".
func genMessage(i int) []byte {
	var b strings.Builder
	from := fmt.Sprintf("User %d <user%d@example.org>", i%97, i%97)
	if i%10 == 0 {
		from = "The Boss <boss@example.com>"
	}
	date := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Minute)
	fmt.Fprintf(&b, "Return-Path: <user%d@example.org>\r\n", i%97)
	fmt.Fprintf(&b, "Received: from mx%d.example.org (mx%d.example.org [192.0.2.%d])\r\n\tby mail.example.net with ESMTPS id %08x\r\n\tfor <alice@example.net>; %s\r\n",
		i%5, i%5, 1+i%250, uint32(i)*2654435761, date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "From: %s\r\nTo: Alice <alice@example.net>\r\n", from)
	if i%3 == 0 {
		b.WriteString("Cc: Bob <bob@example.net>, carol@example.net\r\n")
	}
	fmt.Fprintf(&b, "Subject: Report number %d about %s\r\n", i, topics[i%len(topics)])
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <load%d@example.org>\r\n", date.Format(time.RFC1123Z), i)
	if i > 0 && i%4 == 0 {
		fmt.Fprintf(&b, "In-Reply-To: <load%d@example.org>\r\n", i-1)
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	lines := 20 + (i*37)%140
	if i%7 == 0 {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"=-b\"\r\n\r\n--=-b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
		body(&b, i, lines)
		b.WriteString("--=-b\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		for l := 0; l < 8; l++ {
			b.WriteString("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n")
		}
		b.WriteString("--=-b--\r\n")
	} else {
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
		body(&b, i, lines)
	}
	return []byte(b.String())
}

var topics = []string{"the budget", "the roadmap", "lunch", "the outage", "hiring", "the release"}

func body(b *strings.Builder, i, lines int) {
	for l := 0; l < lines; l++ {
		fmt.Fprintf(b, "Line %d of message %d: the quick brown fox jumps over the lazy dog.\r\n", l, i)
	}
	if i%100 == 0 {
		b.WriteString("A line about needlework.\r\n")
	}
}
