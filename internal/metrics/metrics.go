// Package metrics owns Casier's Prometheus registry and every metric
// definition, and exposes small typed hooks that the protocol packages
// call (imapserver, delivery). Those packages never import Prometheus.
//
// Invariants:
//   - Every hook is safe on a nil *Metrics and then does nothing, so a
//     server built without metrics (tests, tools) needs no set-up.
//   - Label values are bounded: callers pass command names from the
//     command table (or "unknown"), mechanisms from a fixed list, and
//     results from a fixed list. A client-controlled string never becomes
//     a label value, or a client could grow the registry without end.
//   - Hooks are cheap (a map lookup and an atomic add): they run on every
//     command.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Listener kinds, the values of the kind label.
const (
	KindIMAP  = "imap"
	KindIMAPS = "imaps"
	KindLMTP  = "lmtp"
)

// Results of a login (casier_logins_total{result}).
const (
	LoginSuccess = "success" // credentials accepted
	LoginFailure = "failure" // wrong user or password, or authorization identity refused
	LoginRefused = "refused" // not attempted: syntax, no TLS, unsupported mechanism, cancelled
	LoginError   = "error"   // the server failed (store error, shutdown)
)

// Results of one recipient's delivery (casier_lmtp_deliveries_total{result}).
const (
	DeliveryOK        = "delivered"
	DeliveryOverQuota = "over_quota"
	DeliveryTooBig    = "too_big"
	DeliveryTempFail  = "temp_failure"
	DeliveryRejected  = "rejected" // any other permanent failure (e.g. a line too long)
)

// Components whose recovered panics are counted.
const (
	ComponentIMAP = "imap"
	ComponentLMTP = "lmtp"
)

// commandBuckets are the bounds of the command latency histograms, in
// seconds: most commands take well under a millisecond to a few
// milliseconds; a large FETCH or SEARCH may take seconds.
var commandBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
}

// Metrics holds the registry and the metrics of one server process.
type Metrics struct {
	reg *prometheus.Registry

	connsCurrent *prometheus.GaugeVec
	connsTotal   *prometheus.CounterVec
	commands     *prometheus.CounterVec
	cmdDuration  *prometheus.HistogramVec
	deliveries   *prometheus.CounterVec
	logins       *prometheus.CounterVec
	size         *sizeCollector // set by WatchStoreSize
}

// New returns a Metrics with its own registry, holding Casier's metrics
// plus the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.connsCurrent = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "casier_connections_current",
		Help: "Connections open now, by listener kind.",
	}, []string{"kind"})
	m.connsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "casier_connections_total",
		Help: "Connections accepted, by listener kind.",
	}, []string{"kind"})
	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "casier_imap_commands_total",
		Help: "IMAP commands run, by command name and result (OK, NO, BAD, BYE).",
	}, []string{"command", "result"})
	m.cmdDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "casier_imap_command_duration_seconds",
		Help:    "Time to run an IMAP command, from its last byte read to its tagged response (IDLE: the whole idle period).",
		Buckets: commandBuckets,
	}, []string{"command"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "casier_lmtp_deliveries_total",
		Help: "LMTP deliveries, one per recipient, by result.",
	}, []string{"result"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "casier_logins_total",
		Help: "IMAP login attempts, by SASL mechanism (LOGIN for the LOGIN command) and result.",
	}, []string{"mechanism", "result"})
	m.reg.MustRegister(m.connsCurrent, m.connsTotal, m.commands, m.cmdDuration,
		m.deliveries, m.logins,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Series with known label values start at zero, so that dashboards
	// and alerts (rate, absent) see them before the first event.
	for _, k := range []string{KindIMAP, KindIMAPS, KindLMTP} {
		m.connsCurrent.WithLabelValues(k)
		m.connsTotal.WithLabelValues(k)
	}
	for _, r := range []string{DeliveryOK, DeliveryOverQuota, DeliveryTooBig, DeliveryTempFail, DeliveryRejected} {
		m.deliveries.WithLabelValues(r)
	}
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// register adds a collector of this package (the store size).
func (m *Metrics) register(c prometheus.Collector) { m.reg.MustRegister(c) }

// ConnOpened counts a connection accepted on a listener of the kind.
func (m *Metrics) ConnOpened(kind string) {
	if m == nil {
		return
	}
	m.connsTotal.WithLabelValues(kind).Inc()
	m.connsCurrent.WithLabelValues(kind).Inc()
}

// ConnClosed counts the end of a connection counted by ConnOpened.
func (m *Metrics) ConnClosed(kind string) {
	if m == nil {
		return
	}
	m.connsCurrent.WithLabelValues(kind).Dec()
}

// CommandDone counts an IMAP command with its result ("OK", "NO", "BAD"
// or "BYE") and observes its duration. A negative d (no meaningful
// duration, e.g. a command refused while being read) is not observed.
func (m *Metrics) CommandDone(name, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(name, result).Inc()
	if d >= 0 {
		m.cmdDuration.WithLabelValues(name).Observe(d.Seconds())
	}
}

// Login counts a login attempt: mechanism is "LOGIN" for the LOGIN
// command, the upper-case SASL mechanism name for AUTHENTICATE (the
// caller maps names it does not support to "other"); result is one of
// LoginSuccess, LoginFailure, LoginRefused.
func (m *Metrics) Login(mechanism, result string) {
	if m == nil {
		return
	}
	m.logins.WithLabelValues(mechanism, result).Inc()
}

// Delivery counts one recipient's delivery with one of the Delivery*
// results.
func (m *Metrics) Delivery(result string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(result).Inc()
}

// WatchPanics adds casier_panics_recovered_total{component} read from
// count, the component's own counter of recovered panics (the servers
// keep one for their tests: imapserver.Server.RecoveredPanics,
// delivery.Server.RecoveredPanics), so a panic is counted in one place.
func (m *Metrics) WatchPanics(component string, count func() int64) {
	if m == nil {
		return
	}
	m.register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name:        "casier_panics_recovered_total",
		Help:        "Panics recovered in connection handlers, by component.",
		ConstLabels: prometheus.Labels{"component": component},
	}, func() float64 { return float64(count()) }))
}
