-- The children's ADHD assessment pathway (issue 15 item 8): one row per referral to an ADHD
-- service, as uploaded (ingest::adhd): when it was received, when the objective test was
-- taken, how many appointments it took and when the diagnostic decision was made. Days are day
-- numbers (days since 1970-01-01). A referral is known by its service's code and the service's
-- own reference for it; no patient identifier is held. The patient's characteristics at
-- referral (age, sex, ethnic category, IMD decile) are kept for the inequality views.
-- SQLite: as migration 0005 does for the other imported tables, only key columns are NOT NULL
-- and foreign keys are checked at COMMIT; the typed writer and PostgreSQL's declarations
-- (0014 there) hold the rest.
CREATE TABLE adhd_referrals (
    service_code TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    trust_code TEXT REFERENCES organisations(code) DEFERRABLE INITIALLY DEFERRED,
    referral_day BIGINT,
    age BIGINT,
    sex TEXT,
    ethnic_category TEXT,
    imd_decile BIGINT,
    test_day BIGINT,
    appointments BIGINT,
    decision_day BIGINT,
    upload_id BIGINT,
    PRIMARY KEY (service_code, referral_id)
);
CREATE INDEX adhd_referrals_trust ON adhd_referrals (trust_code, service_code);
