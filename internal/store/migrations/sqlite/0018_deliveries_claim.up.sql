-- The delivery engine claims per webhook: for each webhook with room, its
-- first due rows (internal/delivery, claim). This index serves that claim, the
-- skip scan that finds which webhooks have pending work, and the per-webhook
-- due check, so the cost of a claim follows the rows it takes and the number
-- of webhooks with work, never the size of the backlog.
CREATE INDEX deliveries_pending_webhook ON deliveries(webhook_id, next_attempt_at, id) WHERE status = 'pending';
