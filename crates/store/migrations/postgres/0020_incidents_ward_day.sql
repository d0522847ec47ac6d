-- Measures read a trust's incidents by ward and day (issue 10): without this index every
-- trust's page scanned the whole region's incidents (0.11 s of a first view at a national size).
CREATE INDEX incidents_ward_day ON incidents (ward_code, day);
