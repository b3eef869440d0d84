package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Self-signed certificate settings.
const (
	selfSignedValidity = 10 * 365 * 24 * time.Hour
	// renewBefore: a generated certificate this close to expiry is replaced
	// at start-up rather than left to lapse while the server runs.
	renewBefore = 30 * 24 * time.Hour
)

// SelfSignedPaths returns where TLSConfig keeps the generated certificate
// and key: DataDir/tls/cert.pem and DataDir/tls/key.pem.
func (c *Config) SelfSignedPaths() (certFile, keyFile string) {
	dir := filepath.Join(c.DataDir, "tls")
	return filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
}

// TLSConfig returns the server TLS configuration (TLS 1.2 at least).
//
// With TLSCertFile and TLSKeyFile set, it serves that pair and re-reads the
// files when they change on disk, so a renewed certificate is picked up
// without a restart. Otherwise it serves a self-signed ECDSA P-256
// certificate for Hostname, localhost, 127.0.0.1 and ::1, valid 10 years,
// generated on first start into DataDir/tls (key mode 0600) and reused
// after; it is generated anew if it no longer covers Hostname or is within
// 30 days of expiry.
func (c *Config) TLSConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLSCertFile != "" || c.TLSKeyFile != "" {
		if c.TLSCertFile == "" || c.TLSKeyFile == "" {
			return nil, errors.New("tls_cert_file and tls_key_file must be set together")
		}
		r, err := newReloader(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, err
		}
		tc.GetCertificate = r.get
		return tc, nil
	}
	cert, err := c.selfSigned(time.Now())
	if err != nil {
		return nil, err
	}
	tc.Certificates = []tls.Certificate{cert}
	return tc, nil
}

func (c *Config) selfSigned(now time.Time) (tls.Certificate, error) {
	certFile, keyFile := c.SelfSignedPaths()
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("loading generated TLS certificate (delete %s to make a new one): %w", filepath.Dir(certFile), err)
		}
		leaf := cert.Leaf
		if now.Before(leaf.NotAfter.Add(-renewBefore)) && !now.Before(leaf.NotBefore) && leaf.VerifyHostname(c.Hostname) == nil {
			return cert, nil
		}
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
	case certErr != nil && !errors.Is(certErr, fs.ErrNotExist):
		return tls.Certificate{}, certErr
	case keyErr != nil && !errors.Is(keyErr, fs.ErrNotExist):
		return tls.Certificate{}, keyErr
	default:
		return tls.Certificate{}, fmt.Errorf("%s holds only one of cert.pem and key.pem; delete it to make a new pair", filepath.Dir(certFile))
	}
	certPEM, keyPEM, err := generateSelfSigned(c.Hostname, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return tls.Certificate{}, err
	}
	// The key first: a crash between the writes leaves a key without a
	// certificate, reported above, never a certificate with a stale key.
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func generateSelfSigned(host string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"Casier self-signed"}},
		NotBefore:             now.Add(-time.Hour), // tolerate clients whose clock is a little behind
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	} else if host != "localhost" {
		tmpl.DNSNames = append([]string{host}, tmpl.DNSNames...)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	return certPEM, keyPEM, nil
}

// writeFileAtomic writes data to a temporary file with mode perm in the
// same directory, syncs it, and renames it over name.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// reloadCheckInterval is how often the configured certificate files are
// checked for changes (one stat each); tests set it to 0.
var reloadCheckInterval = 10 * time.Second

// reloader serves a certificate pair from files and reloads it when either
// file's modification time or size changes. A failed reload keeps the
// previous pair: a half-written renewal must not break the running server.
type reloader struct {
	certFile, keyFile string

	mu       sync.Mutex
	cert     *tls.Certificate
	stamp    [2]fileStamp
	lastScan time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func (a fileStamp) same(b fileStamp) bool { return a.mod.Equal(b.mod) && a.size == b.size }

func stampOf(name string) (fileStamp, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

func newReloader(certFile, keyFile string) (*reloader, error) {
	r := &reloader{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reloader) load() error {
	s0, err := stampOf(r.certFile)
	if err != nil {
		return err
	}
	s1, err := stampOf(r.keyFile)
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("loading TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &cert, [2]fileStamp{s0, s1}
	return nil
}

func (r *reloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.lastScan) >= reloadCheckInterval {
		r.lastScan = now
		s0, err0 := stampOf(r.certFile)
		s1, err1 := stampOf(r.keyFile)
		if err0 == nil && err1 == nil && (!s0.same(r.stamp[0]) || !s1.same(r.stamp[1])) {
			_ = r.load() // on error keep serving the previous pair
		}
	}
	return r.cert, nil
}
