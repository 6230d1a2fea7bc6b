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
