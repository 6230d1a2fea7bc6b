package webhooks

import (
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
)

// Service is a placeholder, replaced by the webhook subscriptions work.
type Service struct{}

// NewService returns a Service.
func NewService(st *store.Store, ev *events.Writer, tg *tags.Service, cfg config.Config) *Service {
	return &Service{}
}
