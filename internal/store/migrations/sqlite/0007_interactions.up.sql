-- One row per click, scan or page view, written in batches by the interactions
-- pipeline. click_id is the interaction's public id (conversions refer to it).
-- counted is false for bots and for repeats inside the dedupe window: those are
-- kept for the record but excluded from counters and default analytics.
CREATE TABLE interactions (
    click_id         TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    link_id          TEXT,
    qrcode_id        TEXT,
    page_id          TEXT,
    url              TEXT NOT NULL,
    ip               TEXT NOT NULL,
    continent        TEXT NOT NULL,
    country          TEXT NOT NULL,
    region           TEXT NOT NULL,
    city             TEXT NOT NULL,
    latitude         REAL,
    longitude        REAL,
    device           TEXT NOT NULL,
    device_vendor    TEXT NOT NULL,
    device_model     TEXT NOT NULL,
    browser          TEXT NOT NULL,
    browser_version  TEXT NOT NULL,
    engine           TEXT NOT NULL,
    engine_version   TEXT NOT NULL,
    os               TEXT NOT NULL,
    os_version       TEXT NOT NULL,
    cpu_architecture TEXT NOT NULL,
    ua               TEXT NOT NULL,
    bot              BOOLEAN NOT NULL,
    qr               BOOLEAN NOT NULL,
    referer          TEXT NOT NULL,
    referer_url      TEXT NOT NULL,
    counted          BOOLEAN NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX interactions_project_created ON interactions(project_id, kind, created_at);
CREATE INDEX interactions_link ON interactions(link_id, created_at) WHERE link_id IS NOT NULL;
CREATE INDEX interactions_qrcode ON interactions(qrcode_id, created_at) WHERE qrcode_id IS NOT NULL;
CREATE INDEX interactions_page ON interactions(page_id, created_at) WHERE page_id IS NOT NULL;

-- Every change of what a (domain, key) resolves to, so that every node can
-- drop it from its redirect cache (see internal/redirects). Written by
-- triggers, so no write path (single, bulk, upsert, cascade) can forget it.
-- Counter bumps do not touch updated_at and so write nothing here.
CREATE TABLE cache_invalidations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id TEXT,
    domain      TEXT,
    key         TEXT
);

CREATE TRIGGER short_keys_cache_ins AFTER INSERT ON short_keys BEGIN
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (NEW.resource_id, NEW.domain, NEW.key);
END;
CREATE TRIGGER short_keys_cache_del AFTER DELETE ON short_keys BEGIN
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (OLD.resource_id, OLD.domain, OLD.key);
END;
CREATE TRIGGER short_keys_cache_upd AFTER UPDATE ON short_keys BEGIN
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (OLD.resource_id, OLD.domain, OLD.key);
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (NEW.resource_id, NEW.domain, NEW.key);
END;
CREATE TRIGGER links_cache_upd AFTER UPDATE ON links
WHEN OLD.updated_at IS NOT NEW.updated_at OR OLD.domain IS NOT NEW.domain OR OLD.key IS NOT NEW.key BEGIN
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (OLD.id, OLD.domain, OLD.key);
END;
CREATE TRIGGER qrcodes_cache_upd AFTER UPDATE ON qrcodes
WHEN OLD.updated_at IS NOT NEW.updated_at OR OLD.domain IS NOT NEW.domain OR OLD.key IS NOT NEW.key BEGIN
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (OLD.id, OLD.domain, OLD.key);
END;
