package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func leafOf(t *testing.T, tc *tls.Config) *x509.Certificate {
	t.Helper()
	var cert *tls.Certificate
	if tc.GetCertificate != nil {
		var err error
		if cert, err = tc.GetCertificate(&tls.ClientHelloInfo{}); err != nil {
			t.Fatal(err)
		}
	} else {
		if len(tc.Certificates) != 1 {
			t.Fatalf("%d certificates", len(tc.Certificates))
		}
		cert = &tc.Certificates[0]
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestTLSSelfSignedGenerateAndReuse(t *testing.T) {
	c := Default()
	c.DataDir = t.TempDir()
	c.Hostname = "mail.example.org"
	start := time.Now()
	tc, err := c.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x, want TLS 1.2", tc.MinVersion)
	}
	leaf := leafOf(t, tc)
	if !slices.Equal(leaf.DNSNames, []string{"mail.example.org", "localhost"}) {
		t.Errorf("DNSNames %v", leaf.DNSNames)
	}
	if len(leaf.IPAddresses) != 2 || !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || !leaf.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("IPAddresses %v", leaf.IPAddresses)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if d := leaf.NotAfter.Sub(start); d < selfSignedValidity-time.Minute || d > selfSignedValidity+time.Minute {
		t.Errorf("valid for %v, want 10 years", d)
	}
	certFile, keyFile := c.SelfSignedPaths()
	if certFile != filepath.Join(c.DataDir, "tls", "cert.pem") || keyFile != filepath.Join(c.DataDir, "tls", "key.pem") {
		t.Fatalf("paths %s %s", certFile, keyFile)
	}
	for name, want := range map[string]os.FileMode{keyFile: 0o600, certFile: 0o644, filepath.Dir(keyFile): 0o700 | os.ModeDir} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode %v, want %v", name, fi.Mode(), want)
		}
	}
	certPEM, _ := os.ReadFile(certFile)

	// Second start: the same certificate, files untouched.
	tc2, err := c.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(leafOf(t, tc2).Raw, leaf.Raw) {
		t.Error("certificate not reused")
	}
	if again, _ := os.ReadFile(certFile); !bytes.Equal(again, certPEM) {
		t.Error("cert.pem rewritten")
	}
	entries, _ := os.ReadDir(filepath.Dir(certFile))
	if len(entries) != 2 {
		t.Errorf("tls dir holds %d files, want 2 (temporary files left?)", len(entries))
	}

	// A client trusting cert.pem completes a handshake for localhost.
	handshake(t, tc2, certPEM, "localhost")
	handshake(t, tc2, certPEM, "mail.example.org")
}

func handshake(t *testing.T, server *tls.Config, rootPEM []byte, name string) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatal("bad root PEM")
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	errc := make(chan error, 1)
	go func() { errc <- tls.Server(a, server).Handshake() }()
	cl := tls.Client(b, &tls.Config{RootCAs: roots, ServerName: name})
	if err := cl.Handshake(); err != nil {
		t.Fatalf("client handshake for %s: %v", name, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
}

func TestTLSSelfSignedRenewed(t *testing.T) {
	c := Default()
	c.DataDir = t.TempDir()
	c.Hostname = "a.example"
	now := time.Now()
	first, err := c.selfSigned(now)
	if err != nil {
		t.Fatal(err)
	}
	// Hostname changed: a new certificate covers it.
	c.Hostname = "b.example"
	second, err := c.selfSigned(now)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first.Certificate[0], second.Certificate[0]) || second.Leaf.VerifyHostname("b.example") != nil {
		t.Fatal("certificate not regenerated for the new hostname")
	}
	// Still valid long enough: reused.
	third, err := c.selfSigned(now.Add(selfSignedValidity - 31*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(third.Certificate[0], second.Certificate[0]) {
		t.Fatal("certificate replaced more than 30 days before expiry")
	}
	// Within 30 days of expiry: replaced.
	fourth, err := c.selfSigned(now.Add(selfSignedValidity - 29*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(fourth.Certificate[0], second.Certificate[0]) {
		t.Fatal("certificate near expiry not replaced")
	}
}

func TestTLSSelfSignedIPHostname(t *testing.T) {
	c := Default()
	c.DataDir = t.TempDir()
	c.Hostname = "192.0.2.7"
	tc, err := c.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	leaf := leafOf(t, tc)
	if len(leaf.IPAddresses) != 3 || !leaf.IPAddresses[2].Equal(net.ParseIP("192.0.2.7")) || !slices.Equal(leaf.DNSNames, []string{"localhost"}) {
		t.Fatalf("IPs %v, names %v", leaf.IPAddresses, leaf.DNSNames)
	}
}

func TestTLSSelfSignedHalfPair(t *testing.T) {
	c := Default()
	c.DataDir = t.TempDir()
	if _, err := c.TLSConfig(); err != nil {
		t.Fatal(err)
	}
	_, keyFile := c.SelfSignedPaths()
	os.Remove(keyFile)
	if _, err := c.TLSConfig(); err == nil || !strings.Contains(err.Error(), "only one of cert.pem and key.pem") {
		t.Fatalf("TLSConfig with cert but no key = %v", err)
	}
}

func TestTLSConfiguredFilesReloaded(t *testing.T) {
	saved := reloadCheckInterval
	reloadCheckInterval = 0
	defer func() { reloadCheckInterval = saved }()

	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writePair := func(host string, mtime time.Time) []byte {
		certPEM, keyPEM, err := generateSelfSigned(host, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
			if err := os.WriteFile(name, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(name, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		return certPEM
	}
	base := time.Now().Add(-time.Hour)
	writePair("one.example", base)

	c := Default()
	c.DataDir = filepath.Join(dir, "data")
	c.TLSCertFile, c.TLSKeyFile = certFile, keyFile
	tc, err := c.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x", tc.MinVersion)
	}
	if leafOf(t, tc).Subject.CommonName != "one.example" {
		t.Fatal("configured certificate not served")
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "tls")); !os.IsNotExist(err) {
		t.Error("self-signed certificate generated although one is configured")
	}

	writePair("two.example", base.Add(time.Minute))
	if cn := leafOf(t, tc).Subject.CommonName; cn != "two.example" {
		t.Fatalf("after renewal serving %s", cn)
	}
	// A broken file keeps the last good pair in service.
	os.WriteFile(certFile, []byte("garbage"), 0o600)
	if cn := leafOf(t, tc).Subject.CommonName; cn != "two.example" {
		t.Fatalf("after broken write serving %s", cn)
	}

	c.TLSKeyFile = filepath.Join(dir, "missing.pem")
	if _, err := c.TLSConfig(); err == nil {
		t.Fatal("TLSConfig with a missing key file: no error")
	}
	c.TLSKeyFile = ""
	if _, err := c.TLSConfig(); err == nil {
		t.Fatal("TLSConfig with only a certificate file: no error")
	}
}
