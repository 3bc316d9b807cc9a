package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSConfig is how a node reaches NATS: the server URLs and what nats.go supports
// to authenticate and encrypt. Empty fields are not used.
type NATSConfig struct {
	URLs []string // nats://host:4222, tls://host:4222, …

	CredsFile    string // a .creds file (JWT and NKey seed): nats.UserCredentials
	NKeySeedFile string // an NKey seed file: nats.NkeyOptionFromSeed
	User         string // with Password: nats.UserInfo
	Password     string
	Token        string // nats.Token

	CAFile   string      // root CAs of the servers' certificates: nats.RootCAs
	CertFile string      // with KeyFile, a client certificate: nats.ClientCert
	KeyFile  string      //
	TLS      *tls.Config // a TLS configuration of its own: nats.Secure

	Options []nats.Option // any further nats.go option, applied last
}

// DefaultNodeName is the name a node has unless it is given one: host and pid.
func DefaultNodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "chatd"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// reconnectWait is nats.go's pause between reconnect attempts to one server (plus
// jitter): the chat heals within seconds of NATS being back.
const reconnectWait = time.Second

// options are the nats.go options of a node's connection: its name, reconnecting
// forever (nats.go's default gives up after 60 attempts), also when the first
// connect fails, the credentials and TLS of c, and onState told of every change of
// the connection's state (true: connected); nats.go's asynchronous errors go to log.
func (c NATSConfig) options(node string, onState func(bool), log *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(node),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(true),
		nats.ConnectHandler(func(*nats.Conn) { onState(true) }),
		nats.ReconnectHandler(func(*nats.Conn) { onState(true) }),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { onState(false) }),
		nats.ClosedHandler(func(*nats.Conn) { onState(false) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("nats", "err", err)
		}),
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey seed %s: %w", c.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.Token != "" {
		opts = append(opts, nats.Token(c.Token))
	}
	if c.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if c.CertFile != "" || c.KeyFile != "" {
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	if c.TLS != nil {
		opts = append(opts, nats.Secure(c.TLS))
	}
	return append(opts, c.Options...), nil
}

// connect opens a node's connection. With RetryOnFailedConnect it returns at once
// even if no server answers yet; setup then waits for one.
func (c NATSConfig) connect(node string, onState func(bool), log *slog.Logger) (*nats.Conn, error) {
	if len(c.URLs) == 0 {
		return nil, errors.New("nats: no server URL")
	}
	opts, err := c.options(node, onState, log)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(strings.Join(c.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect %s: %w", strings.Join(c.URLs, ","), err)
	}
	return nc, nil
}

// bucketConfigs are the KV buckets of docs/CLUSTER.md, as names.go, sessions.go,
// nodes.go and accounts.go define them, with the stream's replicas.
func bucketConfigs(replicas int, nodeTTL time.Duration) []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{MetaConfig(replicas), NamesConfig(replicas),
		SessionsConfig(replicas), NodesConfig(nodeTTL, replicas), AccountsConfig(replicas)}
}

// setup creates (or updates) the lines stream and the KV buckets, retrying until
// NATS answers or ctx ends: several nodes starting at once is harmless, as each call
// is create-or-update with the same configuration.
func setup(ctx context.Context, js jetstream.JetStream, replicas int, nodeTTL time.Duration) (jetstream.Stream, error) {
	backoff := 50 * time.Millisecond
	for {
		s, err := setupOnce(ctx, js, replicas, nodeTTL)
		if err == nil {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster setup: %w (last: %w)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func setupOnce(ctx context.Context, js jetstream.JetStream, replicas int, nodeTTL time.Duration) (jetstream.Stream, error) {
	attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := js.CreateOrUpdateStream(attempt, LinesConfig(replicas))
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", LinesStream, err)
	}
	for _, cfg := range bucketConfigs(replicas, nodeTTL) {
		if _, err := js.CreateOrUpdateKeyValue(attempt, cfg); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
		}
	}
	return s, nil
}
