-- Core schema. Times are INTEGER Unix milliseconds (UTC) in both dialects, so that
-- every query and every scan is the same on SQLite and PostgreSQL.

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    owner_email TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    start        TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX api_keys_project ON api_keys(project_id);

CREATE TABLE domains (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    slug       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX domains_project ON domains(project_id);

CREATE TABLE tags (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    color      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

-- One key space for every short link on a domain: links and dynamic QR codes
-- both claim their (domain, key) here, so they can never collide, and the
-- redirect path resolves a request with one primary-key lookup.
CREATE TABLE short_keys (
    domain      TEXT NOT NULL,
    key         TEXT NOT NULL,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    PRIMARY KEY (domain, key)
);
CREATE INDEX short_keys_resource ON short_keys(resource_id);

CREATE TABLE links (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    domain           TEXT NOT NULL,
    key              TEXT NOT NULL,
    url              TEXT NOT NULL,
    external_id      TEXT,
    archived         BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at       INTEGER,
    expired_url      TEXT,
    password_hash    TEXT,
    proxy            BOOLEAN NOT NULL DEFAULT FALSE,
    title            TEXT,
    description      TEXT,
    image            TEXT,
    video            TEXT,
    rewrite          BOOLEAN NOT NULL DEFAULT FALSE,
    do_index         BOOLEAN NOT NULL DEFAULT FALSE,
    ios              TEXT,
    android          TEXT,
    geo              TEXT,
    public_stats     BOOLEAN NOT NULL DEFAULT FALSE,
    track_conversion BOOLEAN NOT NULL DEFAULT FALSE,
    comments         TEXT,
    utm_source       TEXT,
    utm_medium       TEXT,
    utm_campaign     TEXT,
    utm_term         TEXT,
    utm_content      TEXT,
    partner_id       TEXT,
    clicks           INTEGER NOT NULL DEFAULT 0,
    leads            INTEGER NOT NULL DEFAULT 0,
    sales            INTEGER NOT NULL DEFAULT 0,
    sale_amount      INTEGER NOT NULL DEFAULT 0,
    last_clicked     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (domain, key),
    UNIQUE (project_id, external_id)
);
CREATE INDEX links_project_created ON links(project_id, id);

CREATE TABLE link_tags (
    link_id TEXT NOT NULL REFERENCES links(id) ON DELETE CASCADE,
    tag_id  TEXT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (link_id, tag_id)
);
CREATE INDEX link_tags_tag ON link_tags(tag_id);

CREATE TABLE qrcodes (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    static       BOOLEAN NOT NULL DEFAULT FALSE,
    url          TEXT,
    content      TEXT,
    domain       TEXT,
    key          TEXT,
    fg_color     TEXT NOT NULL,
    bg_color     TEXT NOT NULL,
    size         INTEGER NOT NULL,
    level        TEXT NOT NULL,
    margin       INTEGER NOT NULL,
    logo         TEXT,
    title        TEXT,
    description  TEXT,
    external_id  TEXT,
    archived     BOOLEAN NOT NULL DEFAULT FALSE,
    comments     TEXT,
    scans        INTEGER NOT NULL DEFAULT 0,
    last_scanned INTEGER,
    leads        INTEGER NOT NULL DEFAULT 0,
    sales        INTEGER NOT NULL DEFAULT 0,
    sale_amount  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (project_id, external_id)
);
CREATE INDEX qrcodes_project_created ON qrcodes(project_id, id);

CREATE TABLE qrcode_tags (
    qrcode_id TEXT NOT NULL REFERENCES qrcodes(id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (qrcode_id, tag_id)
);
CREATE INDEX qrcode_tags_tag ON qrcode_tags(tag_id);

CREATE TABLE pages (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    slug        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT,
    blocks      TEXT NOT NULL,
    form        TEXT,
    theme       TEXT NOT NULL,
    published   BOOLEAN NOT NULL DEFAULT FALSE,
    views       INTEGER NOT NULL DEFAULT 0,
    leads       INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX pages_project_created ON pages(project_id, id);

-- An event is written in the same transaction as the change it describes.
-- payload is the exact delivery body, so every webhook and every retry gets the
-- same bytes.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    resource_id TEXT,
    test        BOOLEAN NOT NULL DEFAULT FALSE,
    payload     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX events_project_created ON events(project_id, created_at);
CREATE INDEX events_resource ON events(resource_id);

CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY,
    project_id           TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    url                  TEXT NOT NULL,
    secret               TEXT NOT NULL,
    previous_secret      TEXT,
    previous_secret_until INTEGER,
    include_bots         BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_at          INTEGER,
    failing_since        INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX webhooks_project ON webhooks(project_id);

CREATE TABLE webhook_triggers (
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
);
CREATE INDEX webhook_triggers_type ON webhook_triggers(event_type, webhook_id);

-- The links, QR codes and pages a webhook selected for the high-volume
-- interaction events (kind is link, qrcode or page).
CREATE TABLE webhook_resources (
    webhook_id  TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    PRIMARY KEY (webhook_id, kind, resource_id)
);
CREATE INDEX webhook_resources_resource ON webhook_resources(resource_id, webhook_id);

-- One row per (event, webhook): the durable unit of delivery work. Claimed by
-- setting lease_until; a crashed node's lease simply runs out.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    project_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (event_id, webhook_id)
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);

-- The log of every attempt, kept apart from the work rows so it can be pruned.
CREATE TABLE delivery_attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      INTEGER NOT NULL,
    event_id         TEXT NOT NULL,
    webhook_id       TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    status           TEXT NOT NULL,
    response_status  INTEGER,
    duration_ms      INTEGER NOT NULL,
    error            TEXT,
    next_retry_at    INTEGER,
    request_headers  TEXT,
    response_headers TEXT,
    response_body    TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_webhook ON delivery_attempts(webhook_id, id);
CREATE INDEX delivery_attempts_created ON delivery_attempts(created_at);
