package config

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// key describes one configuration file key.
type key struct {
	name string
	set  func(c *Config, v string) error
	path bool // a file path: relative values are taken from the file's directory
}

// keys lists every key of the file format, in the order of Config.
var keys = []key{
	{name: "data_dir", set: str(func(c *Config) *string { return &c.DataDir }), path: true},
	{name: "imap_addr", set: str(func(c *Config) *string { return &c.IMAPAddr })},
	{name: "imaps_addr", set: str(func(c *Config) *string { return &c.IMAPSAddr })},
	{name: "lmtp_addr", set: str(func(c *Config) *string { return &c.LMTPAddr })},
	{name: "metrics_addr", set: str(func(c *Config) *string { return &c.MetricsAddr })},
	{name: "hostname", set: str(func(c *Config) *string { return &c.Hostname })},
	{name: "tls_cert_file", set: str(func(c *Config) *string { return &c.TLSCertFile }), path: true},
	{name: "tls_key_file", set: str(func(c *Config) *string { return &c.TLSKeyFile }), path: true},
	{name: "log_level", set: oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{name: "log_format", set: oneOf(func(c *Config) *string { return &c.LogFormat }, "text", "json")},
	{name: "allow_insecure_auth", set: boolean(func(c *Config) *bool { return &c.AllowInsecureAuth })},
	{name: "max_line_length", set: sizeInt(func(c *Config) *int { return &c.MaxLineLength })},
	{name: "max_literal_size", set: size(func(c *Config) *int64 { return &c.MaxLiteralSize })},
	{name: "max_message_size", set: size(func(c *Config) *int64 { return &c.MaxMessageSize })},
	{name: "max_conns_per_ip", set: count(func(c *Config) *int { return &c.MaxConnsPerIP })},
	{name: "idle_timeout", set: duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{name: "lmtp_domains", set: domainList(func(c *Config) *string { return &c.LMTPDomains })},
	{name: "lmtp_max_recipients", set: count(func(c *Config) *int { return &c.LMTPMaxRecipients })},
	{name: "fail_free_attempts", set: count(func(c *Config) *int { return &c.FailFreeAttempts })},
	{name: "fail_base_delay", set: duration(func(c *Config) *time.Duration { return &c.FailBaseDelay })},
	{name: "fail_max_delay", set: duration(func(c *Config) *time.Duration { return &c.FailMaxDelay })},
	{name: "fail_window", set: duration(func(c *Config) *time.Duration { return &c.FailWindow })},
	{name: "oauth_introspection_url", set: str(func(c *Config) *string { return &c.OAuthIntrospectionURL })},
	{name: "oauth_client_id", set: str(func(c *Config) *string { return &c.OAuthClientID })},
	{name: "oauth_client_secret_file", set: str(func(c *Config) *string { return &c.OAuthClientSecretFile }), path: true},
	{name: "oauth_jwt_key_file", set: str(func(c *Config) *string { return &c.OAuthJWTKeyFile }), path: true},
	{name: "oauth_user_claim", set: str(func(c *Config) *string { return &c.OAuthUserClaim })},
	{name: "oauth_audience", set: str(func(c *Config) *string { return &c.OAuthAudience })},
	{name: "label_prefix", set: labelPrefix},
	{name: "label_exclude", set: labelExclude},
}

// Keys returns the names of every configuration file key.
func Keys() []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return names
}

// Load reads the configuration file at path into c, over the values c
// already has. The format is line-based, one "key = value" per line:
//
//	# Comments take whole lines: a '#' after a value is part of the value.
//	data_dir = /var/lib/casier
//	imaps_addr =
//	hostname = "mail.example.org"
//	max_message_size = 50MiB
//	idle_timeout = 30m
//	allow_insecure_auth = false
//
// Keys are the snake_case names of Config's fields (see Keys). An empty
// value is allowed for strings (an empty address disables a listener). A
// value in double quotes follows Go string syntax. Sizes are bytes or a
// number with a KiB, MiB, GiB or TiB suffix; durations use Go syntax (90s,
// 1h30m); booleans are true/false, yes/no, on/off or 1/0. A relative path
// (data_dir, tls_cert_file, tls_key_file) is taken from the file's
// directory. An unknown key, a repeated key or a bad value is an error
// naming the file and line.
func Load(path string, c *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return parse(path, data, c)
}

func parse(path string, data []byte, c *Config) error {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	seen := make(map[string]int)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64*KiB)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s:%d: want key = value", path, n)
		}
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		i := slices.IndexFunc(keys, func(k key) bool { return k.name == name })
		if i < 0 {
			return fmt.Errorf("%s:%d: unknown key %q", path, n, name)
		}
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("%s:%d: %s already set on line %d", path, n, name, prev)
		}
		seen[name] = n
		if strings.HasPrefix(val, `"`) {
			u, err := strconv.Unquote(val)
			if err != nil {
				return fmt.Errorf("%s:%d: %s: bad quoted string %s", path, n, name, val)
			}
			val = u
		}
		k := keys[i]
		if k.path && val != "" && !filepath.IsAbs(val) {
			val = filepath.Join(filepath.Dir(path), val)
		}
		if err := k.set(c, val); err != nil {
			return fmt.Errorf("%s:%d: %s: %v", path, n, name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

func str(f func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

// domainList checks a comma-separated list of domain names (see
// Config.LMTPDomainList); "" is the empty list.
func domainList(f func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		t := Config{LMTPDomains: v}
		if _, err := t.LMTPDomainList(); err != nil {
			return err
		}
		*f(c) = v
		return nil
	}
}

// labelPrefix checks the parent of the label folders (see
// checkLabelPrefix).
func labelPrefix(c *Config, v string) error {
	if err := checkLabelPrefix(v); err != nil {
		return err
	}
	c.LabelPrefix = v
	return nil
}

// labelExclude checks a comma-separated list of keywords; "" is the empty
// list (every keyword is a label), unlike a missing key.
func labelExclude(c *Config, v string) error {
	t := Config{LabelExclude: v, LabelExcludeSet: true}
	if _, err := t.LabelExcludeList(); err != nil {
		return err
	}
	c.LabelExclude, c.LabelExcludeSet = v, true
	return nil
}

func oneOf(f func(*Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("%q: want one of %s", v, strings.Join(allowed, ", "))
		}
		*f(c) = v
		return nil
	}
}

func boolean(f func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := ParseBool(v)
		if err != nil {
			return err
		}
		*f(c) = b
		return nil
	}
}

func size(f func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		*f(c) = n
		return nil
	}
}

func sizeInt(f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		if n > math.MaxInt32 {
			return fmt.Errorf("%q: too large", v)
		}
		*f(c) = int(n)
		return nil
	}
}

func count(f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("%q: want a whole number >= 0", v)
		}
		*f(c) = int(n)
		return nil
	}
}

func duration(f func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q: want a duration such as 30s, 15m or 1h", v)
		}
		if d < 0 {
			return fmt.Errorf("%q: negative duration", v)
		}
		*f(c) = d
		return nil
	}
}

// ParseBool accepts true/false, yes/no, on/off and 1/0, in any case.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q: want true or false", v)
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", KiB}, {"mib", MiB}, {"gib", GiB}, {"tib", 1 << 40}, {"b", 1},
}

// ParseSize parses a byte count: digits, optionally followed (with or
// without a space) by B, KiB, MiB, GiB or TiB in any case. Decimal units
// (KB, MB) are refused rather than guessed.
func ParseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	digits := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(s[len(digits):]))
	mult := int64(-1)
	if unit == "" {
		mult = 1
	}
	for _, u := range sizeUnits {
		if unit == u.suffix {
			mult = u.mult
		}
	}
	if mult < 0 || digits == "" || strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, fmt.Errorf("%q: want a size such as 1048576, 512KiB, 64MiB or 1GiB", v)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: too large", v)
	}
	return n * mult, nil
}
