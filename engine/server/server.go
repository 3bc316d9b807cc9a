// Package server is chatd's composition root: the one place that assembles a server
// from its layers. It opens the history store, builds the chat with that store,
// builds the worker that runs the chat, and mounts the browser client and /metrics
// (engine/metrics, on --listen or --metrics-listen); nothing else wires layers together.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/accounts"
	"github.com/chatd/chatd/engine/chat"
	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/files"
	"github.com/chatd/chatd/engine/metrics"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/engine/web"
)

// Config is every layer's configuration. Start from DefaultConfig.
type Config struct {
	Engine  engine.Config
	Chat    chat.Config
	Files   files.Config // uploads, served only with a --data-dir
	DataDir string       // --data-dir: the history database and the resume key; "": keep no history
	// StoreCacheKiB is --store-cache: SQLite's page cache per connection of the
	// history database, in KiB.
	StoreCacheKiB int
	// MetricsListen is --metrics-listen: host:port of a listener of its own for
	// /metrics; "": /metrics is served on --listen.
	MetricsListen string
	Accounts      accounts.Config // --session-ttl, --jwt-key, --allow-anonymous
	// Cluster makes the server a cluster node whose lines go through NATS JetStream
	// (cluster.go); nil: a single node. NATS, NodeName, Replicas and NodeTTL are
	// read; the rest is the node's own.
	Cluster *cluster.Config
}

// DefaultDataDir is --data-dir's default.
const DefaultDataDir = "./data"

// DefaultConfig is every layer's defaults.
func DefaultConfig() Config {
	return Config{Engine: engine.DefaultConfig(), Chat: chat.DefaultConfig(), Files: files.DefaultConfig(),
		Accounts: accounts.DefaultConfig(), DataDir: DefaultDataDir, StoreCacheKiB: store.DefaultCacheKiB}
}

// Validate checks every layer's settings without building anything, for a command
// that must fail before it detaches (start -d); New validates through each layer's
// constructor.
func (c Config) Validate() error {
	return errors.Join(c.Engine.Validate(), c.Chat.Validate(), c.Files.Validate(), c.Accounts.Validate(),
		c.validateMetricsListen(), c.validateUploads(), c.validateCluster(), c.storeOptions().Validate())
}

// storeOptions are the history database's settings.
func (c Config) storeOptions() store.Options {
	return store.Options{Durability: c.Chat.Durability, CacheKiB: c.StoreCacheKiB}
}

// validateUploads: one file of --max-file-bytes must fit in --max-upload-buffer.
func (c Config) validateUploads() error {
	if need := c.Files.MaxFileBytes + files.MultipartSlack; int64(c.Engine.MaxUploadBuffer) < need {
		return fmt.Errorf("--max-upload-buffer: must hold one file of --max-file-bytes and its multipart framing (%d), got %d", need, c.Engine.MaxUploadBuffer)
	}
	return nil
}

// Server is an assembled chatd.
type Server struct {
	Worker  *engine.Worker
	Chat    *chat.Chat
	Metrics *metrics.Metrics
	// Accounts serves /api/register, /api/login and /api/logout and resolves login
	// tokens for the chat.
	Accounts *accounts.Service

	log         *slog.Logger
	metricsAddr string           // --metrics-listen
	metricsSrv  *http.Server     // nil: /metrics is on --listen
	metricsLn   net.Listener     // set by Start
	journal     *cluster.Journal // a cluster node's; nil for a single node
	// sharedAccounts is a cluster node's accounts mirror (shareAccounts).
	sharedAccounts *cluster.Accounts
	// localAccounts is a cluster node's SQLite, whose accounts from single-node days
	// are carried into the cluster at start (importAccounts).
	localAccounts *store.SQLite
}

// New assembles a server: the chat and the worker first (each validates its
// config), then the store, whose state the chat loads, so it may take a while on a big
// history. Nothing listens until Start.
func New(cfg Config) (*Server, error) {
	if err := errors.Join(cfg.validateMetricsListen(), cfg.Files.Validate(), cfg.validateUploads(), cfg.validateCluster()); err != nil {
		return nil, err
	}
	ch, err := chat.New(cfg.Chat, cfg.Engine.Logger)
	if err != nil {
		return nil, err
	}
	w, err := engine.New(cfg.Engine, ch)
	if err != nil {
		return nil, err
	}
	s := &Server{Worker: w, Chat: ch, Metrics: metrics.New(metrics.Sources{Worker: w, Chat: ch.Meters()}), log: cfg.Engine.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	w.SetDataDir(absPath(cfg.DataDir))
	var st *store.SQLite
	if cfg.DataDir != "" {
		st, err = store.OpenSQLiteWith(cfg.DataDir, cfg.storeOptions())
		if err != nil {
			return nil, fmt.Errorf("--data-dir: %w", err)
		}
		if err := ch.OpenHistoryWith(observedStore{st, s.Metrics.ObserveCommit}, cfg.clusterJournal(&s.journal)); err != nil {
			st.Close()
			return nil, fmt.Errorf("--data-dir %s: %w", cfg.DataDir, err)
		}
		s.mountFiles(cfg.Files, st.Files())
		w.OnRelease(func() { releaseStoreMemory(st, s.log) })
	}
	if err := s.mountAccounts(cfg, st); err != nil {
		ch.Close()
		return nil, err
	}
	s.mountMetrics(cfg)
	w.Handle("GET /", web.Handler())
	return s, nil
}

// mountAccounts builds the accounts on the store (nil: in memory only), wires them to
// the chat both ways (tokens to identities; names and userIds to registrations) and
// mounts their routes.
func (s *Server) mountAccounts(cfg Config, st *store.SQLite) error {
	acfg := cfg.Accounts
	acfg.MaxNameLength = cfg.Chat.MaxNameLength
	acfg.SecureCookie = cfg.Engine.TLSCert != ""
	if cfg.Cluster != nil {
		// A cluster node's accounts are the cluster's (shareAccounts), not its
		// SQLite's; those it kept as a single node are carried in (importAccounts).
		s.localAccounts, st = st, nil
	}
	acc, err := accounts.New(acfg, st, s.log)
	if err != nil {
		return err
	}
	s.Accounts = acc
	acc.SetRegistrar(s.Chat) // before the mirror starts: its revokes reach the chat
	if err := s.shareAccounts(acc); err != nil {
		acc.Close()
		return err
	}
	s.Chat.UseAccounts(acc)
	for pattern, h := range acc.Routes() {
		s.Worker.Handle(pattern, h)
	}
	return nil
}

// Start starts listening: on --metrics-listen first, if set, so that a busy port
// fails before any client is accepted; a cluster node listens for clients only once
// it has caught up with the cluster (catchUp).
func (s *Server) Start() error {
	if err := s.listenMetrics(); err != nil {
		s.Chat.Close()
		s.Accounts.Close()
		return err
	}
	if err := s.Worker.StartWhenReady(s.catchUp); err != nil {
		s.stopMetrics()
		s.Chat.Close()
		s.Accounts.Close()
		return err
	}
	return nil
}

// Stop closes every connection and commits and closes the history (the worker's stop
// runs the chat's OnWorkerStop). Safe to call more than once.
func (s *Server) Stop() {
	s.Worker.Stop()
	s.Chat.Close()
	s.Accounts.Close()
	s.stopMetrics()
}

// mountFiles serves uploads (engine/files): the upload route with a body cap of its
// own, the download route for the room's members.
func (s *Server) mountFiles(cfg files.Config, st *store.Files) {
	rt := files.New(cfg, st, s.Chat, s.log)
	s.Worker.HandleUpload("POST /api/files", rt.MaxBody(), files.TooLargeJSON, http.HandlerFunc(rt.Upload))
	s.Worker.Handle("GET /api/files/{id}", http.HandlerFunc(rt.Download))
}

// absPath is path made absolute for /status, so it means the same wherever it is read.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil && path != "" {
		return abs
	}
	return path
}

// storeReleaseTimeout bounds a release's wait for the history's idle connections.
const storeReleaseTimeout = time.Second

// releaseStoreMemory empties the idle history connections' page caches when the
// worker gives memory back after a storm: SQLite allocates them outside the Go heap,
// and after a slow-consumer run of 3 KB lines they held most of the 11 MB left above
// the baseline (README, "The WebSocket layer").
func releaseStoreMemory(st *store.SQLite, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), storeReleaseTimeout)
	defer cancel()
	if err := st.ReleaseMemory(ctx); err != nil {
		log.Warn("history: release memory", "err", err)
	}
}
