// Package metrics is activator's Prometheus side: the registry behind
// /metrics, the request counts and latencies the web server reports, and
// the collectors that read, at each scrape, the counts the other parts
// keep (the delivery worker's, the redeems', the SIP registrar's) and the
// state of the database (the queue, the pool). docs/operations.md lists
// every metric.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/sip/registrar"
	"github.com/activator-voip/activator/internal/store"
)

// Sources are the parts the metrics read at scrape. SIP is nil when the
// embedded registrar is off.
type Sources struct {
	Store   *store.Store
	Worker  interface{ Stats() messaging.Stats }
	Devices interface{ Stats() activation.RedeemStats }
	SIP     interface{ Stats() registrar.Stats }
	Version string
	Logger  *slog.Logger
}

// Metrics is one instance's metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	log      *slog.Logger
}

// scrapeTimeout bounds the database queries of one scrape.
const scrapeTimeout = 5 * time.Second

// New builds the registry on src.
func New(src Sources) *Metrics {
	log := src.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "activator_http_requests_total",
			Help: "HTTP requests answered, by route pattern (never the path: paths carry tokens) and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "activator_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{src: src, log: log})
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "activator_build_info", Help: "Always 1; its label is the running version.",
		ConstLabels: prometheus.Labels{"version": src.Version}})
	build.Set(1)
	m.reg.MustRegister(build)
	return m
}

// ObserveRequest counts one answered request (web.Ops.Observe).
func (m *Metrics) ObserveRequest(route string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// collector reads the other parts' counts and the database at scrape.
type collector struct {
	src Sources
	log *slog.Logger
}

var (
	descMessages      = prometheus.NewDesc("activator_messages", "Messages in the queue (queued or sending), by gateway and state.", []string{"gateway", "state"}, nil)
	descByState       = prometheus.NewDesc("activator_messages_by_state", "Every message in the database by state (queued, sending, sent, delivered, failed), all gateways.", []string{"state"}, nil)
	descQueueDepth    = prometheus.NewDesc("activator_queue_depth", "Messages waiting to be sent or being sent (queued or sending), all gateways.", nil, nil)
	descQueueOldest   = prometheus.NewDesc("activator_queue_oldest_age_seconds", "Age of the oldest message queued or being sent; 0 when none is.", nil, nil)
	descClaims        = prometheus.NewDesc("activator_delivery_claims_total", "Claim queries this instance's delivery worker ran.", nil, nil)
	descOutcomes      = prometheus.NewDesc("activator_delivery_outcomes_total", "Sends this instance's delivery worker finished, by outcome: sent, failed (given up), retried (put back for later), handed_back (cut short by a stop).", []string{"outcome"}, nil)
	descWriteRetries  = prometheus.NewDesc("activator_delivery_write_retries_total", "Outcome writes made again after the database refused one.", nil, nil)
	descDuplicates    = prometheus.NewDesc("activator_delivery_duplicates_total", "Messages sent whose send could not be recorded, so they will be sent again: duplicates after a fault.", nil, nil)
	descActivations   = prometheus.NewDesc("activator_activations_total", "Redeems that activated a device, on this instance.", nil, nil)
	descRefusals      = prometheus.NewDesc("activator_redeem_refusals_total", "Redeems refused, by reason: the error code the device got (link_used, link_expired, link_unknown, ...; error when it was the server's fault).", []string{"reason"}, nil)
	descSIPRegisters  = prometheus.NewDesc("activator_sip_registers_total", "SIP REGISTER requests the embedded registrar accepted.", nil, nil)
	descSIPAuthFails  = prometheus.NewDesc("activator_sip_auth_failures_total", "SIP digest answers that did not match an account's.", nil, nil)
	descSIPBans       = prometheus.NewDesc("activator_sip_bans_total", "Addresses the embedded registrar banned after repeated authentication failures.", nil, nil)
	descDBOpen        = prometheus.NewDesc("activator_db_connections", "Database connections of this instance's pool, by state.", []string{"state"}, nil)
	descDBMax         = prometheus.NewDesc("activator_db_connections_max", "The most database connections this instance's pool opens.", nil, nil)
	descDBWaits       = prometheus.NewDesc("activator_db_waits_total", "Times a query waited for a free database connection.", nil, nil)
	descDBWaitSeconds = prometheus.NewDesc("activator_db_wait_seconds_total", "Time queries spent waiting for a free database connection.", nil, nil)
	descDBErrors      = prometheus.NewDesc("activator_db_errors_total", "Statements and transactions the database failed (connection lost, timeout, disk full; not a refused duplicate or a missing row).", nil, nil)
	descScrapeErrors  = prometheus.NewDesc("activator_metrics_database_errors", "1 when this scrape could not read the message counts from the database (then activator_messages, activator_messages_by_state and the queue gauges are absent), else 0.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessages, descByState, descQueueDepth, descQueueOldest, descClaims, descOutcomes, descWriteRetries,
		descDuplicates, descActivations, descRefusals, descSIPRegisters, descSIPAuthFails, descSIPBans, descDBOpen, descDBMax,
		descDBWaits, descDBWaitSeconds, descDBErrors, descScrapeErrors} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		counts, err := c.src.Store.QueueCounts(ctx)
		var states map[string]int64
		if err == nil {
			states, err = c.src.Store.StateCounts(ctx)
		}
		cancel()
		if err != nil {
			c.log.Warn("metrics: counting messages", "err", err)
			gauge(descScrapeErrors, 1)
		} else {
			gauge(descScrapeErrors, 0)
			var depth int64
			var oldest time.Time
			for _, mc := range counts {
				gauge(descMessages, float64(mc.Count), mc.Gateway, mc.State)
				depth += mc.Count
				if oldest.IsZero() || mc.Oldest.Before(oldest) {
					oldest = mc.Oldest
				}
			}
			gauge(descQueueDepth, float64(depth))
			age := 0.0
			if !oldest.IsZero() {
				age = max(0, time.Since(oldest).Seconds())
			}
			gauge(descQueueOldest, age)
			for state, n := range states {
				gauge(descByState, float64(n), state)
			}
		}
		st := c.src.Store.Stats()
		gauge(descDBOpen, float64(st.Pool.InUse), "in_use")
		gauge(descDBOpen, float64(st.Pool.Idle), "idle")
		gauge(descDBMax, float64(st.Pool.MaxOpenConnections))
		counter(descDBWaits, uint64(st.Pool.WaitCount))
		ch <- prometheus.MustNewConstMetric(descDBWaitSeconds, prometheus.CounterValue, st.Pool.WaitDuration.Seconds())
		counter(descDBErrors, st.Errors)
	}
	if c.src.Worker != nil {
		ws := c.src.Worker.Stats()
		counter(descClaims, ws.Claims)
		counter(descOutcomes, ws.Sent, model.MessageSent)
		counter(descOutcomes, ws.Failed, model.MessageFailed)
		counter(descOutcomes, ws.Retried, "retried")
		counter(descOutcomes, ws.HandedBack, "handed_back")
		counter(descWriteRetries, ws.WriteRetries)
		counter(descDuplicates, ws.Duplicates)
	}
	if c.src.Devices != nil {
		rs := c.src.Devices.Stats()
		counter(descActivations, rs.Activations)
		for reason, n := range rs.Refusals {
			counter(descRefusals, n, reason)
		}
	}
	if c.src.SIP != nil {
		ss := c.src.SIP.Stats()
		counter(descSIPRegisters, ss.Registers)
		counter(descSIPAuthFails, ss.AuthFailures)
		counter(descSIPBans, ss.Bans)
	}
}
