package delivery

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcome labels of codeqr_webhook_deliveries_total.
const (
	outcomeSuccess = "success"
	outcomeFailure = "failure"
	outcomeSkipped = "skipped"
)

// metrics are the deliverer's Prometheus series.
type metrics struct {
	// deliveries counts attempts by event type and outcome: success (2xx),
	// failure (any failed attempt, retried or not) and skipped (not sent
	// because the webhook is disabled).
	deliveries *prometheus.CounterVec
	// attemptDuration is the wall time of one HTTP attempt.
	attemptDuration prometheus.Histogram
	// latency is from the event's createdAt to its first successful attempt,
	// per webhook: what a receiver experiences, retries included.
	latency  prometheus.Histogram
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "codeqr_webhook_deliveries_total",
			Help: "Webhook delivery attempts by event type and outcome (success, failure, skipped).",
		}, []string{"event", "outcome"}),
		attemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "codeqr_webhook_attempt_duration_seconds",
			Help:    "Duration of one webhook delivery attempt.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "codeqr_webhook_delivery_latency_seconds",
			Help:    "Time from an event's creation to its first successful delivery to a webhook.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400},
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "codeqr_webhook_deliveries_in_flight",
			Help: "Webhook delivery attempts in flight on this node.",
		}),
	}
	if reg != nil {
		m.deliveries = register(reg, m.deliveries)
		m.attemptDuration = register(reg, m.attemptDuration)
		m.latency = register(reg, m.latency)
		m.inFlight = register(reg, m.inFlight)
	}
	return m
}

// register registers c, or reuses the collector already registered under the
// same name (a second Deliverer on one registry shares the series).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
