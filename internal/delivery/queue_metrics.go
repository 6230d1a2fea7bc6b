package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codeqr/codeqr/internal/store"
)

// queueCollector reports the delivery queue from the database at scrape time,
// so every node shows the same cluster-wide figures: pending deliveries, the
// age of the oldest, and disabled webhooks. Each is one cheap aggregate over
// an index (deliveries_due is partial on status = 'pending').
type queueCollector struct {
	st       *store.Store
	logger   *slog.Logger
	now      func() time.Time
	depth    *prometheus.Desc
	oldest   *prometheus.Desc
	disabled *prometheus.Desc
}

// RegisterQueueMetrics registers the queue collector on reg.
func RegisterQueueMetrics(reg prometheus.Registerer, st *store.Store, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return reg.Register(&queueCollector{
		st: st, logger: logger, now: time.Now,
		depth: prometheus.NewDesc("codeqr_webhook_queue_depth",
			"Pending webhook deliveries (due or waiting for a retry).", nil, nil),
		oldest: prometheus.NewDesc("codeqr_webhook_oldest_pending_age_seconds",
			"Age of the oldest pending webhook delivery (0 when none).", nil, nil),
		disabled: prometheus.NewDesc("codeqr_webhooks_disabled",
			"Webhooks currently disabled.", nil, nil),
	})
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.disabled
}

// Collect queries the database; a failed query leaves its series out of the
// scrape (and is logged) rather than reporting a false zero.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q := c.st.Read()
	var (
		depth  int64
		oldest *int64
	)
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE status = 'pending'").Scan(&depth, &oldest); err != nil {
		c.logger.Warn("webhooks: queue metrics", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(depth))
		age := 0.0
		if oldest != nil {
			age = max(0, c.now().Sub(store.FromMillis(*oldest)).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
	}
	var disabled int64
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM webhooks WHERE disabled_at IS NOT NULL").Scan(&disabled); err != nil {
		c.logger.Warn("webhooks: disabled webhooks metric", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.disabled, prometheus.GaugeValue, float64(disabled))
	}
}
