-- The network beyond inpatient mental health (issue 12, item 4): acute trusts and their
-- patients' self-harm incidents, and every trust's monthly aggregate counts of self-harm and
-- suicide among its staff. Dates are day numbers, times minute numbers, period starts
-- precomputed day numbers (as for every uploaded table). Staff figures are aggregates only:
-- no row names or points to a person.
-- SQLite: as migration 0005 does for the other imported tables, only key columns are NOT
-- NULL and foreign keys are checked at COMMIT; the typed writer and PostgreSQL's declarations
-- (0018 there) hold the rest.

-- The kind of a trust, when its organisations upload says (OrgType): mental_health or acute.
-- A trust without a row here is a mental health trust.
CREATE TABLE organisation_types (
    code TEXT PRIMARY KEY REFERENCES organisations(code) DEFERRABLE INITIALLY DEFERRED,
    org_type TEXT,
    upload_id BIGINT
);

-- A self-harm incident among an acute trust's patients, held against the patient's pseudonym
-- and known by the trust's own identifier. Setting: emergency_department, acute_ward, other.
CREATE TABLE acute_self_harm (
    trust_code TEXT NOT NULL REFERENCES organisations(code) DEFERRABLE INITIALLY DEFERRED,
    incident_id TEXT NOT NULL,
    patient TEXT,
    at_min BIGINT,
    day BIGINT,
    month_start BIGINT,
    week_start BIGINT,
    setting TEXT,
    physical_harm TEXT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, incident_id)
);
CREATE INDEX acute_self_harm_month ON acute_self_harm (trust_code, month_start);

-- A trust's counts for one month: staff who self-harmed, staff who died by suicide, and
-- optionally its staff headcount (the denominator of a rate per 1,000 staff).
CREATE TABLE staff_harm_months (
    trust_code TEXT NOT NULL REFERENCES organisations(code) DEFERRABLE INITIALLY DEFERRED,
    month_start BIGINT NOT NULL,
    self_harm BIGINT,
    suicides BIGINT,
    headcount BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, month_start)
);
