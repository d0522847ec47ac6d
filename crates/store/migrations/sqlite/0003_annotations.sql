-- Dated notes on charts: the changes a ward or trust tested (PDSA cycles). A note may start a
-- new segment (rebase) of its organisation's charts.
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_code TEXT NOT NULL,
    measure_id TEXT,
    day BIGINT NOT NULL,
    text TEXT NOT NULL,
    rebase BIGINT NOT NULL DEFAULT 0,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX annotations_org ON annotations (org_code, day);
