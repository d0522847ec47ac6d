-- An adoption may rebase the chart of the cycle's predicted measure at the adoption's date
-- (issue 11, item 3): the team's decision, kept with the act.
ALTER TABLE qi_cycles ADD COLUMN act_rebase BIGINT NOT NULL DEFAULT 0 CHECK (act_rebase IN (0, 1));
