// Command casier runs the Casier IMAP server and manages its users.
//
//	casier serve [flags]            run the server
//	casier user add|passwd|del NAME manage accounts (password on stdin)
//	casier user list                list accounts
//	casier import USER PATH         import mbox / Maildir mail
//	casier export USER PATH         export to Maildir++ or mbox
//	casier version | help
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

const usageText = `Casier is an IMAP server.

Usage:
  casier serve [flags]                 run the server (casier serve --help)
  casier user add NAME [--data DIR]    create an account; password on standard input
  casier user passwd NAME [--data DIR] change a password; password on standard input
  casier user del NAME [--data DIR]    delete an account and all its mail
  casier user list [--data DIR]        list accounts, one per line
  casier import USER PATH [--data DIR] import an mbox file, a Maildir(++) tree
                                       or a directory of them (casier import --help)
  casier export USER PATH [--data DIR] export to a Maildir++ tree or, with
                                       --format mbox, mbox files
  casier version                       print the version
  casier help                          print this help
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(args[1:], stderr)
	case "user":
		return cmdUser(args[1:], stdin, stdout, stderr)
	case "import":
		return cmdImport(args[1:], stdout, stderr)
	case "export":
		return cmdExport(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			// "casier help serve" is "casier serve --help".
			return run([]string{args[1], "--help"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usageText)
		return 0
	}
	fmt.Fprintf(stderr, "casier: unknown command %q\n\n%s", args[0], usageText)
	return 2
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("casier %s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// parseInterspersed parses args with fs, allowing flags before, between
// and after positional arguments ("casier user add alice --data DIR").
// "--" ends the flags. It returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, val, hasVal := strings.Cut(name, "=")
		if name == "h" || name == "help" {
			return nil, flag.ErrHelp
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil, fmt.Errorf("unknown flag %s", a)
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			if !hasVal {
				val = "true"
			}
		} else if !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		if err := fs.Set(name, val); err != nil {
			return nil, fmt.Errorf("flag --%s: %v", name, err)
		}
	}
	return pos, nil
}
