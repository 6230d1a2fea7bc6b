-- Analytics (internal/analytics) reads interactions by project, kind and time
-- and filters on counted/bot: with those in the index, counts and timeseries
-- are answered from the index alone, without visiting a table row per
-- interaction. It replaces interactions_project_created, its prefix.
CREATE INDEX interactions_analytics ON interactions(project_id, kind, created_at, counted, bot);
DROP INDEX interactions_project_created;
