-- When each user last opened each ward's page, so the page can say what is new since then
-- (uploads for the ward's trust, notes on the ward's charts). One row per user and ward.
CREATE TABLE page_visits (
    user_name TEXT NOT NULL REFERENCES users(name),
    org_code TEXT NOT NULL,
    visited_at TEXT NOT NULL,
    PRIMARY KEY (user_name, org_code)
);
CREATE INDEX uploads_trust_at ON uploads (trust_code, uploaded_at);
