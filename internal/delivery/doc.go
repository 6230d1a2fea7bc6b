// Package delivery is the webhook delivery engine: it claims the rows of the
// deliveries table, POSTs each event signed to its webhook (or hands it to a
// `codeqr listen` stream), retries with backoff, applies per-webhook rate
// limits, writes the outcomes and the attempt log, disables failing webhooks
// and tells their owners, re-queues the deliveries of recovery jobs, prunes
// the delivery log and reports the queue as metrics.
//
// It knows the delivery tables and nothing of the domain: it depends on the
// store, the destination guard (netguard), config and events only, so the
// domain packages can change without touching it (deps_test.go holds it to
// that). Subscriptions, the delivery log API and the recover API are in
// internal/webhooks.
package delivery
