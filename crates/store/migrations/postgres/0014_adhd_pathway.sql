-- The children's ADHD assessment pathway (issue 15 item 8): one row per referral to an ADHD
-- service, as uploaded (ingest::adhd): when it was received, when the objective test was
-- taken, how many appointments it took and when the diagnostic decision was made. Days are day
-- numbers (days since 1970-01-01). A referral is known by its service's code and the service's
-- own reference for it; no patient identifier is held. A decision needs its appointments; the
-- test and the decision are on or after the referral, and the test no later than the decision.
CREATE TABLE adhd_referrals (
    service_code TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    trust_code TEXT NOT NULL REFERENCES organisations(code),
    referral_day BIGINT NOT NULL,
    age BIGINT CHECK (age BETWEEN 0 AND 25),
    sex TEXT,
    ethnic_category TEXT,
    imd_decile BIGINT CHECK (imd_decile BETWEEN 1 AND 10),
    test_day BIGINT CHECK (test_day >= referral_day),
    appointments BIGINT CHECK (appointments BETWEEN 0 AND 200),
    decision_day BIGINT CHECK (decision_day >= referral_day AND (test_day IS NULL OR decision_day >= test_day)),
    upload_id BIGINT,
    PRIMARY KEY (service_code, referral_id),
    CHECK (decision_day IS NULL OR appointments IS NOT NULL)
);
CREATE INDEX adhd_referrals_trust ON adhd_referrals (trust_code, service_code);
