-- Country and region counts are read from the city rows (a city value names
-- its country and region, see internal/rollups): the rows written for them
-- before are not read any more.
DELETE FROM analytics_rollups WHERE dim IN ('country', 'region');
