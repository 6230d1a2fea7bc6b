package webhooks

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/store"
)

// Deliverer is a placeholder, replaced by the delivery engine work.
type Deliverer struct{}

// NewDeliverer returns a Deliverer.
func NewDeliverer(st *store.Store, cfg config.Config, logger *slog.Logger, reg prometheus.Registerer) *Deliverer {
	return &Deliverer{}
}

// Notify wakes the deliverer.
func (d *Deliverer) Notify() {}

// Start starts delivering.
func (d *Deliverer) Start(ctx context.Context) error { return nil }

// Stop stops delivering.
func (d *Deliverer) Stop() {}
