package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "casier.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadEveryKey(t *testing.T) {
	p := writeConf(t, `
# Casier test configuration
data_dir = /srv/casier
imap_addr = 127.0.0.1:143
imaps_addr =
lmtp_addr = [::1]:24
metrics_addr = 127.0.0.1:9100
hostname = "mail.example.org"
tls_cert_file = /etc/casier/fullchain.pem
tls_key_file = /etc/casier/key.pem
log_level = debug
log_format = json
allow_insecure_auth = yes
max_line_length = 8KiB
max_literal_size = 100MiB
max_message_size = 52428800
max_conns_per_ip = 10
idle_timeout = 45m
lmtp_domains = Example.org, example.net
lmtp_max_recipients = 200
fail_free_attempts = 5
fail_base_delay = 500ms
fail_max_delay = 1m
fail_window = 1h
oauth_introspection_url = https://idp.example.org/introspect
oauth_client_id = casier
oauth_client_secret_file = secret
oauth_jwt_key_file = /etc/casier/jwt.key
oauth_user_claim = email
oauth_audience = imap
label_prefix = Tags
label_exclude = $Forwarded, Junk
`)
	c := Default()
	if err := Load(p, &c); err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir:           "/srv/casier",
		IMAPAddr:          "127.0.0.1:143",
		IMAPSAddr:         "",
		LMTPAddr:          "[::1]:24",
		MetricsAddr:       "127.0.0.1:9100",
		Hostname:          "mail.example.org",
		TLSCertFile:       "/etc/casier/fullchain.pem",
		TLSKeyFile:        "/etc/casier/key.pem",
		LogLevel:          "debug",
		LogFormat:         "json",
		AllowInsecureAuth: true,
		MaxLineLength:     8192,
		MaxLiteralSize:    100 << 20,
		MaxMessageSize:    52428800,
		MaxConnsPerIP:     10,
		IdleTimeout:       45 * time.Minute,
		LMTPDomains:       "Example.org, example.net",
		LMTPMaxRecipients: 200,
		FailFreeAttempts:  5,
		FailBaseDelay:     500 * time.Millisecond,
		FailMaxDelay:      time.Minute,
		FailWindow:        time.Hour,

		OAuthIntrospectionURL: "https://idp.example.org/introspect",
		OAuthClientID:         "casier",
		OAuthClientSecretFile: filepath.Join(filepath.Dir(p), "secret"),
		OAuthJWTKeyFile:       "/etc/casier/jwt.key",
		OAuthUserClaim:        "email",
		OAuthAudience:         "imap",

		LabelPrefix:     "Tags",
		LabelExclude:    "$Forwarded, Junk",
		LabelExcludeSet: true,
	}
	if c != want {
		t.Fatalf("Load:\n got %+v\nwant %+v", c, want)
	}
	// The two token checks exclude each other.
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "oauth_introspection_url and oauth_jwt_key_file are exclusive") {
		t.Fatalf("Validate with both token checks: %v", err)
	}
	c.OAuthJWTKeyFile = ""
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	// The test sets every key there is.
	if n := len(Keys()); n != 30 {
		t.Fatalf("%d keys; update this test", n)
	}
}

func TestLoadKeepsUnsetValues(t *testing.T) {
	p := writeConf(t, "\ufeffhostname = a.example\r\n\r\n   # indented comment\r\n")
	c := Default()
	c.IMAPAddr = "127.0.0.1:5"
	if err := Load(p, &c); err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.IMAPAddr = "127.0.0.1:5"
	want.Hostname = "a.example"
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestLoadRelativePaths(t *testing.T) {
	p := writeConf(t, "data_dir = data\ntls_cert_file = tls/c.pem\ntls_key_file = /abs/k.pem\n")
	dir := filepath.Dir(p)
	c := Default()
	if err := Load(p, &c); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "data") || c.TLSCertFile != filepath.Join(dir, "tls/c.pem") || c.TLSKeyFile != "/abs/k.pem" {
		t.Fatalf("paths: %q %q %q", c.DataDir, c.TLSCertFile, c.TLSKeyFile)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"# ok\nbogus = 1\n", ":2: unknown key \"bogus\""},
		{"data_dir\n", ":1: want key = value"},
		{"\n\nlog_level = loud\n", `:3: log_level: "loud": want one of debug, info, warn, error`},
		{"log_format = xml", `:1: log_format: "xml": want one of text, json`},
		{"allow_insecure_auth = maybe", `:1: allow_insecure_auth: "maybe": want true or false`},
		{"max_line_length = 1.5KiB", `:1: max_line_length: "1.5KiB": want a size`},
		{"max_line_length = 4GiB", `:1: max_line_length: "4GiB": too large`},
		{"max_literal_size = 10MB", `:1: max_literal_size: "10MB": want a size`},
		{"max_message_size = -1", `:1: max_message_size: "-1": want a size`},
		{"max_message_size =", `:1: max_message_size: "": want a size`},
		{"max_conns_per_ip = ten", `:1: max_conns_per_ip: "ten": want a whole number >= 0`},
		{"fail_free_attempts = -2", `:1: fail_free_attempts: "-2": want a whole number >= 0`},
		{"idle_timeout = 30", `:1: idle_timeout: "30": want a duration`},
		{"fail_base_delay = -1s", `:1: fail_base_delay: "-1s": negative duration`},
		{"hostname = \"unterminated\n", `:1: hostname: bad quoted string "unterminated`},
		{"hostname = a\n# x\nhostname = b\n", ":3: hostname already set on line 1"},
		{"= 5", `:1: unknown key ""`},
		{"label_prefix =", `:1: label_prefix: empty`},
		{"label_prefix = A/B", `:1: label_prefix: "A/B": must be one level`},
		{"label_prefix = inbox", `:1: label_prefix: "inbox": INBOX is reserved`},
		{"label_prefix = L*", `:1: label_prefix: "L*": contains a LIST wildcard`},
		{"label_exclude = a,,b", `:1: label_exclude: empty keyword`},
		{`label_exclude = \Seen`, `:1: label_exclude: "\\Seen" is not an IMAP keyword`},
		{"label_exclude = My Label", `:1: label_exclude: "My Label" is not an IMAP keyword`},
	} {
		p := writeConf(t, tc.text)
		c := Default()
		err := Load(p, &c)
		if err == nil || !strings.HasPrefix(err.Error(), p+":") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v; want %s%s", tc.text, err, p, tc.want)
		}
	}
	c := Default()
	if err := Load(filepath.Join(t.TempDir(), "missing.conf"), &c); !os.IsNotExist(err) {
		t.Errorf("Load(missing) = %v; want not-exist error", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1": 1, "65536": 65536, "1B": 1, "512KiB": 512 << 10, "64MiB": 64 << 20,
		"64 MiB": 64 << 20, "2gib": 2 << 30, "1TiB": 1 << 40, " 7 kib ": 7 << 10,
		"8388607TiB": 8388607 << 40,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.5MiB", "-1", "+1", "1 2", "10MB", "10k", "1e6", "8388608TiB", "99999999999999999999"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, nil; want error", in, got)
		}
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.DataDir = "" }, "data_dir is empty"},
		{func(c *Config) { c.IMAPAddr = "1143" }, "imap_addr: address 1143: missing port in address"},
		{func(c *Config) { c.IMAPSAddr = "localhost:imaps" }, `imaps_addr: address "localhost:imaps": port must be a number`},
		{func(c *Config) { c.LMTPAddr = ":70000" }, `lmtp_addr: address ":70000": port must be a number`},
		{func(c *Config) { c.TLSCertFile = "c.pem" }, "tls_cert_file and tls_key_file must be set together"},
		{func(c *Config) { c.LogLevel = "trace" }, `log_level "trace"`},
		{func(c *Config) { c.LogFormat = "xml" }, `log_format "xml"`},
		{func(c *Config) { c.MaxLineLength = 100 }, "max_line_length 100: want at least 1024"},
		{func(c *Config) { c.MaxMessageSize = 0 }, "max_message_size must be positive"},
		{func(c *Config) { c.MaxConnsPerIP = 0 }, "max_conns_per_ip must be positive"},
		{func(c *Config) { c.IdleTimeout = 0 }, "idle_timeout must be positive"},
		{func(c *Config) { c.FailMaxDelay = time.Millisecond }, "fail_max_delay 1ms is less than fail_base_delay 1s"},
		{func(c *Config) { c.OAuthIntrospectionURL = "http://idp.example.org/i" }, `http is allowed for loopback hosts only`},
		{func(c *Config) { c.OAuthIntrospectionURL = "ftp://127.0.0.1/i" }, `want an https URL`},
		{func(c *Config) { c.OAuthClientID = "casier" }, "oauth_client_id and oauth_client_secret_file must be set together"},
	} {
		c := Default()
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate = %v; want %q", err, tc.want)
		}
	}
	c.OAuthIntrospectionURL = "http://127.0.0.1:8080/introspect" // loopback may use http
	c.IMAPAddr, c.IMAPSAddr, c.LMTPAddr = "", "[::1]:0", "127.0.0.1:24"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(empty and bracketed addresses) = %v", err)
	}
}

// FuzzLoad: arbitrary file contents never panic, and an accepted file
// yields only values of the right syntax.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("data_dir = x\nmax_message_size = 64MiB\nidle_timeout = 1m\n"))
	f.Add([]byte("hostname = \"\\u00e9\"\n# c\nallow_insecure_auth = on"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		if err := parse("fuzz.conf", data, &c); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.conf") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		if c.MaxLiteralSize < 0 || c.MaxMessageSize < 0 || c.IdleTimeout < 0 || c.MaxLineLength < 0 {
			t.Fatalf("negative value accepted: %+v", c)
		}
	})
}

func TestLMTPDomains(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "Example.ORG", want: []string{"example.org"}},
		{in: "example.org, example.net ,example.org", want: []string{"example.org", "example.net"}},
		{in: "b\u00fccher.example", want: []string{"b\u00fccher.example"}},
		{in: "example.org,", bad: true},
		{in: "user@example.org", bad: true},
		{in: "exa mple.org", bad: true},
		{in: ".example.org", bad: true},
	} {
		c.LMTPDomains = tc.in
		got, err := c.LMTPDomainList()
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v, want error %v", tc.in, err, tc.bad)
			continue
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
		if err := c.Validate(); (err != nil) != tc.bad {
			t.Errorf("%q: Validate: %v", tc.in, err)
		}
	}
	p := writeConf(t, "lmtp_domains = example.org, bad domain\n")
	if err := Load(p, &c); err == nil || !strings.Contains(err.Error(), ":1: lmtp_domains:") {
		t.Errorf("Load of a bad domain list: %v", err)
	}
}

func TestLMTPAddrUnixSocket(t *testing.T) {
	c := Default()
	c.LMTPAddr = "unix:/run/casier/lmtp.sock"
	if err := c.Validate(); err != nil {
		t.Errorf("unix socket: %v", err)
	}
	c.LMTPAddr = "unix:lmtp.sock"
	if err := c.Validate(); err == nil {
		t.Error("relative unix socket path accepted")
	}
	c = Default()
	c.LMTPMaxRecipients = 99
	if err := c.Validate(); err == nil {
		t.Error("lmtp_max_recipients 99 accepted")
	}
}

// TestLabelSettings: label_prefix defaults to Labels; label_exclude
// absent leaves the engine's list (nil), given empty makes every keyword
// a label (an empty, non-nil list).
func TestLabelSettings(t *testing.T) {
	c := Default()
	if c.LabelPrefix != "Labels" {
		t.Errorf("default label_prefix %q", c.LabelPrefix)
	}
	if l, err := c.LabelExcludeList(); l != nil || err != nil {
		t.Errorf("label_exclude absent: %#v, %v; want nil", l, err)
	}
	p := writeConf(t, "label_exclude =\n")
	if err := Load(p, &c); err != nil {
		t.Fatal(err)
	}
	if l, err := c.LabelExcludeList(); l == nil || len(l) != 0 || err != nil {
		t.Errorf("label_exclude empty: %#v, %v; want an empty list", l, err)
	}
	c.LabelExclude = " $Forwarded ,work, Work,$MDNSent"
	l, err := c.LabelExcludeList()
	if err != nil || strings.Join(l, "|") != "$Forwarded|work|$MDNSent" {
		t.Errorf("list: %q, %v", l, err)
	}
	for _, bad := range []string{"", "A/B", "INBOX", "Inbox", "L%", "a\x01b"} {
		c := Default()
		c.LabelPrefix = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "label_prefix") {
			t.Errorf("label_prefix %q: Validate = %v", bad, err)
		}
	}
	c = Default()
	c.LabelPrefix = "Étiquettes"
	if err := c.Validate(); err != nil {
		t.Errorf("non-ASCII prefix: %v", err)
	}
}
