// Package webhooks: placeholder until its issue lands (see issues).
package webhooks

import (
	"context"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
)

// Service is TODO.
type Service struct{}

// NewService returns a Service.
func NewService(st *store.Store, ev *events.Writer, tg *tags.Service, cfg config.Config) *Service {
	return &Service{}
}

// Deliverer is TODO.
type Deliverer struct{}

// NewDeliverer is TODO.
func NewDeliverer(st *store.Store, cfg config.Config, logger *slog.Logger, reg prometheus.Registerer) *Deliverer {
	return &Deliverer{}
}

// Notify is TODO.
func (d *Deliverer) Notify() {}

// Start is TODO.
func (d *Deliverer) Start(ctx context.Context) error { return nil }

// Stop is TODO.
func (d *Deliverer) Stop() {}
