-- Imports without statement journals (SQLite only; PostgreSQL's schema is unchanged).
--
-- An import is one transaction that is rolled back whole on any error, and its upserts run as
-- INSERT OR ROLLBACK. SQLite still keeps a statement journal (a copy of every page a statement
-- touches, so that one statement can be undone on its own) whenever a statement could abort
-- rather than roll back: an upsert's DO UPDATE always checks NOT NULL under ABORT, and so does
-- an immediate foreign key. That journal was a fifth of the time of a million-row upload.
-- So, in the imported tables:
--   * key columns stay NOT NULL; other columns drop the declaration here. Non-null values are
--     guaranteed by the typed writer (store::imports::Batch), by PostgreSQL's schema, which
--     keeps every NOT NULL and runs the same writer in the tests, and by a test that checks no
--     SQLite column is NULL where PostgreSQL's schema says NOT NULL;
--   * foreign keys to wards are DEFERRABLE INITIALLY DEFERRED: still enforced, at COMMIT.
-- Tables are rebuilt as SQLite's ALTER TABLE documentation describes (new table, copy, drop,
-- rename). None of them is the parent of a foreign key.

CREATE TABLE ward_beds_rebuilt (
    ward_code TEXT NOT NULL REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    from_day BIGINT NOT NULL,
    beds BIGINT,
    PRIMARY KEY (ward_code, from_day)
);
INSERT INTO ward_beds_rebuilt (ward_code, from_day, beds)
    SELECT ward_code, from_day, beds FROM ward_beds;
DROP TABLE ward_beds;
ALTER TABLE ward_beds_rebuilt RENAME TO ward_beds;

CREATE TABLE bed_days_rebuilt (
    ward_code TEXT NOT NULL REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    day BIGINT NOT NULL,
    days BIGINT,
    month_start BIGINT,
    week_start BIGINT,
    occupied DOUBLE PRECISION,
    on_leave DOUBLE PRECISION,
    upload_id BIGINT,
    PRIMARY KEY (ward_code, day)
);
INSERT INTO bed_days_rebuilt (ward_code, day, days, month_start, week_start, occupied, on_leave, upload_id)
    SELECT ward_code, day, days, month_start, week_start, occupied, on_leave, upload_id FROM bed_days;
DROP TABLE bed_days;
ALTER TABLE bed_days_rebuilt RENAME TO bed_days;
CREATE INDEX bed_days_month ON bed_days (ward_code, month_start);

CREATE TABLE patients_rebuilt (
    pseudonym TEXT NOT NULL PRIMARY KEY,
    birth_year BIGINT,
    sex TEXT,
    ethnic_category TEXT,
    ethnic_group TEXT,
    ld_autism TEXT,
    upload_id BIGINT
);
INSERT INTO patients_rebuilt (pseudonym, birth_year, sex, ethnic_category, ethnic_group, ld_autism, upload_id)
    SELECT pseudonym, birth_year, sex, ethnic_category, ethnic_group, ld_autism, upload_id FROM patients;
DROP TABLE patients;
ALTER TABLE patients_rebuilt RENAME TO patients;

CREATE TABLE ward_stays_rebuilt (
    trust_code TEXT NOT NULL,
    local_id TEXT NOT NULL,
    patient TEXT,
    ward_code TEXT REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    start_day BIGINT,
    end_day BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, local_id)
);
INSERT INTO ward_stays_rebuilt (trust_code, local_id, patient, ward_code, start_day, end_day, upload_id)
    SELECT trust_code, local_id, patient, ward_code, start_day, end_day, upload_id FROM ward_stays;
DROP TABLE ward_stays;
ALTER TABLE ward_stays_rebuilt RENAME TO ward_stays;
CREATE INDEX ward_stays_ward ON ward_stays (ward_code, start_day);
CREATE INDEX ward_stays_patient ON ward_stays (patient);

CREATE TABLE ri_interventions_rebuilt (
    trust_code TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    intervention_id TEXT NOT NULL,
    patient TEXT,
    ward_code TEXT REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    incident_start BIGINT,
    incident_end BIGINT,
    reason TEXT,
    review_patient BIGINT,
    review_staff BIGINT,
    type_code TEXT,
    start_min BIGINT,
    end_min BIGINT,
    day BIGINT,
    month_start BIGINT,
    week_start BIGINT,
    injury_patient BIGINT,
    injury_staff BIGINT,
    injury_other BIGINT,
    in_care_plan BIGINT,
    police_involved BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, incident_id, intervention_id)
);
INSERT INTO ri_interventions_rebuilt (trust_code, incident_id, intervention_id, patient, ward_code, incident_start, incident_end, reason, review_patient, review_staff, type_code, start_min, end_min, day, month_start, week_start, injury_patient, injury_staff, injury_other, in_care_plan, police_involved, upload_id)
    SELECT trust_code, incident_id, intervention_id, patient, ward_code, incident_start, incident_end, reason, review_patient, review_staff, type_code, start_min, end_min, day, month_start, week_start, injury_patient, injury_staff, injury_other, in_care_plan, police_involved, upload_id FROM ri_interventions;
DROP TABLE ri_interventions;
ALTER TABLE ri_interventions_rebuilt RENAME TO ri_interventions;
CREATE INDEX ri_ward_day ON ri_interventions (ward_code, day);

CREATE TABLE incidents_rebuilt (
    trust_code TEXT NOT NULL,
    local_id TEXT NOT NULL,
    kind TEXT,
    patient TEXT,
    ward_code TEXT REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    occurred_min BIGINT,
    day BIGINT,
    month_start BIGINT,
    week_start BIGINT,
    harm TEXT,
    psychological_harm TEXT,
    on_leave BIGINT,
    category TEXT,
    perpetrator TEXT,
    victim TEXT,
    police_informed BIGINT,
    safeguarding_referral BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, local_id)
);
INSERT INTO incidents_rebuilt (trust_code, local_id, kind, patient, ward_code, occurred_min, day, month_start, week_start, harm, psychological_harm, on_leave, category, perpetrator, victim, police_informed, safeguarding_referral, upload_id)
    SELECT trust_code, local_id, kind, patient, ward_code, occurred_min, day, month_start, week_start, harm, psychological_harm, on_leave, category, perpetrator, victim, police_informed, safeguarding_referral, upload_id FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_rebuilt RENAME TO incidents;
CREATE INDEX incidents_kind_ward_month ON incidents (kind, ward_code, month_start);
CREATE INDEX incidents_kind_ward_week ON incidents (kind, ward_code, week_start);

CREATE TABLE leave_periods_rebuilt (
    trust_code TEXT NOT NULL,
    local_id TEXT NOT NULL,
    patient TEXT,
    ward_code TEXT REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    start_min BIGINT,
    agreed_return_min BIGINT,
    actual_return_min BIGINT,
    return_day BIGINT,
    return_month BIGINT,
    return_week BIGINT,
    on_time BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, local_id)
);
INSERT INTO leave_periods_rebuilt (trust_code, local_id, patient, ward_code, start_min, agreed_return_min, actual_return_min, return_day, return_month, return_week, on_time, upload_id)
    SELECT trust_code, local_id, patient, ward_code, start_min, agreed_return_min, actual_return_min, return_day, return_month, return_week, on_time, upload_id FROM leave_periods;
DROP TABLE leave_periods;
ALTER TABLE leave_periods_rebuilt RENAME TO leave_periods;
CREATE INDEX leave_ward_month ON leave_periods (ward_code, return_month);

CREATE TABLE awol_episodes_rebuilt (
    trust_code TEXT NOT NULL,
    local_id TEXT NOT NULL,
    patient TEXT,
    ward_code TEXT REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    start_min BIGINT,
    end_min BIGINT,
    end_reason TEXT,
    day BIGINT,
    month_start BIGINT,
    week_start BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, local_id)
);
INSERT INTO awol_episodes_rebuilt (trust_code, local_id, patient, ward_code, start_min, end_min, end_reason, day, month_start, week_start, upload_id)
    SELECT trust_code, local_id, patient, ward_code, start_min, end_min, end_reason, day, month_start, week_start, upload_id FROM awol_episodes;
DROP TABLE awol_episodes;
ALTER TABLE awol_episodes_rebuilt RENAME TO awol_episodes;
CREATE INDEX awol_ward_month ON awol_episodes (ward_code, month_start);

CREATE TABLE survey_answers_rebuilt (
    trust_code TEXT NOT NULL,
    response_id TEXT NOT NULL,
    ward_code TEXT REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    day BIGINT,
    month_start BIGINT,
    week_start BIGINT,
    felt_safe BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (trust_code, response_id)
);
INSERT INTO survey_answers_rebuilt (trust_code, response_id, ward_code, day, month_start, week_start, felt_safe, upload_id)
    SELECT trust_code, response_id, ward_code, day, month_start, week_start, felt_safe, upload_id FROM survey_answers;
DROP TABLE survey_answers;
ALTER TABLE survey_answers_rebuilt RENAME TO survey_answers;
CREATE INDEX survey_ward_month ON survey_answers (ward_code, month_start);
