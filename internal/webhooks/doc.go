// Package webhooks owns webhook subscriptions (create, change, rotate their
// secrets, enable and disable them, send test events), the delivery log and
// its retries, and the recover API. The delivery engine that sends the
// events is internal/delivery; test event data is handed in by the wiring
// (WithSamples), so this package imports no domain package.
package webhooks
