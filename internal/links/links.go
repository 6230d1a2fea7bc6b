// Package links: placeholder until its issue lands (see issues).
package links

import (
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
)

// Service is TODO.
type Service struct{}

// NewService returns a Service.
func NewService(st *store.Store, ev *events.Writer, tg *tags.Service, cfg config.Config) *Service {
	return &Service{}
}
