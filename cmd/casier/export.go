package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/casier/casier/internal/config"
	"github.com/casier/casier/internal/mailio"
	"github.com/casier/casier/internal/store"
)

const exportUsage = `Usage:
  casier export [--data DIR] [--format maildir|mbox] USER PATH

Exports USER's mail to PATH (created if needed):
  maildir (default)  a Maildir++ tree: INBOX at PATH, folder "A/B" in
                     PATH/.A.B; flags in the file names' info part,
                     keywords in dovecot-keywords, the internal date as the
                     name's timestamp and the file's mtime, the UID order
                     in dovecot-uidlist. Exact: importing it back gives
                     the same folders, flags, keywords, dates and bytes.
  mbox               one mboxrd file per folder: PATH/INBOX.mbox,
                     PATH/A/B.mbox; the internal date on the From_ line,
                     lines ending in LF; flags and keywords are not kept.

Running it again on the same PATH brings it up to date (Maildir: only new
or changed messages are written). It works while a server runs.

Flags (before or after the arguments):
  --data DIR     data directory (default %q)
  --config FILE  take data_dir and the label settings from this file
  --format F     maildir or mbox
`

// cmdExport runs "casier export ...".
func cmdExport(args []string, stdout, stderr io.Writer) int {
	def := config.Default()
	fs := flag.NewFlagSet("casier export", flag.ContinueOnError)
	data := fs.String("data", def.DataDir, "")
	configFile := fs.String("config", "", "")
	format := fs.String("format", "maildir", "")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, exportUsage, def.DataDir)
		return 0
	}
	if err == nil && len(pos) != 2 {
		err = fmt.Errorf("want 2 arguments (USER PATH), got %d", len(pos))
	}
	if err == nil && *format != "maildir" && *format != "mbox" {
		err = fmt.Errorf("--format: want maildir or mbox, got %q", *format)
	}
	if err != nil {
		fmt.Fprintf(stderr, "casier export: %v\nRun 'casier export --help' for usage.\n", err)
		return 2
	}
	ctx, _, acct, closeAll, err := openForCommand(def, *configFile, fs, *data, pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "casier: %v\n", err)
		return 1
	}
	defer closeAll()
	ex := &exporter{acct: acct, root: pos[1], mbox: *format == "mbox", warn: stderr, prog: newProgress(stderr, "exported")}
	err = ex.run(ctx)
	ex.prog.done()
	fmt.Fprintf(stdout, "%d messages exported (%d written), %d folders\n", ex.total, ex.written, ex.folders)
	if err != nil {
		fmt.Fprintf(stderr, "casier: %v\n", err)
		return 1
	}
	return 0
}

// exporter writes an account's folders, one message at a time.
type exporter struct {
	acct store.Account
	root string
	mbox bool
	warn io.Writer
	prog *progress

	total, written, folders int
}

// recordBatch is how many records export reads per store call.
const recordBatch = 256

func (ex *exporter) run(ctx context.Context) error {
	if err := os.MkdirAll(ex.root, 0o700); err != nil {
		return err
	}
	mbs, err := ex.acct.Mailboxes(ctx)
	if err != nil {
		return err
	}
	for _, mb := range mbs {
		if mb.Kind != store.KindFolder {
			// All Mail and the label folders show messages of the
			// folders, whose keywords carry the labels: exporting them
			// would write every message twice, and import them back as
			// copies (docs/import-export.md).
			continue
		}
		ex.prog.folder(mb.Name)
		if ex.mbox {
			err = ex.mboxFolder(ctx, mb)
		} else {
			err = ex.maildirFolder(ctx, mb)
		}
		if err != nil {
			return fmt.Errorf("folder %s: %w", mb.Name, err)
		}
		ex.folders++
	}
	return nil
}

// each calls fn for every message of the mailbox in UID order, reading
// records in batches and one body at a time.
func (ex *exporter) each(ctx context.Context, mb store.Mailbox, fn func(rec store.Record, body []byte) error) error {
	ents, err := ex.acct.Entries(ctx, mb.ID)
	if err != nil {
		return err
	}
	uids := make([]uint32, len(ents))
	for i, e := range ents {
		uids[i] = e.UID
	}
	var buf []byte
	for len(uids) > 0 {
		n := min(len(uids), recordBatch)
		recs, err := ex.acct.Records(ctx, mb.ID, uids[:n])
		if err != nil {
			return err
		}
		uids = uids[n:]
		for _, rec := range recs {
			b, err := ex.acct.OpenBody(ctx, rec.MessageID)
			if err != nil {
				return err
			}
			if int64(cap(buf)) < b.Size() {
				buf = make([]byte, b.Size())
			}
			buf = buf[:b.Size()]
			_, err = b.ReadAt(buf, 0)
			b.Close()
			if err != nil && !(err == io.EOF && len(buf) == int(b.Size())) {
				return err
			}
			if err := fn(rec, buf); err != nil {
				return err
			}
			ex.total++
			ex.prog.add(1)
		}
	}
	return nil
}

func (ex *exporter) maildirFolder(ctx context.Context, mb store.Mailbox) error {
	dir := ex.root
	if mb.Name != "INBOX" {
		dir = filepath.Join(ex.root, "."+mailio.EncodeMaildirName(mb.Name))
	}
	stat, err := ex.acct.Status(ctx, mb.ID)
	if err != nil {
		return err
	}
	w, dropped, err := mailio.CreateMaildir(dir, stat.Keywords)
	if err != nil {
		return err
	}
	if len(dropped) > 0 {
		ex.prog.clear()
		fmt.Fprintf(ex.warn, "casier: %s: Maildir names only 26 keywords; not exported: %s\n", mb.Name, strings.Join(dropped, " "))
	}
	err = ex.each(ctx, mb, func(rec store.Record, body []byte) error {
		// The name starts with the internal date (Maildir convention);
		// UID and UIDVALIDITY make it unique and stable, so a second
		// export finds what the first wrote.
		key := fmt.Sprintf("%d.U%dV%d.casier", rec.InternalDate.Unix(), rec.UID, mb.UIDValidity)
		changed, err := w.Write(rec.UID, key, body, rec.Flags, rec.InternalDate)
		if changed {
			ex.written++
		}
		return err
	})
	if err != nil {
		return err
	}
	stat, err = ex.acct.Status(ctx, mb.ID)
	if err != nil {
		return err
	}
	return w.Finish(mb.UIDValidity, stat.UIDNext)
}

func (ex *exporter) mboxFolder(ctx context.Context, mb store.Mailbox) error {
	levels := strings.Split(mb.Name, "/")
	for i, l := range levels {
		levels[i] = mailio.EscapeLevel(l)
	}
	p := filepath.Join(ex.root, filepath.Join(levels...)) + ".mbox"
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	// A new file replaces the old one only when complete.
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp") // hidden: import skips it
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := mailio.NewMboxWriter(f)
	err = ex.each(ctx, mb, func(rec store.Record, body []byte) error {
		ex.written++
		return w.Write(body, rec.InternalDate)
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
