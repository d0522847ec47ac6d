-- Personal API tokens and an organisation on each audit entry (for the audit log's filters).
-- A token is kept only as the SHA-256 of its text (it is 256 random bits, so a fast hash is
-- enough; docs/web.md); `prefix` is its first characters, shown so its owner can tell tokens
-- apart. Expiry is a Unix time in seconds; a revoked token keeps its row for the record.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name TEXT NOT NULL REFERENCES users(name),
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_name);

-- The organisation (trust, site or ward code) an audit entry is about, when it is about one.
ALTER TABLE audit_log ADD COLUMN org_code TEXT;
UPDATE audit_log SET org_code = target
 WHERE target IN (SELECT code FROM organisations) OR target IN (SELECT code FROM wards);
CREATE INDEX audit_log_user ON audit_log (user_name, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_org ON audit_log (org_code, id);
