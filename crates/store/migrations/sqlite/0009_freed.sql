-- FREED (issue 14): eating-disorder services and their referrals, held against the patient's
-- pseudonym like the safety data. A service is a team of one trust (not an organisation: it
-- has no ODS code of its own); a referral is known by the service's own reference. Times are
-- minute numbers (minutes since 1970-01-01 00:00, UK wall-clock time as recorded), dates day
-- numbers. Codes are the snake_case names of crates/pathway's types (ingest::freed writes and
-- reads them); attendance keeps the MHSDS code as given, with pathway's reading of it.
-- SQLite: as migration 0005 does for the other imported tables, only key columns are NOT
-- NULL and foreign keys are checked at COMMIT (no statement journals under INSERT OR ROLLBACK);
-- the typed writer and PostgreSQL's declarations (0009 there) hold the rest.
CREATE TABLE freed_services (
    code TEXT PRIMARY KEY,
    name TEXT,
    trust_code TEXT REFERENCES organisations(code) DEFERRABLE INITIALLY DEFERRED,
    ward_code TEXT REFERENCES wards(code) DEFERRABLE INITIALLY DEFERRED,
    upload_id BIGINT
);
CREATE INDEX freed_services_trust ON freed_services (trust_code);

CREATE TABLE freed_referrals (
    service_code TEXT NOT NULL REFERENCES freed_services(code) DEFERRABLE INITIALLY DEFERRED,
    referral_id TEXT NOT NULL,
    patient TEXT,
    received_min BIGINT,
    day BIGINT,
    month_start BIGINT,
    week_start BIGINT,
    source TEXT,
    age BIGINT,
    first_episode TEXT,
    onset_precision TEXT,
    onset_day BIGINT,
    diagnosis TEXT,
    priority TEXT,
    ethnic_category TEXT,
    sex TEXT,
    imd_decile BIGINT,
    -- The minute from which the referral can no longer be on the waiting list (its first
    -- attended treatment or its final discharge, by pathway's rules), NULL while it can: kept
    -- by ingest::freed whenever the referral, its contacts or its discharges are uploaded, so
    -- that a waiting list reads only the referrals that can be on it.
    off_list_min BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (service_code, referral_id)
);
CREATE INDEX freed_referrals_patient ON freed_referrals (patient);
CREATE INDEX freed_referrals_off_list ON freed_referrals (service_code, off_list_min);

CREATE TABLE freed_contacts (
    service_code TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    kind TEXT,
    at_min BIGINT NOT NULL,
    attendance_code TEXT,
    -- 1 when pathway counts the contact as attended (codes 5 and 6), else 0.
    attended BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (service_code, contact_id),
    FOREIGN KEY (service_code, referral_id) REFERENCES freed_referrals (service_code, referral_id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX freed_contacts_referral ON freed_contacts (service_code, referral_id);

CREATE TABLE freed_pauses (
    service_code TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    start_min BIGINT NOT NULL,
    end_min BIGINT,
    reason TEXT,
    upload_id BIGINT,
    PRIMARY KEY (service_code, referral_id, start_min),
    FOREIGN KEY (service_code, referral_id) REFERENCES freed_referrals (service_code, referral_id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE freed_discharges (
    service_code TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    at_min BIGINT NOT NULL,
    reason TEXT,
    reopened_min BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (service_code, referral_id, at_min),
    FOREIGN KEY (service_code, referral_id) REFERENCES freed_referrals (service_code, referral_id) DEFERRABLE INITIALLY DEFERRED
);
