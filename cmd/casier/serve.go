package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/casier/casier/internal/auth"
	"github.com/casier/casier/internal/config"
	"github.com/casier/casier/internal/delivery"
	"github.com/casier/casier/internal/imapserver"
	"github.com/casier/casier/internal/store/sqlite"
)

// shutdownGrace is how long sessions get to finish their command after
// SIGTERM or SIGINT before their connections are closed.
const shutdownGrace = 30 * time.Second

func serveUsage(w io.Writer, d config.Config) {
	fmt.Fprintf(w, `Usage: casier serve [flags]

Runs the IMAP server until SIGTERM or SIGINT, then shuts down gracefully
(sessions finish their command and get BYE; at most %v).

Flags (each overrides the configuration file; an address given as ""
disables that listener):
  --config FILE      configuration file, "key = value" lines (default: none)
  --data DIR         data directory: database, mail, TLS certificate
                     (default %q)
  --imap ADDR        IMAP with STARTTLS, host:port (default %q)
  --imaps ADDR       IMAP over TLS, host:port (default %q)
  --lmtp ADDR        LMTP delivery (RFC 2033), host:port or unix:/path
                     (default %q; see docs/delivery.md)
  --hostname NAME    name the self-signed certificate is made for
                     (default: this machine's name, %q)
  --log-level LEVEL  debug, info, warn or error (default %q)
  --log-format FMT   text or json (default %q)
  --metrics ADDR     Prometheus metrics at http://ADDR/metrics, host:port
                     (default: off; see docs/configuration.md, Monitoring)

Without tls_cert_file/tls_key_file in the configuration file, a self-signed
certificate is made on first start in DIR/tls.

Example:
  casier serve --data /var/lib/casier --imap "" --imaps :993
  echo 'secret' | casier user add alice --data /var/lib/casier
`, shutdownGrace, d.DataDir, d.IMAPAddr, d.IMAPSAddr, d.LMTPAddr, d.Hostname, d.LogLevel, d.LogFormat)
}

func cmdServe(args []string, stderr io.Writer) int {
	def := config.Default()
	fs := flag.NewFlagSet("casier serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configFile := fs.String("config", "", "")
	flags := map[string]*string{
		"data":       fs.String("data", def.DataDir, ""),
		"imap":       fs.String("imap", def.IMAPAddr, ""),
		"imaps":      fs.String("imaps", def.IMAPSAddr, ""),
		"lmtp":       fs.String("lmtp", def.LMTPAddr, ""),
		"hostname":   fs.String("hostname", def.Hostname, ""),
		"log-level":  fs.String("log-level", def.LogLevel, ""),
		"log-format": fs.String("log-format", def.LogFormat, ""),
		"metrics":    fs.String("metrics", def.MetricsAddr, ""),
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			serveUsage(os.Stdout, def)
			return 0
		}
		fmt.Fprintf(stderr, "casier serve: %v\nRun 'casier serve --help' for usage.\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "casier serve: unexpected argument %q\nRun 'casier serve --help' for usage.\n", fs.Arg(0))
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
		p, ok := flags[f.Name]
		if !ok {
			return // --config
		}
		v := *p
		switch f.Name {
		case "data":
			cfg.DataDir = v
		case "imap":
			cfg.IMAPAddr = v
		case "imaps":
			cfg.IMAPSAddr = v
		case "lmtp":
			cfg.LMTPAddr = v
		case "hostname":
			cfg.Hostname = v
		case "log-level":
			cfg.LogLevel = v
		case "log-format":
			cfg.LogFormat = v
		case "metrics":
			cfg.MetricsAddr = v
		}
	})
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "casier: invalid configuration: %v\n", err)
		return 1
	}
	if cfg.IMAPAddr == "" && cfg.IMAPSAddr == "" {
		fmt.Fprintln(stderr, "casier: nothing to serve: the IMAP and IMAPS addresses are both empty")
		return 1
	}
	if err := serve(cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "casier: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level, _ := cfg.SlogLevel() // validated
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

type listener struct {
	ln          net.Listener
	kind        string
	implicitTLS bool
}

// serve runs the server until a signal or a listener failure.
func serve(cfg config.Config, stderr io.Writer) (err error) {
	log := newLogger(cfg, stderr)

	// Watch: mail that casier import adds from another process reaches
	// IDLE sessions too.
	st, err := sqlite.Open(cfg.DataDir, withLabels(cfg, sqlite.Options{MaxMessageSize: cfg.MaxMessageSize, Watch: true}))
	if err != nil {
		return fmt.Errorf("opening store in %s: %w", cfg.DataDir, err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing store: %w", cerr)
		}
	}()

	tlsCfg, err := cfg.TLSConfig()
	if err != nil {
		return fmt.Errorf("TLS: %w", err)
	}
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	// Spilled literals of connections that a crash cut short are garbage:
	// nothing refers to them once the process is gone.
	if stale, _ := filepath.Glob(filepath.Join(tmp, "*")); len(stale) > 0 {
		for _, f := range stale {
			os.Remove(f)
		}
		log.Info("removed stale temporary files", "count", len(stale), "dir", tmp)
	}
	a := auth.New(st, auth.ThrottleConfig{
		FreeFailures: cfg.FailFreeAttempts,
		BaseDelay:    cfg.FailBaseDelay,
		MaxDelay:     cfg.FailMaxDelay,
		Window:       cfg.FailWindow,
	}, log)
	tokens, err := auth.NewTokenVerifier(auth.OAuthSettings{
		IntrospectionURL: cfg.OAuthIntrospectionURL,
		ClientID:         cfg.OAuthClientID,
		ClientSecretFile: cfg.OAuthClientSecretFile,
		JWTKeyFile:       cfg.OAuthJWTKeyFile,
		UserClaim:        cfg.OAuthUserClaim,
		Audience:         cfg.OAuthAudience,
	})
	if err != nil {
		return fmt.Errorf("OAuth: %w", err)
	}
	if tokens != nil {
		a.SetTokenVerifier(tokens)
	}
	ms, err := listenMetrics(cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (metrics): %w", cfg.MetricsAddr, err)
	}
	defer ms.close() // for the failures below; shutdown closes it otherwise
	srv := imapserver.New(imapserver.Config{
		Hostname:          cfg.Hostname,
		TLS:               tlsCfg,
		AllowInsecureAuth: cfg.AllowInsecureAuth,
		MaxLineLength:     cfg.MaxLineLength,
		MaxLiteralSize:    cfg.MaxLiteralSize,
		MaxMessageSize:    cfg.MaxMessageSize,
		MaxConnsPerIP:     cfg.MaxConnsPerIP,
		IdleTimeout:       cfg.IdleTimeout,
		TempDir:           tmp,
		Logger:            log,
		Metrics:           ms.metrics(),
	}, st, a)

	// Listen on every address before serving any, so a taken port fails
	// the start instead of leaving a half-running server.
	var lns []listener
	closeAll := func() {
		for _, l := range lns {
			l.ln.Close()
		}
	}
	for _, l := range []struct {
		addr, kind  string
		implicitTLS bool
	}{{cfg.IMAPAddr, "imap", false}, {cfg.IMAPSAddr, "imaps", true}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen on %s (%s): %w", l.addr, l.kind, err)
		}
		lns = append(lns, listener{ln, l.kind, l.implicitTLS})
	}
	if cfg.AllowInsecureAuth {
		log.Warn("allow_insecure_auth is on: passwords may cross the network in clear text")
	}
	if cfg.IdleTimeout < 30*time.Minute {
		// RFC 9051 5.4: the autologout timer must be at least 30 minutes.
		log.Warn("idle_timeout is below the 30 minutes RFC 9051 requires", "idle_timeout", cfg.IdleTimeout)
	}
	var lmtp *delivery.Server
	var lmtpLn net.Listener
	if cfg.LMTPAddr != "" {
		domains, _ := cfg.LMTPDomainList() // validated
		lmtp = delivery.New(delivery.Options{
			Hostname:       cfg.Hostname,
			Domains:        domains,
			MaxMessageSize: cfg.MaxMessageSize,
			MaxRecipients:  cfg.LMTPMaxRecipients,
			TempDir:        tmp,
			Logger:         log,
			Metrics:        ms.metrics(),
		}, st)
		if lmtpLn, err = delivery.Listen(cfg.LMTPAddr); err != nil {
			closeAll()
			return fmt.Errorf("listen on %s (lmtp): %w", cfg.LMTPAddr, err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, len(lns)+1)
	for _, l := range lns {
		log.Info("listening", "addr", l.ln.Addr().String(), "kind", l.kind)
		go func() { errc <- srv.Serve(l.ln, l.implicitTLS) }()
	}
	pending := len(lns)
	if lmtp != nil {
		log.Info("listening", "addr", lmtpLn.Addr().String(), "kind", "lmtp", "size_limit", lmtp.SizeLimit())
		go func() { errc <- lmtp.Serve(lmtpLn) }()
		pending++
	}
	ms.watch(srv, lmtp, st)
	ms.serve(log)
	if users, err := st.Users(ctx); err == nil && len(users) == 0 {
		fmt.Fprintf(stderr, "casier: no users yet; add one with (password on standard input):\n  casier user add --data %s NAME\n", cfg.DataDir)
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", shutdownGrace)
	case serveErr = <-errc:
		pending--
		if serveErr == nil {
			serveErr = errors.New("listener closed")
		}
		log.Error("serving stopped", "err", serveErr)
	}
	// A second signal, with the default handler back, ends the process at once.
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// LMTP and IMAP shut down together: a delivery in progress finishes
	// (and reaches idling sessions) while IMAP sessions end theirs.
	lmtpDone := make(chan struct{})
	go func() {
		defer close(lmtpDone)
		if lmtp == nil {
			return
		}
		if err := lmtp.Shutdown(sctx); err != nil {
			log.Warn("grace period over; remaining LMTP connections closed", "err", err)
		}
	}()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("grace period over; remaining connections closed", "err", err)
	}
	<-lmtpDone
	ms.shutdown(sctx)
	closeAll()
	for ; pending > 0; pending-- {
		if err := <-errc; err != nil && serveErr == nil {
			serveErr = err
		}
	}
	if serveErr != nil {
		return fmt.Errorf("serving: %w", serveErr)
	}
	log.Info("stopped")
	return nil
}

// withLabels adds the label settings to the store options. Every command
// that opens the store passes them (serve, user, import, export): the
// store keeps the label folders under LabelPrefix when it opens, so all
// must agree with the server (docs/labels.md).
func withLabels(cfg config.Config, o sqlite.Options) sqlite.Options {
	o.LabelPrefix = cfg.LabelPrefix
	// Checked by config.Load and Validate; a bad list cannot get here.
	o.LabelExclude, _ = cfg.LabelExcludeList()
	return o
}
