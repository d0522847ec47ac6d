-- The open attention test (issue 15; docs/cpt.md, docs/web.md "Attention tests").
-- A remote test code is kept only as the SHA-256 of its normalised text (128 random bits or
-- more, so a fast hash is enough, as for API tokens); it names one patient of one service,
-- expires, and is used by one stored test. `attempt_hash` is the SHA-256 of the attempt token
-- handed out with the schedule (a new one, with a new seed, each time the test is started);
-- a result is stored only with the attempt's token and only once (`used_at`). Times are Unix
-- seconds. Patient references are the service's own (a pseudonym or local reference) and
-- never reach the audit log.
CREATE TABLE cpt_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash TEXT NOT NULL UNIQUE,
    trust_code TEXT NOT NULL,
    service TEXT NOT NULL,
    patient_ref TEXT NOT NULL,
    age_years BIGINT NOT NULL,
    sex TEXT,
    ethnic_group TEXT,
    task TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    issued_by TEXT NOT NULL REFERENCES users(name),
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    repeat_of BIGINT REFERENCES cpt_codes(id),
    seed TEXT,
    attempt_hash TEXT,
    started_at BIGINT,
    starts BIGINT NOT NULL DEFAULT 0,
    practice_json TEXT NOT NULL DEFAULT '[]',
    practice_passed BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX cpt_codes_trust ON cpt_codes (trust_code, id);

-- One stored test: what the browser logged (raw log, head track or none, timing check,
-- practice attempts) and the score crates/cpt made of it.
CREATE TABLE cpt_tests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_id BIGINT NOT NULL UNIQUE REFERENCES cpt_codes(id),
    trust_code TEXT NOT NULL,
    service TEXT NOT NULL,
    patient_ref TEXT NOT NULL,
    age_years BIGINT NOT NULL,
    sex TEXT,
    ethnic_group TEXT,
    task TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    seed TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    timing_json TEXT NOT NULL,
    practice_json TEXT NOT NULL,
    raw_log TEXT NOT NULL,
    head_track TEXT,
    score_json TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    notes_by TEXT,
    notes_at BIGINT
);
CREATE INDEX cpt_tests_trust ON cpt_tests (trust_code, id);
CREATE INDEX cpt_tests_patient ON cpt_tests (trust_code, patient_ref, id);

-- Codes entered that were not in force (unknown, expired, used), per client, for the rate limit.
CREATE TABLE cpt_code_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX cpt_code_failures_client ON cpt_code_failures (client, at);
CREATE INDEX cpt_code_failures_at ON cpt_code_failures (at);
