-- Pre-aggregated analytics (internal/rollups), written in the same
-- transaction as the interaction batch or the conversion they count, so they
-- are exactly as durable as the raw rows.
--
-- One row counts the interactions (kind click, scan, view) or conversions
-- (kind lead, sale) of one project, optionally one resource (resource_id ''
-- means the whole project), in one UTC time bucket [bucket, bucket + grain)
-- of one grain (15 minutes, 1 hour or 1 day, in ms), that have one value of
-- one dimension (dim '' with value '' is the total). n counts the rows counted
-- by default, bots the bot rows (added by includeBots), amount sums sale
-- amounts (integer cents).
CREATE TABLE analytics_rollups (
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    dim         TEXT NOT NULL,
    grain       BIGINT NOT NULL,
    bucket      BIGINT NOT NULL,
    value       TEXT NOT NULL,
    n           BIGINT NOT NULL,
    bots        BIGINT NOT NULL,
    amount      BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, resource_id, dim, grain, bucket, value)
);

-- The retention worker deletes the oldest raw rows first.
CREATE INDEX interactions_created ON interactions(created_at);
