-- FREED (issue 14): eating-disorder services and their referrals, held against the patient's
-- pseudonym like the safety data. A service is a team of one trust (not an organisation: it
-- has no ODS code of its own); a referral is known by the service's own reference. Times are
-- minute numbers (minutes since 1970-01-01 00:00, UK wall-clock time as recorded), dates day
-- numbers. Codes are the snake_case names of crates/pathway's types (ingest::freed writes and
-- reads them); attendance keeps the MHSDS code as given, with pathway's reading of it.
CREATE TABLE freed_services (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    trust_code TEXT NOT NULL REFERENCES organisations(code),
    ward_code TEXT REFERENCES wards(code),
    upload_id BIGINT
);
CREATE INDEX freed_services_trust ON freed_services (trust_code);

CREATE TABLE freed_referrals (
    service_code TEXT NOT NULL REFERENCES freed_services(code),
    referral_id TEXT NOT NULL,
    patient TEXT NOT NULL,
    received_min BIGINT NOT NULL,
    day BIGINT NOT NULL,
    month_start BIGINT NOT NULL,
    week_start BIGINT NOT NULL,
    source TEXT NOT NULL,
    age BIGINT,
    first_episode TEXT NOT NULL,
    onset_precision TEXT NOT NULL,
    onset_day BIGINT,
    diagnosis TEXT NOT NULL,
    priority TEXT NOT NULL,
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
    kind TEXT NOT NULL,
    at_min BIGINT NOT NULL,
    attendance_code TEXT NOT NULL,
    -- 1 when pathway counts the contact as attended (codes 5 and 6), else 0.
    attended BIGINT NOT NULL,
    upload_id BIGINT,
    PRIMARY KEY (service_code, contact_id),
    FOREIGN KEY (service_code, referral_id) REFERENCES freed_referrals (service_code, referral_id)
);
CREATE INDEX freed_contacts_referral ON freed_contacts (service_code, referral_id);

CREATE TABLE freed_pauses (
    service_code TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    start_min BIGINT NOT NULL,
    end_min BIGINT,
    reason TEXT NOT NULL,
    upload_id BIGINT,
    PRIMARY KEY (service_code, referral_id, start_min),
    FOREIGN KEY (service_code, referral_id) REFERENCES freed_referrals (service_code, referral_id)
);

CREATE TABLE freed_discharges (
    service_code TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    at_min BIGINT NOT NULL,
    reason TEXT NOT NULL,
    reopened_min BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (service_code, referral_id, at_min),
    FOREIGN KEY (service_code, referral_id) REFERENCES freed_referrals (service_code, referral_id)
);
