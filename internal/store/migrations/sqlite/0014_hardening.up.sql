-- Hardening: API key expiry and revocation, the new scopes, lease owners.

-- API keys can expire and be revoked; a revoked key is refused on the next
-- request on every node, because every request reads its key row.
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;

-- New scopes. Every key could read and change its project before scopes
-- covered those routes: every key keeps reading it (projects.read), and keys
-- that held every scope keep changing it and may now manage keys.
UPDATE api_keys SET scopes = scopes || ' projects.read'
 WHERE ' ' || scopes || ' ' NOT LIKE '% projects.read %';
UPDATE api_keys SET scopes = scopes || ' projects.write keys.read keys.write'
 WHERE ' ' || scopes || ' ' LIKE '% links.read %'
   AND ' ' || scopes || ' ' LIKE '% links.write %'
   AND ' ' || scopes || ' ' LIKE '% qrcodes.read %'
   AND ' ' || scopes || ' ' LIKE '% qrcodes.write %'
   AND ' ' || scopes || ' ' LIKE '% pages.read %'
   AND ' ' || scopes || ' ' LIKE '% pages.write %'
   AND ' ' || scopes || ' ' LIKE '% analytics.read %'
   AND ' ' || scopes || ' ' LIKE '% webhooks.read %'
   AND ' ' || scopes || ' ' LIKE '% webhooks.write %'
   AND ' ' || scopes || ' ' LIKE '% conversions.write %'
   AND ' ' || scopes || ' ' LIKE '% partners.read %'
   AND ' ' || scopes || ' ' LIKE '% partners.write %'
   AND ' ' || scopes || ' ' NOT LIKE '% keys.write %';

-- Which deliverer holds a delivery's lease, so that renewing and handing back
-- leases touch only a node's own rows (see internal/delivery).
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
