-- The ligature point register (issue 13; docs/ligature.md). A ward's register is the sum of
-- its signed-off audits: each audit keeps the state it recorded of every point it walked
-- (still present, changed, removed or new, with the point's area, description, risks before
-- and after controls, controls and review date), so any point's history can be read and the
-- register replayed (crates/ligature). A point's reference is its lasting identity on the
-- ward. Dates are day numbers (days since 1970-01-01), times Unix seconds. Codes are those of
-- crates/ligature's types (`code()`). Photos are kept in the database with their metadata
-- stripped (ligature::photo) and are served only to those who may see the ward's register.
CREATE TABLE ligature_settings (
    trust_code TEXT PRIMARY KEY REFERENCES organisations(code),
    escalation_days BIGINT NOT NULL,
    audit_interval_days BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE ligature_audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    trust_code TEXT NOT NULL,
    audit_day BIGINT NOT NULL,
    assessor TEXT NOT NULL,
    -- 'draft' while it is being walked, 'signed' once signed off (then it never changes).
    status TEXT NOT NULL CHECK (status IN ('draft', 'signed')),
    signed_by TEXT,
    signed_day BIGINT,
    -- 'form' (walked on the platform), 'import' (a trust's spreadsheet) or 'demo'.
    source TEXT NOT NULL,
    upload_id BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ligature_audits_ward ON ligature_audits (ward_code, audit_day, id);
CREATE INDEX ligature_audits_trust ON ligature_audits (trust_code, ward_code);

-- Areas an audit adds or sets again (its code on the ward, name, CQC tier).
CREATE TABLE ligature_audit_areas (
    audit_id BIGINT NOT NULL REFERENCES ligature_audits(id),
    area_code TEXT NOT NULL,
    name TEXT NOT NULL,
    tier BIGINT NOT NULL CHECK (tier IN (1, 2, 3)),
    PRIMARY KEY (audit_id, area_code)
);

-- What an audit found of each point, with the point's state after it.
CREATE TABLE ligature_findings (
    audit_id BIGINT NOT NULL REFERENCES ligature_audits(id),
    point_ref TEXT NOT NULL,
    finding TEXT NOT NULL CHECK (finding IN ('present', 'changed', 'removed', 'new')),
    area_code TEXT NOT NULL,
    location TEXT NOT NULL,
    description TEXT NOT NULL,
    kind TEXT NOT NULL,
    height TEXT NOT NULL,
    inherent_likelihood BIGINT NOT NULL CHECK (inherent_likelihood BETWEEN 1 AND 5),
    inherent_consequence BIGINT NOT NULL CHECK (inherent_consequence BETWEEN 1 AND 5),
    residual_likelihood BIGINT NOT NULL CHECK (residual_likelihood BETWEEN 1 AND 5),
    residual_consequence BIGINT NOT NULL CHECK (residual_consequence BETWEEN 1 AND 5),
    controls TEXT NOT NULL,
    review_day BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (audit_id, point_ref)
);

CREATE TABLE ligature_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    trust_code TEXT NOT NULL,
    point_ref TEXT NOT NULL,
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    raised_day BIGINT NOT NULL,
    due_day BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    closed_day BIGINT,
    reference TEXT,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (due_day >= raised_day)
);
CREATE INDEX ligature_actions_ward ON ligature_actions (ward_code, point_ref);
CREATE INDEX ligature_actions_trust ON ligature_actions (trust_code, status);

CREATE TABLE ligature_photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    trust_code TEXT NOT NULL,
    point_ref TEXT NOT NULL,
    audit_id BIGINT REFERENCES ligature_audits(id),
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size_bytes BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX ligature_photos_point ON ligature_photos (ward_code, point_ref, id);
