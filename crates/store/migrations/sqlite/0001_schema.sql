-- MHSIP schema, SQLite dialect. Dates are stored as day numbers (days since 1970-01-01) and
-- times as minute numbers, so date arithmetic is integer arithmetic on both engines; period
-- starts (month_start, week_start) are the day numbers of the period's first day, precomputed
-- on import so that grouping is portable and cheap.
-- Flags are 0/1 integers.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    trust_code TEXT,
    uploaded_at TEXT NOT NULL,
    rows_total BIGINT NOT NULL,
    rows_inserted BIGINT NOT NULL,
    rows_updated BIGINT NOT NULL,
    mapping TEXT
);

CREATE TABLE mappings (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE organisations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT REFERENCES organisations(code),
    upload_id BIGINT
);

CREATE TABLE wards (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    site_code TEXT NOT NULL REFERENCES organisations(code),
    trust_code TEXT NOT NULL,
    icb_code TEXT,
    region_code TEXT,
    ward_type TEXT NOT NULL,
    sex_mix TEXT NOT NULL,
    upload_id BIGINT
);
CREATE INDEX wards_trust ON wards (trust_code);

CREATE TABLE ward_beds (
    ward_code TEXT NOT NULL REFERENCES wards(code),
    from_day BIGINT NOT NULL,
    beds BIGINT NOT NULL,
    PRIMARY KEY (ward_code, from_day)
);

CREATE TABLE bed_days (
    ward_code TEXT NOT NULL REFERENCES wards(code),
    day BIGINT NOT NULL,
    days BIGINT NOT NULL,
    month_start BIGINT NOT NULL,
    week_start BIGINT,
    occupied DOUBLE PRECISION NOT NULL,
    on_leave DOUBLE PRECISION NOT NULL,
    upload_id BIGINT,
    PRIMARY KEY (ward_code, day)
);
CREATE INDEX bed_days_month ON bed_days (ward_code, month_start);

CREATE TABLE patients (
    pseudonym TEXT PRIMARY KEY,
    birth_year BIGINT,
    sex TEXT NOT NULL,
    ethnic_category TEXT NOT NULL,
    ethnic_group TEXT NOT NULL,
    ld_autism TEXT NOT NULL,
    upload_id BIGINT
);

CREATE TABLE ward_stays (
    trust_code TEXT NOT NULL,
    local_id TEXT NOT NULL,
    patient TEXT NOT NULL,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    start_day BIGINT NOT NULL,
    end_day BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, local_id)
);
CREATE INDEX ward_stays_ward ON ward_stays (ward_code, start_day);
CREATE INDEX ward_stays_patient ON ward_stays (patient);

CREATE TABLE ri_interventions (
    trust_code TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    intervention_id TEXT NOT NULL,
    patient TEXT NOT NULL,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    incident_start BIGINT NOT NULL,
    incident_end BIGINT,
    reason TEXT NOT NULL,
    review_patient BIGINT NOT NULL,
    review_staff BIGINT NOT NULL,
    type_code TEXT NOT NULL,
    start_min BIGINT NOT NULL,
    end_min BIGINT,
    day BIGINT NOT NULL,
    month_start BIGINT NOT NULL,
    week_start BIGINT NOT NULL,
    injury_patient BIGINT NOT NULL,
    injury_staff BIGINT NOT NULL,
    injury_other BIGINT NOT NULL,
    in_care_plan BIGINT,
    police_involved BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, incident_id, intervention_id)
);
-- One index serves the measure queries (by ward, over a range of days); each more index
-- costs every import of a million rows about a fifth of its time.
CREATE INDEX ri_ward_day ON ri_interventions (ward_code, day);

CREATE TABLE incidents (
    trust_code TEXT NOT NULL,
    local_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    patient TEXT,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    occurred_min BIGINT NOT NULL,
    day BIGINT NOT NULL,
    month_start BIGINT NOT NULL,
    week_start BIGINT NOT NULL,
    harm TEXT NOT NULL,
    psychological_harm TEXT,
    on_leave BIGINT NOT NULL,
    category TEXT,
    perpetrator TEXT,
    victim TEXT,
    police_informed BIGINT,
    safeguarding_referral BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, local_id)
);
CREATE INDEX incidents_kind_ward_month ON incidents (kind, ward_code, month_start);
CREATE INDEX incidents_kind_ward_week ON incidents (kind, ward_code, week_start);

CREATE TABLE leave_periods (
    trust_code TEXT NOT NULL,
    local_id TEXT NOT NULL,
    patient TEXT NOT NULL,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    start_min BIGINT NOT NULL,
    agreed_return_min BIGINT NOT NULL,
    actual_return_min BIGINT,
    return_day BIGINT,
    return_month BIGINT,
    return_week BIGINT,
    on_time BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, local_id)
);
CREATE INDEX leave_ward_month ON leave_periods (ward_code, return_month);

CREATE TABLE awol_episodes (
    trust_code TEXT NOT NULL,
    local_id TEXT NOT NULL,
    patient TEXT NOT NULL,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    start_min BIGINT NOT NULL,
    end_min BIGINT,
    end_reason TEXT,
    day BIGINT NOT NULL,
    month_start BIGINT NOT NULL,
    week_start BIGINT NOT NULL,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, local_id)
);
CREATE INDEX awol_ward_month ON awol_episodes (ward_code, month_start);

CREATE TABLE survey_answers (
    trust_code TEXT NOT NULL,
    response_id TEXT NOT NULL,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    day BIGINT NOT NULL,
    month_start BIGINT NOT NULL,
    week_start BIGINT NOT NULL,
    felt_safe BIGINT NOT NULL,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, response_id)
);
CREATE INDEX survey_ward_month ON survey_answers (ward_code, month_start);
