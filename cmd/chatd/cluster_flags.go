package main

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// natsOnly are the flags that mean something only with --nats.
var natsOnly = []string{"nats-creds", "nats-nkey", "nats-user", "nats-password", "nats-token",
	"nats-ca", "nats-cert", "nats-key", "node-name", "nats-replicas"}

// maxReplicas is JetStream's limit on a stream's replicas.
const maxReplicas = 5

// clusterFlags make a server a cluster node on NATS JetStream (docs/CLUSTER.md),
// bound to s.cluster; without --nats none is used and chatd is the single-node server.
func clusterFlags(s *settings) []cli.Flag {
	n := &s.cluster.NATS
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "nats", Destination: &s.nats, EnvVars: env("NATS"), Usage: "NATS server `URLs` (nats://host:4222, comma-separated or repeated; tls:// for TLS): run as a node of the cluster on them (needs JetStream and a --data-dir); empty: a single node"},
		&cli.StringFlag{Name: "nats-creds", Destination: &n.CredsFile, EnvVars: env("NATS_CREDS"), Usage: "NATS credentials `file` (.creds: JWT and NKey seed)"},
		&cli.StringFlag{Name: "nats-nkey", Destination: &n.NKeySeedFile, EnvVars: env("NATS_NKEY"), Usage: "NATS NKey seed `file`"},
		&cli.StringFlag{Name: "nats-user", Destination: &n.User, EnvVars: env("NATS_USER"), Usage: "NATS user name (with --nats-password)"},
		&cli.StringFlag{Name: "nats-password", Destination: &n.Password, EnvVars: env("NATS_PASSWORD"), Usage: "NATS password (better in CHATD_NATS_PASSWORD than on the command line)"},
		&cli.StringFlag{Name: "nats-token", Destination: &n.Token, EnvVars: env("NATS_TOKEN"), Usage: "NATS token (better in CHATD_NATS_TOKEN than on the command line)"},
		&cli.StringFlag{Name: "nats-ca", Destination: &n.CAFile, EnvVars: env("NATS_CA"), Usage: "PEM `file` of the CAs that signed the NATS servers' certificates"},
		&cli.StringFlag{Name: "nats-cert", Destination: &n.CertFile, EnvVars: env("NATS_CERT"), Usage: "PEM client certificate `file` for NATS (with --nats-key)"},
		&cli.StringFlag{Name: "nats-key", Destination: &n.KeyFile, EnvVars: env("NATS_KEY"), Usage: "PEM private key `file` of --nats-cert"},
		&cli.StringFlag{Name: "node-name", Destination: &s.cluster.NodeName, EnvVars: env("NODE_NAME"), Usage: "this node's name, unique in the cluster: letters, digits, - _ = . (default: host and pid)"},
		&cli.IntFlag{Name: "nats-replicas", Value: 1, Destination: &s.cluster.Replicas, EnvVars: env("NATS_REPLICAS"), Usage: "replicas of the cluster's JetStream stream and buckets: 1, or 3 on a NATS cluster of 3 (a Sent then survives losing one NATS machine)"},
	}
}

// validNodeName: a node's name is a NATS KV key and, mapped, a subject token.
var validNodeName = regexp.MustCompile(`^[A-Za-z0-9_=.-]{1,64}$`)

// finishCluster makes s a cluster node when --nats is given, or checks that no
// cluster flag is, so a mistyped deployment does not quietly run a single node.
func (s *settings) finishCluster(c *cli.Context) error {
	var urls []string
	for _, u := range s.nats.Value() {
		if u = strings.TrimSpace(u); u != "" { // CHATD_NATS= is no cluster
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		for _, name := range natsOnly {
			if c.IsSet(name) {
				return fmt.Errorf("--%s: needs --nats", name)
			}
		}
		return nil
	}
	var errs []error
	for _, u := range urls {
		if err := checkNATSURL(u); err != nil {
			errs = append(errs, err)
		}
	}
	cc := s.cluster
	if cc.NodeName != "" && !validNodeName.MatchString(cc.NodeName) {
		errs = append(errs, fmt.Errorf("--node-name: want 1..64 of letters, digits, - _ = ., got %q", cc.NodeName))
	}
	if cc.Replicas < 1 || cc.Replicas > maxReplicas {
		errs = append(errs, fmt.Errorf("--nats-replicas: want 1..%d, got %d", maxReplicas, cc.Replicas))
	}
	if (cc.NATS.CertFile == "") != (cc.NATS.KeyFile == "") {
		errs = append(errs, errors.New("--nats-cert: --nats-cert and --nats-key go together"))
	}
	if cc.NATS.Password != "" && cc.NATS.User == "" {
		errs = append(errs, errors.New("--nats-password: needs --nats-user"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	cc.NATS.URLs = urls
	// A dead node's users turn ConnectionLost on the others when its liveness key
	// expires: after the time they would have taken to miss their Pings.
	cc.NodeTTL = s.Chat.PingInterval * time.Duration(max(s.Chat.PingMaxMissed, 0))
	s.Config.Cluster = &cc
	return nil
}

// checkNATSURL: a server URL nats.go can dial.
func checkNATSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--nats: want nats://host:port, got %q", raw)
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
		return nil
	}
	return fmt.Errorf("--nats: want a nats://, tls://, ws:// or wss:// URL, got %q", raw)
}
