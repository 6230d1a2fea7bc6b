-- Webhook operations: per-webhook rate limit, durable recovery jobs,
-- and indexes that keep retention pruning and queue metrics cheap.

-- Deliveries per second on each node; NULL means unlimited.
ALTER TABLE webhooks ADD COLUMN rate_limit DOUBLE PRECISION;
CREATE INDEX webhooks_rate_limited ON webhooks(id) WHERE rate_limit IS NOT NULL;

-- A recover request: re-queue every failed or skipped delivery of a webhook
-- whose event falls in [since, until). last_id is the last deliveries.id
-- re-queued, so a job resumed after a restart never re-queues one twice.
CREATE TABLE recovery_jobs (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    webhook_id  TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    since       INTEGER NOT NULL,
    until       INTEGER NOT NULL,
    status      TEXT NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0,
    last_id     INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX recovery_jobs_webhook ON recovery_jobs(webhook_id, created_at);
CREATE INDEX recovery_jobs_running ON recovery_jobs(lease_until) WHERE status = 'running';

-- Retention: finished deliveries by age, events by age.
CREATE INDEX deliveries_finished ON deliveries(updated_at) WHERE status <> 'pending';
CREATE INDEX events_created ON events(created_at);
