package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
)

// observedStore times each history commit for the metrics: the store's Write is the
// commit (one group-commit batch, fsync included).
type observedStore struct {
	store.Store
	observe func(time.Duration, error)
}

func (s observedStore) Write(ctx context.Context, b *store.Batch) error {
	start := time.Now()
	err := s.Store.Write(ctx, b)
	s.observe(time.Since(start), err)
	return err
}

// validateMetricsListen checks --metrics-listen, which only the server reads.
func (c Config) validateMetricsListen() error {
	if c.MetricsListen == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(c.MetricsListen)
	if err != nil {
		return fmt.Errorf("--metrics-listen: want host:port (127.0.0.1:9090), got %q", c.MetricsListen)
	}
	if c.MetricsListen == c.Engine.Listen && port != "0" {
		return fmt.Errorf("--metrics-listen: %s is --listen already (leave it empty to serve /metrics there)", c.MetricsListen)
	}
	return nil
}

// mountMetrics serves /metrics, behind --status-token: on --listen, or on a listener
// of its own (opened by Start) with --metrics-listen.
func (s *Server) mountMetrics(cfg Config) {
	h := engine.RequireToken(cfg.Engine.StatusToken, s.Metrics.Handler())
	if cfg.MetricsListen == "" {
		s.Worker.Handle("GET /metrics", h)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	s.metricsAddr = cfg.MetricsListen
	// A scrape port is plain net/http: a goroutine per connection is fine for a few
	// scrapers, and the timeouts keep an idle or slow one from holding it.
	s.metricsSrv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    8 << 10,
	}
}

// listenMetrics opens --metrics-listen, if set, and serves /metrics on it.
func (s *Server) listenMetrics() error {
	if s.metricsSrv == nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.metricsAddr)
	if err != nil {
		return fmt.Errorf("--metrics-listen: %w", err)
	}
	s.metricsLn = ln
	go func() {
		if err := s.metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener", "err", err)
		}
	}()
	s.log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// MetricsAddr is where --metrics-listen listens, known after Start; nil without it.
func (s *Server) MetricsAddr() net.Addr {
	if s.metricsLn == nil {
		return nil
	}
	return s.metricsLn.Addr()
}

func (s *Server) stopMetrics() {
	if s.metricsSrv != nil {
		_ = s.metricsSrv.Close()
	}
}
