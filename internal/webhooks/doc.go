// Package webhooks owns webhook subscriptions and their delivery: signed,
// retried, at-least-once POSTs of the events in internal/events.
package webhooks
