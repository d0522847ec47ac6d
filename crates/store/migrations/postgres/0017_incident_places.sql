-- Incidents at the place (issue 13, item 4): a self-harm incident may name the ligature
-- register's area and point of its ward where it happened, and the method (domain::codes::
-- SelfHarmMethod). All optional, so every earlier file imports unchanged; ingest checks that the
-- area and point are of the incident's own ward's register.
ALTER TABLE incidents ADD COLUMN ligature_area TEXT;
ALTER TABLE incidents ADD COLUMN ligature_point TEXT;
ALTER TABLE incidents ADD COLUMN method TEXT;
CREATE INDEX incidents_ligature_place ON incidents (ward_code, ligature_area);
