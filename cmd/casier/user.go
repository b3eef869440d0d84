package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/config"
	"github.com/casier/casier/internal/store"
	"github.com/casier/casier/internal/store/sqlite"
)

const userUsage = `Usage:
  casier user add NAME [--data DIR]     create an account with the default folders
  casier user passwd NAME [--data DIR]  change an account's password
  casier user del NAME [--data DIR]     delete an account and all its mail
  casier user list [--data DIR]         list accounts, one per line
  casier user quota NAME [--storage SIZE] [--messages N] [--data DIR]
                                        show an account's quota usage and
                                        limits, or set them (SIZE: 1GiB,
                                        500MiB...; 0 or none: no limit)

add and passwd read the password from standard input: one line, the
trailing newline removed. Names are case-insensitive and kept in lower case.
These commands work while a server runs on the same data directory.

Flags (before or after NAME):
  --data DIR     data directory (default %q)
  --config FILE  take data_dir and the label settings from this file
`

// cmdUser runs "casier user ...".
func cmdUser(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	def := config.Default()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w, code := stderr, 2
		if len(args) > 0 {
			w, code = stdout, 0
		}
		fmt.Fprintf(w, userUsage, def.DataDir)
		return code
	}
	sub := args[0]
	nargs, ok := map[string]int{"add": 1, "passwd": 1, "del": 1, "list": 0, "quota": 1}[sub]
	if !ok {
		fmt.Fprintf(stderr, "casier user: unknown command %q\n\n"+userUsage, sub, def.DataDir)
		return 2
	}
	fs := flag.NewFlagSet("casier user "+sub, flag.ContinueOnError)
	data := fs.String("data", def.DataDir, "")
	configFile := fs.String("config", "", "")
	qf := addQuotaFlags(fs, sub) // userquota.go
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, userUsage, def.DataDir)
		return 0
	}
	if err == nil && len(pos) != nargs {
		err = fmt.Errorf("want %d argument(s), got %d", nargs, len(pos))
	}
	if err != nil {
		fmt.Fprintf(stderr, "casier user %s: %v\nRun 'casier user --help' for usage.\n", sub, err)
		return 2
	}

	cfg := def
	if *configFile != "" {
		if err := config.Load(*configFile, &cfg); err != nil {
			fmt.Fprintf(stderr, "casier: %v\n", err)
			return 1
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "data" {
			cfg.DataDir = *data
		}
	})

	var name string
	if nargs == 1 {
		name = auth.NormalizeUsername(pos[0])
		if err := auth.ValidateUsername(name); err != nil {
			fmt.Fprintf(stderr, "casier: invalid user name: %v\n", err)
			return 1
		}
	}
	if err := userCommand(sub, name, cfg, qf, stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "casier: %v\n", err)
		return 1
	}
	return 0
}

func userCommand(sub, name string, cfg config.Config, qf quotaFlags, stdin io.Reader, stdout, stderr io.Writer) error {
	dir := cfg.DataDir
	// Only add may create a data directory: a mistyped --data for the
	// other commands must not leave an empty store behind.
	if sub != "add" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no data directory %s", dir)
		} else if err != nil {
			return err
		}
	}
	// NoSweep: a short-lived process must not start the store's background
	// collection of unreferenced bodies; the server does that.
	st, err := sqlite.Open(dir, withLabels(cfg, sqlite.Options{NoSweep: true, KeepLabelSettings: true}))
	if err != nil {
		return fmt.Errorf("opening store in %s: %w", dir, err)
	}
	defer st.Close()
	ctx := context.Background()

	switch sub {
	case "list":
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintln(stdout, u.Name)
		}
		return nil
	case "del":
		if err := st.DeleteUser(ctx, name); err != nil {
			return userErr(name, err)
		}
		fmt.Fprintf(stdout, "user %s deleted\n", name)
		return nil
	case "quota":
		return userQuota(ctx, st, name, qf, stdout)
	}

	// add, passwd: check the name before asking for a password.
	_, err = st.User(ctx, name)
	switch {
	case sub == "add" && err == nil:
		return userErr(name, store.ErrExists)
	case sub == "add" && errors.Is(err, store.ErrNotFound):
	case err != nil:
		return userErr(name, err)
	}
	pw, err := readPassword(stdin, stderr, name)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	// SCRAM-SHA-256 (RFC 5802 3) needs keys derived from the password
	// itself; they are stored beside the hash (SetPassword clears old ones).
	keys, err := auth.SCRAMKeysFor(pw)
	if err != nil {
		return err
	}
	if sub == "add" {
		if _, err := st.CreateUser(ctx, name, hash); err != nil {
			return userErr(name, err)
		}
		if err := st.SetSCRAMKeys(ctx, name, keys); err != nil {
			return userErr(name, err)
		}
		fmt.Fprintf(stdout, "user %s added\n", name)
		return nil
	}
	if err := st.SetPassword(ctx, name, hash); err != nil {
		return userErr(name, err)
	}
	if err := st.SetSCRAMKeys(ctx, name, keys); err != nil {
		return userErr(name, err)
	}
	fmt.Fprintf(stdout, "password of %s changed\n", name)
	return nil
}

func userErr(name string, err error) error {
	switch {
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("user %s already exists", name)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("no such user %s", name)
	}
	return err
}

// readPassword reads one line from stdin, without its line ending. On a
// terminal it prompts first; the password is echoed there, so scripts
// should pipe it in.
func readPassword(stdin io.Reader, stderr io.Writer, name string) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(stderr, "Password for %s (visible as you type): ", name)
		}
	}
	// Read at most one byte past the longest acceptable line.
	r := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+3))
	line, err := r.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading password: %w", err)
	}
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
	}
	if n > 0 && line[n-1] == '\r' {
		n--
	}
	line = line[:n]
	switch {
	case line == "":
		return "", errors.New("empty password")
	case len(line) > auth.MaxPasswordLen:
		return "", fmt.Errorf("password longer than %d bytes", auth.MaxPasswordLen)
	}
	return line, nil
}
