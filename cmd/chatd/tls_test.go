package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, PEM-encoded.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "chatd test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestDaemonWithTLSOnPortZero: start -d with TLS on port 0 finds its child at the
// address it bound (from the run file) over https, status finds it through the pid
// file, and the startup log names the https URL.
func TestDaemonWithTLSOnPortZero(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	out, err := chatd(t, dir, "start", "-d", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key,
		"--data-dir", "", "--log-level", "info").CombinedOutput()
	if err != nil {
		t.Fatalf("start -d with TLS: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = chatd(t, dir, "stop").Run() })
	info, err := readRunInfo(filepath.Join(dir, "chatd.args"))
	if err != nil || info == nil || !info.TLS || strings.HasSuffix(info.Listen, ":0") {
		t.Fatalf("run file: %+v %v", info, err)
	}
	out, err = chatd(t, dir, "status").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "listen       "+info.Listen) {
		t.Fatalf("status over https: %v\n%s", err, out)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "chatd.log")); !strings.Contains(string(log), "url=https://"+info.Listen+"/") {
		t.Errorf("the log does not name https://%s/:\n%s", info.Listen, log)
	}
}

// TestDaemonBehindAStatusToken: start -d finds its child through a /status that needs
// --status-token, and status finds it with the token from the environment.
func TestDaemonBehindAStatusToken(t *testing.T) {
	dir := t.TempDir()
	out, err := chatd(t, dir, "start", "-d", "--listen", "127.0.0.1:0", "--data-dir", "", "--status-token", "tok-123").CombinedOutput()
	if err != nil {
		t.Fatalf("start -d with --status-token: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = chatd(t, dir, "stop").Run() })
	if out, err := chatd(t, dir, "status").CombinedOutput(); err == nil || !strings.Contains(string(out), "--status-token") {
		t.Fatalf("status without the token: %v\n%s", err, out)
	}
	cmd := chatd(t, dir, "status")
	cmd.Env = append(cmd.Env, "CHATD_STATUS_TOKEN=tok-123")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "connections") {
		t.Fatalf("status with the token: %v\n%s", err, out)
	}
}
