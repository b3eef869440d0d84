package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestImportSpeed measures `casier import` of a generated mbox. It is a
// manual measurement, skipped unless CASIER_IMPORT_N is set:
//
//	CASIER_IMPORT_N=100000 go test -count=1 -run TestImportSpeed -v -timeout 30m ./cmd/casier
//
// The data directory goes to CASIER_IMPORT_DIR if set (to measure on a
// given disk), else to a temporary directory. Durable writes (fsync) are on,
// as in production.
func TestImportSpeed(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CASIER_IMPORT_N"))
	if n <= 0 {
		t.Skip("set CASIER_IMPORT_N to run")
	}
	base := os.Getenv("CASIER_IMPORT_DIR")
	if base == "" {
		base = t.TempDir()
	}
	data := filepath.Join(base, "data")
	src := filepath.Join(base, "gen.mbox")
	size := genMbox(t, src, n)
	if _, errOut, code := casier(t, "secret\n", "user", "add", "--data", data, "bench"); code != 0 {
		t.Fatal(errOut)
	}
	start := time.Now()
	out, err := exec.Command(casierBin, "import", "--data", data, "bench", src).CombinedOutput()
	d := time.Since(start)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	t.Logf("%d messages, %.1f MiB in %v: %.0f messages/s, %.1f MiB/s", n, float64(size)/(1<<20), d.Round(time.Millisecond),
		float64(n)/d.Seconds(), float64(size)/(1<<20)/d.Seconds())
	start = time.Now()
	out, _ = exec.Command(casierBin, "import", "--data", data, "bench", src).CombinedOutput()
	t.Logf("re-run (nothing to add) in %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))
}

// genMbox writes n distinct messages of 1 to 12 KB (plain text, some
// multipart) with LF line ends, and returns the file size.
func genMbox(t *testing.T, p string, n int) int64 {
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their")
	date := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		date = date.Add(time.Duration(rng.IntN(3600)) * time.Second)
		fmt.Fprintf(w, "From sender%d@example.org %s\n", i%97, date.Format("Mon Jan _2 15:04:05 2006"))
		fmt.Fprintf(w, "Return-Path: <sender%d@example.org>\nReceived: from mx.example.org by casier; %s\n", i%97, date.Format(time.RFC1123Z))
		fmt.Fprintf(w, "Date: %s\nFrom: Sender %d <sender%d@example.org>\nTo: bench@example.com\n", date.Format(time.RFC1123Z), i%97, i%97)
		fmt.Fprintf(w, "Subject: message %d about %s\nMessage-ID: <%d.%d@example.org>\nMIME-Version: 1.0\n", i, words[rng.IntN(len(words))], i, rng.Uint32())
		multipart := i%5 == 0
		if multipart {
			w.WriteString("Content-Type: multipart/alternative; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\n")
		} else {
			w.WriteString("Content-Type: text/plain; charset=utf-8\n\n")
		}
		lines := 15 + rng.IntN(150)
		for l := 0; l < lines; l++ {
			for k := 0; k < 10; k++ {
				w.WriteString(words[rng.IntN(len(words))])
				w.WriteByte(' ')
			}
			if l%40 == 39 {
				// An unescaped "From " line (mboxo writers), kept in the body.
				w.WriteString("\nFrom the desk of the author\n")
				continue
			}
			w.WriteByte('\n')
		}
		if multipart {
			w.WriteString("--b1\nContent-Type: text/html; charset=utf-8\n\n<p>html part</p>\n--b1--\n")
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Close()
	return fi.Size()
}
