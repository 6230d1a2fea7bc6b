package app

import (
	"context"
	"fmt"

	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// worker is the life-cycle contract of every background worker: Start
// launches it (ctx bounds its life), Stop drains it within ctx's deadline.
type worker interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

type namedWorker struct {
	name string
	worker
}

// The adapters below fit workers whose methods predate the contract; each
// goes away once its worker implements worker itself.

// legacyWorker adapts a Stop without a deadline: Stop waits for it at most
// until ctx ends (the stop itself then carries on in the background).
type legacyWorker struct {
	start func(context.Context) error
	stop  func()
}

func (w legacyWorker) Start(ctx context.Context) error { return w.start(ctx) }

func (w legacyWorker) Stop(ctx context.Context) error { return waitCtx(ctx, w.stop) }

// pipelineWorker adapts the interactions pipeline, whose Start takes no
// context and returns nothing.
type pipelineWorker struct{ p *interactions.Pipeline }

func (w pipelineWorker) Start(context.Context) error { w.p.Start(); return nil }

func (w pipelineWorker) Stop(ctx context.Context) error { return w.p.Stop(ctx) }

// notifierWorker adapts the e-mail notifier, which has nothing to start and
// whose stop is waiting for the e-mails in flight. A nil Notifier is valid.
type notifierWorker struct{ n *webhooks.Notifier }

func (notifierWorker) Start(context.Context) error { return nil }

func (w notifierWorker) Stop(ctx context.Context) error { return waitCtx(ctx, w.n.Wait) }

func waitCtx(ctx context.Context, f func()) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gave up waiting: %w", ctx.Err())
	}
}
