-- Partners of a project's (one, implicit) partner program. A partner's
-- referral links are ordinary links with links.partner_id set to its id.
-- enrolled_at is set once, when the enrollment becomes approved: the guard
-- that makes partner.enrolled fire exactly once.
CREATE TABLE partners (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    image       TEXT,
    country     TEXT,
    status      TEXT NOT NULL,
    enrolled_at INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, email)
);
CREATE INDEX partners_project ON partners(project_id, id);
CREATE INDEX links_partner ON links(partner_id) WHERE partner_id IS NOT NULL;

-- BRIDGE for page forms (internal/pageforms), until the conversions branch is
-- merged: the customers and leads tables exactly as migration 0009
-- (conversions) creates them, with IF NOT EXISTS, so that on a database that
-- has 0009 these statements do nothing. Once both branches are in main this
-- block can be deleted (no release has shipped 0013 yet).
CREATE TABLE IF NOT EXISTS customers (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    name        TEXT,
    email       TEXT,
    avatar      TEXT,
    country     TEXT,
    click_id    TEXT,
    link_id     TEXT,
    qrcode_id   TEXT,
    page_id     TEXT,
    leads       INTEGER NOT NULL DEFAULT 0,
    sales       INTEGER NOT NULL DEFAULT 0,
    sale_amount INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, external_id)
);
CREATE INDEX IF NOT EXISTS customers_project ON customers(project_id, id);
CREATE INDEX IF NOT EXISTS customers_email ON customers(project_id, email);

-- One lead per (customer, event name): the UNIQUE constraint is what makes a
-- repeated track/lead idempotent, also under concurrency.
CREATE TABLE IF NOT EXISTS leads (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    event_name  TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    click_id    TEXT,
    link_id     TEXT,
    qrcode_id   TEXT,
    page_id     TEXT,
    metadata    TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (customer_id, event_name)
);
CREATE INDEX IF NOT EXISTS leads_project_created ON leads(project_id, created_at);
CREATE INDEX IF NOT EXISTS leads_link ON leads(link_id, created_at) WHERE link_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS leads_qrcode ON leads(qrcode_id, created_at) WHERE qrcode_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS leads_page ON leads(page_id, created_at) WHERE page_id IS NOT NULL;
