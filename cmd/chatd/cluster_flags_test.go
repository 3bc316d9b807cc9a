package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/engine/chat"
	"github.com/chatd/chatd/engine/cluster"
)

// TestClusterFlags: --nats (comma-separated, repeated or CHATD_NATS) makes the server a
// cluster node with the credentials, TLS files, name and replicas given, and a node
// TTL of --ping-interval × --ping-max-missed; without --nats there is no cluster, and a
// cluster flag alone or a value NATS could not use is refused naming its flag.
func TestClusterFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(*testing.T, *cluster.Config)
	}{
		{name: "none", check: func(t *testing.T, c *cluster.Config) {
			if c != nil {
				t.Errorf("no --nats: Cluster %+v, want nil", c)
			}
		}},
		{name: "comma-separated", args: []string{"--nats", "nats://a:4222,nats://b:4222"}, check: func(t *testing.T, c *cluster.Config) {
			if strings.Join(c.NATS.URLs, " ") != "nats://a:4222 nats://b:4222" || c.Replicas != 1 || c.NodeName != "" {
				t.Errorf("cluster %+v", c)
			}
			if d := chat.DefaultConfig(); c.NodeTTL != d.PingInterval*time.Duration(d.PingMaxMissed) {
				t.Errorf("NodeTTL %v, want --ping-interval × --ping-max-missed (%v × %d)", c.NodeTTL, d.PingInterval, d.PingMaxMissed)
			}
		}},
		{name: "repeated", args: []string{"--nats", "nats://a:4222", "--nats", "tls://b:4222"}, check: func(t *testing.T, c *cluster.Config) {
			if strings.Join(c.NATS.URLs, " ") != "nats://a:4222 tls://b:4222" {
				t.Errorf("URLs %v", c.NATS.URLs)
			}
		}},
		{name: "everything", args: []string{"--nats", "nats://a:4222", "--nats-creds", "n.creds", "--nats-nkey", "seed.nk",
			"--nats-user", "chat", "--nats-ca", "ca.pem", "--nats-cert", "c.pem", "--nats-key", "k.pem", "--node-name", "box1-3",
			"--nats-replicas", "3", "--ping-interval", "2s", "--ping-max-missed", "4"},
			env: map[string]string{"CHATD_NATS_PASSWORD": "pw", "CHATD_NATS_TOKEN": "tok"},
			check: func(t *testing.T, c *cluster.Config) {
				want := cluster.NATSConfig{URLs: []string{"nats://a:4222"}, CredsFile: "n.creds", NKeySeedFile: "seed.nk",
					User: "chat", Password: "pw", Token: "tok", CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem"}
				if strings.Join(c.NATS.URLs, ",") != "nats://a:4222" || c.NATS.CredsFile != want.CredsFile || c.NATS.NKeySeedFile != want.NKeySeedFile ||
					c.NATS.User != want.User || c.NATS.Password != want.Password || c.NATS.Token != want.Token ||
					c.NATS.CAFile != want.CAFile || c.NATS.CertFile != want.CertFile || c.NATS.KeyFile != want.KeyFile {
					t.Errorf("NATS %+v, want %+v", c.NATS, want)
				}
				if c.NodeName != "box1-3" || c.Replicas != 3 || c.NodeTTL != 8*time.Second {
					t.Errorf("node %q replicas %d ttl %v", c.NodeName, c.Replicas, c.NodeTTL)
				}
			}},
		{name: "by env", env: map[string]string{"CHATD_NATS": "nats://a:4222,nats://b:4222", "CHATD_NODE_NAME": "n7", "CHATD_NATS_REPLICAS": "3"},
			check: func(t *testing.T, c *cluster.Config) {
				if len(c.NATS.URLs) != 2 || c.NodeName != "n7" || c.Replicas != 3 {
					t.Errorf("cluster %+v", c)
				}
			}},
		{name: "empty env", env: map[string]string{"CHATD_NATS": ""}, check: func(t *testing.T, c *cluster.Config) {
			if c != nil {
				t.Errorf("CHATD_NATS empty: Cluster %+v, want nil", c)
			}
		}},
		{name: "spaces", args: []string{"--nats", "nats://a:4222, nats://b:4222"}, check: func(t *testing.T, c *cluster.Config) {
			if strings.Join(c.NATS.URLs, " ") != "nats://a:4222 nats://b:4222" {
				t.Errorf("URLs %q", c.NATS.URLs)
			}
		}},
		{name: "no data dir", args: []string{"--nats", "nats://a:4222", "--data-dir", ""}, wantErr: "--data-dir"},
		{name: "replicas alone", args: []string{"--nats-replicas", "3"}, wantErr: "--nats-replicas: needs --nats"},
		{name: "node name alone", env: map[string]string{"CHATD_NODE_NAME": "n1"}, wantErr: "--node-name: needs --nats"},
		{name: "bad scheme", args: []string{"--nats", "http://a:4222"}, wantErr: "--nats"},
		{name: "no host", args: []string{"--nats", "nats://"}, wantErr: "--nats"},
		{name: "bad name", args: []string{"--nats", "nats://a:4222", "--node-name", "a b"}, wantErr: "--node-name"},
		{name: "zero replicas", args: []string{"--nats", "nats://a:4222", "--nats-replicas", "0"}, wantErr: "--nats-replicas"},
		{name: "six replicas", args: []string{"--nats", "nats://a:4222", "--nats-replicas", "6"}, wantErr: "--nats-replicas"},
		{name: "cert without key", args: []string{"--nats", "nats://a:4222", "--nats-cert", "c.pem"}, wantErr: "--nats-cert"},
		{name: "password without user", args: []string{"--nats", "nats://a:4222", "--nats-password", "pw"}, wantErr: "--nats-password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			s, err := parse(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%v: want an error with %q, got %v", tt.args, tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v: %v", tt.args, err)
			}
			tt.check(t, s.Cluster)
		})
	}
}

// TestReusePortFlag: --reuse-port and CHATD_REUSE_PORT set the engine's ReusePort;
// it is off by default.
func TestReusePortFlag(t *testing.T) {
	if s, err := parse(t); err != nil || s.Engine.ReusePort {
		t.Fatalf("default: ReusePort %v, %v", s.Engine.ReusePort, err)
	}
	if s, err := parse(t, "--reuse-port"); err != nil || !s.Engine.ReusePort {
		t.Fatalf("--reuse-port: ReusePort %v, %v", s.Engine.ReusePort, err)
	}
	t.Setenv("CHATD_REUSE_PORT", "true")
	if s, err := parse(t); err != nil || !s.Engine.ReusePort {
		t.Fatalf("CHATD_REUSE_PORT=true: ReusePort %v, %v", s.Engine.ReusePort, err)
	}
}

// TestEchoRefusesNATS: chatd echo is the raw engine; --nats there is a mistake.
func TestEchoRefusesNATS(t *testing.T) {
	out, err := chatd(t, t.TempDir(), "echo", "--listen", "127.0.0.1:0", "--nats", "nats://127.0.0.1:1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--nats") {
		t.Fatalf("echo --nats: %v %s", err, out)
	}
}
