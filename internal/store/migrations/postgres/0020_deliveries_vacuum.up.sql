-- deliveries is a queue: every row is inserted, leased (a claim, renewals
-- each second) and finished within seconds, so it churns its whole size of
-- dead row versions per minute under load, while the default autovacuum
-- trigger (20 % of the table) waits for the table to grow. Until vacuum runs,
-- the claim's index scans of deliveries_pending_webhook step over the entries
-- of finished rows, and the planner plans with the row counts of the last
-- ANALYZE. So: vacuum and analyze after a fixed number of changes, without
-- the cost-based pauses, and leave room in each page so that a lease change
-- (which touches no indexed column) is a HOT update that adds no index entry.
ALTER TABLE deliveries SET (
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 20000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 20000,
    autovacuum_vacuum_cost_delay = 0
);
