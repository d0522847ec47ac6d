-- The network beyond inpatient mental health (issue 12, item 4): acute trusts and their
-- patients' self-harm incidents, and every trust's monthly aggregate counts of self-harm and
-- suicide among its staff. Dates are day numbers, times minute numbers, period starts
-- precomputed day numbers (as for every uploaded table). Staff figures are aggregates only:
-- no row names or points to a person.

-- The kind of a trust, when its organisations upload says (OrgType): mental_health or acute.
-- A trust without a row here is a mental health trust.
CREATE TABLE organisation_types (
    code TEXT PRIMARY KEY REFERENCES organisations(code),
    org_type TEXT NOT NULL CHECK (org_type IN ('mental_health', 'acute')),
    upload_id BIGINT
);

-- A self-harm incident among an acute trust's patients, held against the patient's pseudonym
-- and known by the trust's own identifier.
CREATE TABLE acute_self_harm (
    trust_code TEXT NOT NULL REFERENCES organisations(code),
    incident_id TEXT NOT NULL,
    patient TEXT NOT NULL,
    at_min BIGINT NOT NULL,
    day BIGINT NOT NULL,
    month_start BIGINT NOT NULL,
    week_start BIGINT NOT NULL,
    setting TEXT NOT NULL CHECK (setting IN ('emergency_department', 'acute_ward', 'other')),
    physical_harm TEXT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, incident_id)
);
CREATE INDEX acute_self_harm_month ON acute_self_harm (trust_code, month_start);

-- A trust's counts for one month: staff who self-harmed, staff who died by suicide, and
-- optionally its staff headcount (the denominator of a rate per 1,000 staff).
CREATE TABLE staff_harm_months (
    trust_code TEXT NOT NULL REFERENCES organisations(code),
    month_start BIGINT NOT NULL,
    self_harm BIGINT NOT NULL CHECK (self_harm >= 0),
    suicides BIGINT NOT NULL CHECK (suicides >= 0),
    headcount BIGINT CHECK (headcount > 0),
    upload_id BIGINT,
    PRIMARY KEY (trust_code, month_start)
);
