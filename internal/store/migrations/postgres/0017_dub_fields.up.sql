-- Fields of Dub's objects that codeqr stores and returns as given: a link's
-- folder (an opaque id: codeqr has no folders of its own), a domain's
-- archived flag and fallback URLs, a partner's tenant id and profile names.
ALTER TABLE links ADD COLUMN folder_id TEXT;
ALTER TABLE domains ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE domains ADD COLUMN placeholder TEXT;
ALTER TABLE domains ADD COLUMN expired_url TEXT;
ALTER TABLE domains ADD COLUMN not_found_url TEXT;
ALTER TABLE domains ADD COLUMN logo TEXT;
ALTER TABLE partners ADD COLUMN tenant_id TEXT;
ALTER TABLE partners ADD COLUMN username TEXT;
ALTER TABLE partners ADD COLUMN company_name TEXT;
ALTER TABLE partners ADD COLUMN description TEXT;
CREATE UNIQUE INDEX partners_tenant ON partners(project_id, tenant_id) WHERE tenant_id IS NOT NULL;
