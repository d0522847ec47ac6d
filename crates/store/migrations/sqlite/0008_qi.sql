-- Quality improvement projects (issue 11; docs/qi.md): the project and its aim, the status
-- history, the team, the family of measures, the team's own measures and their monthly values,
-- the driver diagram, PDSA cycles, spread and the scores set by hand. Dates are day numbers.
CREATE TABLE qi_projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_level TEXT NOT NULL,
    org_code TEXT NOT NULL,
    title TEXT NOT NULL,
    charter TEXT NOT NULL DEFAULT '',
    aim_measure_kind TEXT,
    aim_measure_id TEXT,
    aim_baseline DOUBLE PRECISION,
    aim_target DOUBLE PRECISION,
    aim_target_day BIGINT,
    status TEXT NOT NULL,
    diagram_aim TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX qi_projects_org ON qi_projects (org_code);

-- Every change of status, the first ("active" when the project was registered) included.
CREATE TABLE qi_status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    status TEXT NOT NULL,
    user_name TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX qi_status_history_project ON qi_status_history (project_id, id);

CREATE TABLE qi_team (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    position BIGINT NOT NULL,
    user_name TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (project_id, user_name)
);

-- The family of measures: catalogue measures (kind 'catalogue') and the team's own (kind
-- 'project', defined in qi_own_measures), each outcome, process or balancing.
CREATE TABLE qi_measures (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    position BIGINT NOT NULL,
    role TEXT NOT NULL,
    measure_kind TEXT NOT NULL,
    measure_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (project_id, measure_kind, measure_id)
);

-- The team's own measures ("% of shifts that held a safety huddle"): what they count, the
-- unit, and which direction is better (increase, decrease or neutral).
CREATE TABLE qi_own_measures (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    measure_id TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    direction TEXT NOT NULL,
    PRIMARY KEY (project_id, measure_id)
);

-- One value per own measure and month (month_day: the day number of the month's first day).
CREATE TABLE qi_own_values (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    measure_id TEXT NOT NULL,
    month_day BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    user_name TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (project_id, measure_id, month_day)
);

-- Driver diagram nodes (kind primary, secondary or change_idea) and their links to parents
-- (a secondary's primaries, a change idea's secondaries), in the team's order.
CREATE TABLE qi_nodes (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    node_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (project_id, node_id)
);
CREATE TABLE qi_node_links (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    child TEXT NOT NULL,
    parent TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (project_id, child, parent)
);

-- PDSA cycles. Dates are day numbers; act_* are all NULL until the team decides.
CREATE TABLE qi_cycles (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    cycle_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    change_idea TEXT NOT NULL,
    question TEXT NOT NULL,
    prediction_measure_kind TEXT NOT NULL,
    prediction_measure_id TEXT NOT NULL,
    prediction_direction TEXT NOT NULL,
    prediction_text TEXT NOT NULL,
    plan_who TEXT NOT NULL,
    plan_what TEXT NOT NULL,
    plan_where TEXT NOT NULL,
    plan_when TEXT NOT NULL,
    do_start BIGINT,
    do_end BIGINT,
    do_notes TEXT NOT NULL,
    study TEXT NOT NULL,
    act_decision TEXT,
    act_day BIGINT,
    act_notes TEXT,
    next_cycle TEXT,
    PRIMARY KEY (project_id, cycle_id)
);

-- Wards a change spread to, with the measure there that is the evidence.
CREATE TABLE qi_spread (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    position BIGINT NOT NULL,
    ward TEXT NOT NULL,
    change_idea TEXT NOT NULL,
    adopted_day BIGINT NOT NULL,
    evidence_kind TEXT NOT NULL,
    evidence_id TEXT NOT NULL,
    notes TEXT NOT NULL,
    PRIMARY KEY (project_id, position)
);

-- Scores the team set by hand (halves: 1 is 0.5, 10 is 5.0), with the reason; the newest is
-- the one in force, the rest are its history.
CREATE TABLE qi_scores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    halves BIGINT NOT NULL,
    reason TEXT NOT NULL,
    user_name TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX qi_scores_project ON qi_scores (project_id, id);
