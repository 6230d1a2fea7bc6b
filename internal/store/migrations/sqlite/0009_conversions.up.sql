-- Conversions: the customers a project's backend reports, their leads and
-- their sales. Amounts are integers in the smallest currency unit; times are
-- Unix milliseconds; metadata is a JSON object as TEXT (or NULL).
--
-- A customer is attributed once, to the first interaction (click, scan or
-- view) that brought them: click_id and the resource it belongs to. Its
-- counters are totals over all its leads and sales.
CREATE TABLE customers (
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
CREATE INDEX customers_project ON customers(project_id, id);
CREATE INDEX customers_email ON customers(project_id, email);

-- One lead per (customer, event name): the UNIQUE constraint is what makes a
-- repeated track/lead idempotent, also under concurrency.
CREATE TABLE leads (
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
CREATE INDEX leads_project_created ON leads(project_id, created_at);
CREATE INDEX leads_link ON leads(link_id, created_at) WHERE link_id IS NOT NULL;
CREATE INDEX leads_qrcode ON leads(qrcode_id, created_at) WHERE qrcode_id IS NOT NULL;
CREATE INDEX leads_page ON leads(page_id, created_at) WHERE page_id IS NOT NULL;

-- UNIQUE (project_id, invoice_id) makes track/sale idempotent per invoice:
-- the sale row is inserted first with ON CONFLICT DO NOTHING, so of N
-- concurrent identical requests exactly one writes. NULL invoice ids never
-- collide.
CREATE TABLE sales (
    id                TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    customer_id       TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    lead_id           TEXT,
    event_name        TEXT NOT NULL,
    amount            INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    payment_processor TEXT NOT NULL,
    invoice_id        TEXT,
    click_id          TEXT,
    link_id           TEXT,
    qrcode_id         TEXT,
    page_id           TEXT,
    metadata          TEXT,
    created_at        INTEGER NOT NULL,
    UNIQUE (project_id, invoice_id)
);
CREATE INDEX sales_project_created ON sales(project_id, created_at);
CREATE INDEX sales_customer ON sales(customer_id, created_at);
CREATE INDEX sales_link ON sales(link_id, created_at) WHERE link_id IS NOT NULL;
CREATE INDEX sales_qrcode ON sales(qrcode_id, created_at) WHERE qrcode_id IS NOT NULL;
CREATE INDEX sales_page ON sales(page_id, created_at) WHERE page_id IS NOT NULL;
