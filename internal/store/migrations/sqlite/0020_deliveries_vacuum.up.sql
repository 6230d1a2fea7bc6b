-- PostgreSQL only (per-table autovacuum and fillfactor settings for the
-- deliveries queue); SQLite has neither, and its finished rows leave the
-- partial index at once. The number is kept in step with PostgreSQL.
SELECT 1;
