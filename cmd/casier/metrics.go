package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/casier/casier/internal/delivery"
	"github.com/casier/casier/internal/imapserver"
	"github.com/casier/casier/internal/metrics"
	"github.com/casier/casier/internal/store"
)

// metricsServer is the HTTP listener of `casier serve --metrics ADDR`: it
// serves the Prometheus exposition at /metrics and nothing else. A nil
// *metricsServer (metrics off) does nothing.
type metricsServer struct {
	m    *metrics.Metrics
	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// listenMetrics opens the metrics listener (host:port, or unix:/path like
// the LMTP address); nil, nil when addr is empty.
func listenMetrics(addr string) (*metricsServer, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := delivery.Listen(addr)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return &metricsServer{
		m:  m,
		ln: ln,
		http: &http.Server{
			Handler: mux,
			// A scraper that stalls must not hold a goroutine for ever.
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      time.Minute,
			IdleTimeout:       2 * time.Minute,
		},
		done: make(chan struct{}),
	}, nil
}

// metrics is the registry the servers report to; nil when metrics are off.
func (ms *metricsServer) metrics() *metrics.Metrics {
	if ms == nil {
		return nil
	}
	return ms.m
}

// watch adds the metrics read from the servers and the store when scraped.
func (ms *metricsServer) watch(srv *imapserver.Server, lmtp *delivery.Server, st store.Store) {
	if ms == nil {
		return
	}
	ms.m.WatchPanics(metrics.ComponentIMAP, srv.RecoveredPanics)
	if lmtp != nil {
		ms.m.WatchPanics(metrics.ComponentLMTP, lmtp.RecoveredPanics)
	}
	ms.m.WatchStoreSize(metrics.StoreSizeOf(st), metrics.DefaultStoreSizeTTL)
}

// serve serves scrapes in the background. The metrics listener failing
// does not stop the mail server: it is logged.
func (ms *metricsServer) serve(log *slog.Logger) {
	if ms == nil {
		return
	}
	log.Info("listening", "addr", ms.ln.Addr().String(), "kind", "metrics")
	go func() {
		defer close(ms.done)
		if err := ms.http.Serve(ms.ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
}

// shutdown stops the listener, letting a scrape in progress finish.
func (ms *metricsServer) shutdown(ctx context.Context) {
	if ms == nil {
		return
	}
	if err := ms.http.Shutdown(ctx); err != nil {
		ms.http.Close()
	}
	<-ms.done
}

// close releases the listener of a server that never served.
func (ms *metricsServer) close() {
	if ms != nil {
		ms.ln.Close()
	}
}
