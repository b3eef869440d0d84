// Package config holds every setting of a Casier server, their defaults,
// and the parser of Casier's configuration file (see Load).
//
// Precedence, applied by the command line: Default, then the file, then
// flags given explicitly.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Config is the whole server configuration. The file key of each field is
// its snake_case name (see keys in load.go).
type Config struct {
	DataDir string // database, message bodies, generated TLS certificate

	// Listener addresses, host:port; empty disables the listener.
	IMAPAddr    string // IMAP with STARTTLS
	IMAPSAddr   string // IMAP over implicit TLS
	LMTPAddr    string // LMTP delivery (RFC 2033); also "unix:/path/to/socket"
	MetricsAddr string // Prometheus metrics over HTTP at /metrics (docs/configuration.md, Monitoring)

	Hostname    string // name the self-signed certificate is made for
	TLSCertFile string // PEM chain; with TLSKeyFile, replaces the self-signed one
	TLSKeyFile  string

	LogLevel  string // debug, info, warn, error
	LogFormat string // text, json

	// AllowInsecureAuth permits plaintext LOGIN and AUTHENTICATE PLAIN
	// without TLS from non-loopback clients (RFC 9051 11.1 wants TLS).
	AllowInsecureAuth bool

	MaxLineLength  int           // bytes of a command line, literals excluded
	MaxLiteralSize int64         // bytes of one literal in a command other than APPEND
	MaxMessageSize int64         // bytes of one message (RFC 7889 APPENDLIMIT)
	MaxConnsPerIP  int           // concurrent connections from one client address
	IdleTimeout    time.Duration // RFC 9051 5.4: at least 30 minutes

	// LMTP delivery (see package delivery). LMTPDomains lists the domains
	// whose addresses map to accounts by local part, comma separated, as
	// the file gives them (see LMTPDomainList); empty accepts any domain.
	// A string, not a slice, so that Config stays comparable.
	LMTPDomains       string
	LMTPMaxRecipients int // RCPT commands accepted per transaction

	// Login throttling (see package auth).
	FailFreeAttempts int
	FailBaseDelay    time.Duration
	FailMaxDelay     time.Duration
	FailWindow       time.Duration

	// OAuth 2.0 bearer tokens for AUTHENTICATE OAUTHBEARER and XOAUTH2
	// (see package auth): either an introspection endpoint (RFC 7662) or
	// a shared HS256 key for JWTs; neither set: not offered.
	OAuthIntrospectionURL string
	OAuthClientID         string // HTTP Basic credentials for the endpoint
	OAuthClientSecretFile string
	OAuthJWTKeyFile       string
	OAuthUserClaim        string // claim naming the user; "": sub (JWT), username then sub (introspection)
	OAuthAudience         string // JWT: required "aud" value; "": not checked

	// Labels (docs/labels.md). LabelPrefix is the \Noselect parent of the
	// label folders. LabelExclude lists the keywords that are not labels,
	// comma separated, as the file gives them (see LabelExcludeList); it
	// counts only when LabelExcludeSet, else the engine's built-in list
	// applies. Strings, not a slice, so that Config stays comparable.
	LabelPrefix     string
	LabelExclude    string
	LabelExcludeSet bool
}

// Sizes.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// Default returns the built-in defaults.
func Default() Config {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return Config{
		DataDir:        "./casier-data",
		IMAPAddr:       ":1143",
		IMAPSAddr:      ":1993",
		LMTPAddr:       "127.0.0.1:1024",
		Hostname:       host,
		LogLevel:       "info",
		LogFormat:      "text",
		MaxLineLength:  64 * KiB,
		MaxLiteralSize: 64 * KiB,
		MaxMessageSize: 64 * MiB,
		MaxConnsPerIP:  50,
		// RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted.
		LMTPMaxRecipients: 1000,
		IdleTimeout:       30 * time.Minute,
		FailFreeAttempts:  3,
		FailBaseDelay:     time.Second,
		FailMaxDelay:      30 * time.Second,
		FailWindow:        15 * time.Minute,
		LabelPrefix:       "Labels",
	}
}

// minLineLength is the floor for MaxLineLength: RFC 7162 4 asks servers to
// accept command lines of at least 8192 octets; below 1024 even a plain
// UID FETCH of a few ranges would fail.
const minLineLength = 1024

// Validate checks the settings together; Load checks each value's syntax.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DataDir == "" {
		add("data_dir is empty")
	}
	for _, a := range []struct{ key, v string }{
		{"imap_addr", c.IMAPAddr}, {"imaps_addr", c.IMAPSAddr},
		{"lmtp_addr", c.LMTPAddr}, {"metrics_addr", c.MetricsAddr},
	} {
		if err := checkAddr(a.v); err != nil {
			add("%s: %v", a.key, err)
		}
	}
	if c.Hostname == "" {
		add("hostname is empty")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		add("tls_cert_file and tls_key_file must be set together")
	}
	if _, err := c.SlogLevel(); err != nil {
		add("%v", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		add("log_format %q: want text or json", c.LogFormat)
	}
	if c.MaxLineLength < minLineLength {
		add("max_line_length %d: want at least %d", c.MaxLineLength, minLineLength)
	}
	if c.MaxLiteralSize <= 0 {
		add("max_literal_size must be positive")
	}
	if c.MaxMessageSize <= 0 {
		add("max_message_size must be positive")
	}
	if c.MaxConnsPerIP <= 0 {
		add("max_conns_per_ip must be positive")
	}
	if c.LMTPMaxRecipients < 100 {
		// RFC 5321 4.5.3.1.8.
		add("lmtp_max_recipients %d: want at least 100", c.LMTPMaxRecipients)
	}
	if _, err := c.LMTPDomainList(); err != nil {
		add("lmtp_domains: %v", err)
	}
	if c.IdleTimeout <= 0 {
		add("idle_timeout must be positive")
	}
	if c.FailFreeAttempts < 0 {
		add("fail_free_attempts must not be negative")
	}
	if c.FailBaseDelay < 0 || c.FailMaxDelay < 0 {
		add("fail_base_delay and fail_max_delay must not be negative")
	}
	if c.FailMaxDelay < c.FailBaseDelay {
		add("fail_max_delay %v is less than fail_base_delay %v", c.FailMaxDelay, c.FailBaseDelay)
	}
	if c.FailWindow <= 0 {
		add("fail_window must be positive")
	}
	if c.OAuthIntrospectionURL != "" && c.OAuthJWTKeyFile != "" {
		add("oauth_introspection_url and oauth_jwt_key_file are exclusive")
	}
	if c.OAuthIntrospectionURL != "" {
		if err := checkIntrospectionURL(c.OAuthIntrospectionURL); err != nil {
			add("oauth_introspection_url: %v", err)
		}
	}
	if (c.OAuthClientID == "") != (c.OAuthClientSecretFile == "") {
		add("oauth_client_id and oauth_client_secret_file must be set together")
	}
	if err := checkLabelPrefix(c.LabelPrefix); err != nil {
		add("label_prefix: %v", err)
	}
	if _, err := c.LabelExcludeList(); err != nil {
		add("label_exclude: %v", err)
	}
	return errors.Join(errs...)
}

// checkIntrospectionURL wants https, or http to a loopback host only:
// every login sends a bearer token there.
func checkIntrospectionURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("%q: http is allowed for loopback hosts only; use https", s)
	}
	return fmt.Errorf("%q: want an https URL", s)
}

// checkAddr accepts "" (disabled), host:port with a numeric port, or (for
// the LMTP listener) "unix:" and an absolute socket path.
func checkAddr(a string) error {
	if a == "" {
		return nil
	}
	if path, ok := strings.CutPrefix(a, "unix:"); ok {
		if !strings.HasPrefix(path, "/") {
			return fmt.Errorf("address %q: a unix socket path must be absolute", a)
		}
		return nil
	}
	_, port, err := net.SplitHostPort(a)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("address %q: port must be a number 0-65535", a)
	}
	return nil
}

// LMTPDomainList returns LMTPDomains split at commas, trimmed, in lower
// case, without duplicates; nil when it is empty.
func (c *Config) LMTPDomainList() ([]string, error) {
	if strings.TrimSpace(c.LMTPDomains) == "" {
		return nil, nil
	}
	var out []string
	for _, d := range strings.Split(c.LMTPDomains, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if err := checkDomain(d); err != nil {
			return nil, err
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// checkDomain accepts a lower-case domain name made of letters, digits,
// '-', '.' and (for internationalised names) non-ASCII UTF-8.
func checkDomain(d string) error {
	if d == "" || len(d) > 255 || d[0] == '.' || d[len(d)-1] == '.' || strings.Contains(d, "..") {
		return fmt.Errorf("%q is not a domain name", d)
	}
	for _, r := range d {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r > 0x7f:
		default:
			return fmt.Errorf("%q is not a lower-case domain name", d)
		}
	}
	return nil
}

// checkLabelPrefix accepts a one-level mailbox name other than INBOX: the
// label folders are "<prefix>/<keyword>", so a '/' would put them deeper
// than clients expect, and INBOX's children are ordinary folders.
func checkLabelPrefix(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case len(p) > 255:
		return fmt.Errorf("%q: longer than 255 bytes", p)
	case !utf8.ValidString(p):
		return fmt.Errorf("%q: not UTF-8", p)
	case strings.ContainsRune(p, '/'):
		return fmt.Errorf("%q: must be one level, without '/'", p)
	case strings.ContainsAny(p, "%*"):
		return fmt.Errorf("%q: contains a LIST wildcard (%% or *)", p)
	case strings.EqualFold(p, "INBOX"):
		return fmt.Errorf("%q: INBOX is reserved", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%q: contains a control character", p)
		}
	}
	return nil
}

// LabelExcludeList returns the keywords that are not labels: nil when
// label_exclude was not given (the engine's built-in list applies), an
// empty slice when it was given empty (every keyword is a label).
func (c *Config) LabelExcludeList() ([]string, error) {
	if !c.LabelExcludeSet {
		return nil, nil
	}
	out := []string{}
	if strings.TrimSpace(c.LabelExclude) == "" {
		return out, nil
	}
	for _, k := range strings.Split(c.LabelExclude, ",") {
		k = strings.TrimSpace(k)
		if err := checkKeyword(k); err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, k) }) {
			out = append(out, k)
		}
	}
	return out, nil
}

// checkKeyword accepts an IMAP keyword (RFC 9051 9: flag-keyword is an
// atom; atom-specials are ( ) { SP CTL % * " \ ]), which is what a label
// is.
func checkKeyword(k string) error {
	if k == "" {
		return errors.New("empty keyword in the list")
	}
	if len(k) > 255 {
		return fmt.Errorf("keyword %q: longer than 255 bytes", k)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return fmt.Errorf("%q is not an IMAP keyword", k)
		}
	}
	return nil
}

// SlogLevel returns LogLevel as a slog.Level.
func (c *Config) SlogLevel() (slog.Level, error) {
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel)
}
