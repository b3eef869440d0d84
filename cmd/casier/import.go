package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/config"
	"github.com/casier/casier/internal/mailio"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

const importUsage = `Usage:
  casier import [--data DIR] [--folder NAME] USER PATH

Imports mail into USER's account. PATH is an mbox file, a Maildir (cur/,
new/, tmp/) with its Maildir++ subfolders (".A.B" is folder "A/B"), or a
directory of such (files "X.mbox" or starting with "From ", Maildirs,
subdirectories for levels). Folders are created as needed. Maildir flags,
Dovecot keywords and internal dates are kept; see docs/import-export.md.

Running it again adds only what is missing: an interrupted import resumes.
It works while a server runs on the same data directory.

Flags (before or after the arguments):
  --data DIR     data directory (default %q)
  --config FILE  take data_dir, max_message_size and the label settings
                 from this file
  --folder NAME  import into NAME: an mbox file becomes NAME, a tree's
                 INBOX becomes NAME and its folders go below it
                 (default: an mbox file goes to INBOX, a tree to the top)
`

// Batches bound what import holds in memory and set its durability
// granularity: each batch is one store transaction.
const (
	batchMessages = 500
	batchBytes    = 16 << 20
)

// cmdImport runs "casier import ...".
func cmdImport(args []string, stdout, stderr io.Writer) int {
	def := config.Default()
	fs := flag.NewFlagSet("casier import", flag.ContinueOnError)
	data := fs.String("data", def.DataDir, "")
	configFile := fs.String("config", "", "")
	folder := fs.String("folder", "", "")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, importUsage, def.DataDir)
		return 0
	}
	if err == nil && len(pos) != 2 {
		err = fmt.Errorf("want 2 arguments (USER PATH), got %d", len(pos))
	}
	if err != nil {
		fmt.Fprintf(stderr, "casier import: %v\nRun 'casier import --help' for usage.\n", err)
		return 2
	}
	ctx, cfg, acct, closeAll, err := openForCommand(def, *configFile, fs, *data, pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "casier: %v\n", err)
		return 1
	}
	defer closeAll()
	folders, err := mailio.Discover(pos[1], "INBOX")
	if err != nil {
		fmt.Fprintf(stderr, "casier: %v\n", err)
		return 1
	}
	if *folder != "" {
		folders = underFolder(folders, *folder)
	}
	imp := &importer{acct: acct, maxSize: cfg.MaxMessageSize, labelPrefix: cfg.LabelPrefix, warn: stderr, prog: newProgress(stderr, "imported")}
	err = imp.run(ctx, folders)
	imp.prog.done()
	fmt.Fprintf(stdout, "%d messages imported, %d already present, %d too big; %d folders (%d created)\n",
		imp.added, imp.present, imp.tooBig, len(folders), imp.created)
	if err != nil {
		fmt.Fprintf(stderr, "casier: %v\n", err)
		return 1
	}
	return 0
}

// loadConfig applies --config then --data, as casier user does.
// openForCommand loads the configuration and opens user's account for a
// command that works on one account (import, export); the context ends on
// SIGINT or SIGTERM. closeAll closes the store and stops the signal watch.
func openForCommand(def config.Config, configFile string, fs *flag.FlagSet, data, user string) (context.Context, config.Config, store.Account, func(), error) {
	cfg, err := loadConfig(def, configFile, fs, data)
	if err != nil {
		return nil, cfg, nil, nil, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	st, acct, err := openAccount(ctx, cfg, user)
	if err != nil {
		stop()
		return nil, cfg, nil, nil, err
	}
	return ctx, cfg, acct, func() { st.Close(); stop() }, nil
}

func loadConfig(def config.Config, file string, fs *flag.FlagSet, data string) (config.Config, error) {
	cfg := def
	if file != "" {
		if err := config.Load(file, &cfg); err != nil {
			return cfg, err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "data" {
			cfg.DataDir = data
		}
	})
	return cfg, nil
}

// openAccount opens the store of an existing data directory (a mistyped
// --data must not create one) and the user's account.
func openAccount(ctx context.Context, cfg config.Config, user string) (*sqlite.Store, store.Account, error) {
	name := auth.NormalizeUsername(user)
	if err := auth.ValidateUsername(name); err != nil {
		return nil, nil, fmt.Errorf("invalid user name: %v", err)
	}
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return nil, nil, fmt.Errorf("no data directory %s", cfg.DataDir)
	}
	// NoSweep: the server collects unreferenced bodies, not this process.
	st, err := sqlite.Open(cfg.DataDir, withLabels(cfg, sqlite.Options{NoSweep: true, MaxMessageSize: cfg.MaxMessageSize, KeepLabelSettings: true}))
	if err != nil {
		return nil, nil, fmt.Errorf("opening store in %s: %w", cfg.DataDir, err)
	}
	u, err := st.User(ctx, name)
	if err == nil {
		var acct store.Account
		if acct, err = st.Account(ctx, u.ID); err == nil {
			return st, acct, nil
		}
	}
	st.Close()
	return nil, nil, userErr(name, err)
}

// underFolder moves the folders found under name.
func underFolder(folders []mailio.Folder, name string) []mailio.Folder {
	out := make([]mailio.Folder, len(folders))
	for i, f := range folders {
		if f.Name == "INBOX" {
			f.Name = name
		} else {
			f.Name = name + "/" + f.Name
		}
		out[i] = f
	}
	return out
}

// importer copies folders into an account, one batch at a time.
type importer struct {
	acct        store.Account
	maxSize     int64
	labelPrefix string // label_prefix: names below it are label folders
	warn        io.Writer
	prog        *progress

	added, present, tooBig, created int
}

// run imports every folder. A folder that fails is reported and the
// others still imported; the first error is returned.
func (imp *importer) run(ctx context.Context, folders []mailio.Folder) error {
	var first error
	for _, f := range folders {
		err := imp.folder(ctx, f)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted in %s (run the same command again to resume): %w", f.Name, ctx.Err())
		}
		err = fmt.Errorf("folder %s (%s): %w", f.Name, f.Path, err)
		imp.prog.clear()
		fmt.Fprintf(imp.warn, "casier: %v\n", err)
		if first == nil {
			first = err
		}
	}
	return first
}

// folder imports one folder. Idempotence rests on the store: bodies are
// deduplicated per user by SHA-256, and AppendBatch skips a message when
// the mailbox already holds more copies of its body than the copies seen
// before it in this folder, so a second run adds nothing and identical
// messages within a folder are all kept.
func (imp *importer) folder(ctx context.Context, f mailio.Folder) error {
	mb, err := imp.acct.Mailbox(ctx, f.Name)
	if err == nil && mb.Kind != store.KindFolder || imp.virtualName(f.Name) {
		return fmt.Errorf("not imported: %s is a label folder or All Mail, which only show the messages of other folders "+
			"(their keywords carry the labels); to keep it as an ordinary folder, import it alone under another name: "+
			"casier import --folder NAME USER %s", f.Name, f.Path)
	}
	if errors.Is(err, store.ErrNoMailbox) {
		mb, err = imp.acct.CreateMailbox(ctx, f.Name, "")
		if err == nil {
			imp.created++
			// Clients list subscribed folders: show the new one.
			err = imp.acct.Subscribe(ctx, mb.Name, true)
		}
	}
	if err != nil {
		return err
	}
	r, closeFn, err := f.Open(imp.maxSize)
	if err != nil {
		return err
	}
	defer closeFn()
	imp.prog.folder(mb.Name)
	seen := map[[sha256.Size]byte]int{}
	var batch []store.BatchMessage
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := imp.acct.AppendBatch(ctx, mb.ID, batch)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.UID != 0 {
				imp.added++
			} else {
				imp.present++
			}
		}
		imp.prog.add(len(batch))
		clear(batch) // drop the bodies
		batch, size = batch[:0], 0
		return nil
	}
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if m.TooBig {
			imp.tooBig++
			imp.prog.clear()
			fmt.Fprintf(imp.warn, "casier: %s: skipping a message of %d bytes (max_message_size %d)\n", f.Name, m.Size, imp.maxSize)
			continue
		}
		h := sha256.Sum256(m.Body)
		batch = append(batch, store.BatchMessage{Body: m.Body, Flags: m.Flags, InternalDate: m.Date, Occurrence: seen[h]})
		seen[h]++
		size += len(m.Body)
		if len(batch) >= batchMessages || size >= batchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// virtualName reports whether name would be a virtual mailbox: the label
// root or a label folder (created as such), or "All Mail" (a Maildir or
// mbox copy of Casier's, whose messages are those of the other folders).
// Importing into one would file every message a second time in Archive
// (docs/import-export.md).
func (imp *importer) virtualName(name string) bool {
	return name == "All Mail" || name == imp.labelPrefix || strings.HasPrefix(name, imp.labelPrefix+"/")
}

// progress shows a status line on a terminal: count, rate, folder;
// redrawn at most every 250 ms, and never when stderr is not a terminal.
type progress struct {
	w      io.Writer
	verb   string
	tty    bool
	start  time.Time
	last   time.Time
	n      int
	name   string
	shown  bool
	nowFun func() time.Time
}

func newProgress(w io.Writer, verb string) *progress {
	p := &progress{w: w, verb: verb, start: time.Now(), nowFun: time.Now}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) folder(name string) { p.name = name; p.draw(true) }

func (p *progress) add(n int) { p.n += n; p.draw(false) }

func (p *progress) draw(force bool) {
	if !p.tty {
		return
	}
	now := p.nowFun()
	if !force && now.Sub(p.last) < 250*time.Millisecond {
		return
	}
	p.last = now
	rate := 0.0
	if d := now.Sub(p.start).Seconds(); d > 0 {
		rate = float64(p.n) / d
	}
	// \r and "erase line" redraw in place.
	fmt.Fprintf(p.w, "\r\x1b[K%d messages %s, %.0f/s, %s", p.n, p.verb, rate, p.name)
	p.shown = true
}

// clear erases the status line before another message is printed.
func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

func (p *progress) done() { p.clear() }
