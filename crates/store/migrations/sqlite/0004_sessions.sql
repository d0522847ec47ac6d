-- Web sessions (tower-sessions records as JSON). Only a login name and a random form token are
-- kept in a session; expired rows are deleted by the server.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
