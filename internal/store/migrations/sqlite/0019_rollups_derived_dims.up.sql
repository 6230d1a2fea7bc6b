-- Per resource, country and region counts are read from the city rows, and
-- the UTM parameters' from the URL rows (a city value names its country and
-- region, a URL carries its UTM parameters; see internal/rollups): the rows
-- written for them before are not read any more.
DELETE FROM analytics_rollups WHERE (dim IN ('country', 'region') AND resource_id <> '')
    OR dim IN ('utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content');
