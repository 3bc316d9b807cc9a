package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"github.com/chatd/chatd/engine/server"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/server/chattest"
	"github.com/gorilla/websocket"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, PEM-encoded.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "chatd test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func TestWSS(t *testing.T) {
	cert, key := selfSigned(t)
	s := chattest.Start(t, func(c *server.Config) { c.Engine.TLSCert = cert; c.Engine.TLSKey = key })
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 5 * time.Second}
	a, _, err := d.Dial("wss://"+s.Addr+"/?userName=Secure", nil)
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer a.Close()
	if err := a.WriteMessage(websocket.TextMessage, []byte(`{"text":"over tls"}`)); err != nil {
		t.Fatal(err)
	}
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, data, err := a.ReadMessage()
		if err != nil {
			t.Fatalf("read over tls: %v", err)
		}
		if bytes.Contains(data, []byte(`"action":"PublicMessage"`)) {
			if !bytes.Contains(data, []byte(`"text":"over tls"`)) {
				t.Fatalf("message %s", data)
			}
			return
		}
	}
}
