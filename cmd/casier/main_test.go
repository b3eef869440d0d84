package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/store/sqlite"
)

// casierBin is the binary built once by TestMain; the tests run it as a
// user would.
var casierBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "casier-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	casierBin = filepath.Join(dir, "casier")
	build := exec.Command("go", "build", "-o", casierBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building casier:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// casier runs the binary with stdin and returns stdout, stderr and the
// exit code.
func casier(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, casierBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("casier %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// expect runs casier and checks all three results exactly.
func expect(t *testing.T, stdin string, args []string, wantOut, wantErr string, wantCode int) {
	t.Helper()
	out, errOut, code := casier(t, stdin, args...)
	if out != wantOut || errOut != wantErr || code != wantCode {
		t.Errorf("casier %q:\n stdout %q\n stderr %q\n exit %d\nwant\n stdout %q\n stderr %q\n exit %d",
			args, out, errOut, code, wantOut, wantErr, wantCode)
	}
}

// checkPassword opens the store (alongside any other process) and checks
// the stored hash of name.
func checkPassword(t *testing.T, dir, name, password string) bool {
	t.Helper()
	st, err := sqlite.Open(dir, sqlite.Options{NoSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User(context.Background(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	ok, err := auth.CheckPassword(u.PassHash, password)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestUserCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")

	expect(t, "", []string{"user", "list", "--data", dir}, "", "casier: no data directory "+dir+"\n", 1)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("user list created the data directory")
	}
	expect(t, "secret\n", []string{"user", "add", "--data", dir, "alice"}, "user alice added\n", "", 0)
	// Flags after the name; the name is normalised; CR LF stripped.
	expect(t, "pw 2\r\n", []string{"user", "add", "Bob", "--data", dir}, "user bob added\n", "", 0)
	expect(t, "x\n", []string{"user", "add", "--data=" + dir, "ALICE"}, "", "casier: user alice already exists\n", 1)
	expect(t, "", []string{"user", "list", "--data", dir}, "alice\nbob\n", "", 0)
	if !checkPassword(t, dir, "alice", "secret") || !checkPassword(t, dir, "bob", "pw 2") {
		t.Fatal("stored hashes do not match the passwords given")
	}

	expect(t, "new secret", []string{"user", "passwd", "alice", "--data", dir}, "password of alice changed\n", "", 0)
	if !checkPassword(t, dir, "alice", "new secret") || checkPassword(t, dir, "alice", "secret") {
		t.Fatal("passwd did not change the hash")
	}
	expect(t, "pw\n", []string{"user", "passwd", "--data", dir, "carol"}, "", "casier: no such user carol\n", 1)

	expect(t, "", []string{"user", "add", "--data", dir, "dave"}, "", "casier: empty password\n", 1)
	expect(t, "\r\n", []string{"user", "add", "--data", dir, "dave"}, "", "casier: empty password\n", 1)
	expect(t, strings.Repeat("p", auth.MaxPasswordLen+1)+"\n", []string{"user", "add", "--data", dir, "dave"},
		"", fmt.Sprintf("casier: password longer than %d bytes\n", auth.MaxPasswordLen), 1)
	expect(t, "pw\n", []string{"user", "add", "--data", dir, "da ve"},
		"", "casier: invalid user name: user name \"da ve\": character ' ' not allowed\n", 1)

	expect(t, "", []string{"user", "del", "alice", "--data", dir}, "user alice deleted\n", "", 0)
	expect(t, "", []string{"user", "del", "--data", dir, "alice"}, "", "casier: no such user alice\n", 1)
	expect(t, "", []string{"user", "list", "--data", dir}, "bob\n", "", 0)

	// --config supplies the data directory; "--" ends the flags.
	conf := filepath.Join(t.TempDir(), "casier.conf")
	os.WriteFile(conf, []byte("data_dir = "+dir+"\n"), 0o644)
	expect(t, "", []string{"user", "list", "--config", conf}, "bob\n", "", 0)
	expect(t, "pw\n", []string{"user", "add", "--config", conf, "--", "erin"}, "user erin added\n", "", 0)
}

func TestUserUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"user"},
		{"user", "frob"},
		{"user", "add", "--data", dir},
		{"user", "add", "--data", dir, "a", "b"},
		{"user", "list", "--data", dir, "extra"},
		{"user", "list", "--bogus"},
		{"user", "list", "--data"},
		{"bogus"},
		{},
	} {
		_, errOut, code := casier(t, "", args...)
		if code != 2 || errOut == "" {
			t.Errorf("casier %q: exit %d, stderr %q; want exit 2 and a message", args, code, errOut)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := casier(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "casier ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	out, _, code = casier(t, "", "help")
	if code != 0 || !strings.Contains(out, "casier serve") || !strings.Contains(out, "casier user add NAME") {
		t.Errorf("help: exit %d, %q", code, out)
	}
	out, _, code = casier(t, "", "user", "add", "--help")
	if code != 0 || !strings.Contains(out, "--data DIR") {
		t.Errorf("user add --help: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"serve", "--help"}, {"help", "serve"}} {
		out, _, code = casier(t, "", args...)
		if code != 0 {
			t.Errorf("%q: exit %d", args, code)
		}
		for _, want := range []string{
			"--config FILE", `--data DIR`, `(default "./casier-data")`,
			`--imap ADDR`, `(default ":1143")`, `--imaps ADDR`, `(default ":1993")`,
			`--lmtp ADDR`, `(default "127.0.0.1:1024"`, "--hostname NAME",
			"--log-level LEVEL", `(default "info")`, "--log-format FMT", `(default "text")`,
			"Example:",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%q lacks %q:\n%s", args, want, out)
			}
		}
	}
}
