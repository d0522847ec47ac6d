-- Accounts (argon2 hashes, a role bound to an organisation) and the audit log of who saw,
-- downloaded, uploaded and changed what.
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    trust_code TEXT,
    ward_code TEXT,
    created_at TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
