-- The Patient Safety Network (issue 12; docs/network.md): the change idea library shared by
-- every organisation (categories from a catalogue the programme admin edits, seeded below),
-- the measures each idea aims to move, the links from QI projects' change ideas to library
-- ideas (a project's PDSA cycles reach the library through their change idea), peer groups set
-- by the programme admin, stories and comments (moderated: 'pending', 'published',
-- 'rejected'), team contacts that agree to be asked, and learning events. Dates are day numbers.
CREATE TABLE net_categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL
);

CREATE TABLE net_ideas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    category_id BIGINT NOT NULL REFERENCES net_categories(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE net_idea_measures (
    idea_id BIGINT NOT NULL REFERENCES net_ideas(id),
    measure_id TEXT NOT NULL,
    PRIMARY KEY (idea_id, measure_id)
);

CREATE TABLE net_idea_links (
    project_id BIGINT NOT NULL REFERENCES qi_projects(id),
    change_idea TEXT NOT NULL,
    idea_id BIGINT NOT NULL REFERENCES net_ideas(id),
    linked_by TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    PRIMARY KEY (project_id, change_idea)
);
CREATE INDEX net_idea_links_idea ON net_idea_links (idea_id);

CREATE TABLE net_peer_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- A member is a ward code or a trust's ODS code.
CREATE TABLE net_peer_group_members (
    group_id BIGINT NOT NULL REFERENCES net_peer_groups(id),
    member_code TEXT NOT NULL,
    PRIMARY KEY (group_id, member_code)
);

CREATE TABLE net_stories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_code TEXT NOT NULL,
    idea_id BIGINT REFERENCES net_ideas(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    chart_measure TEXT,
    status TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    moderated_by TEXT,
    moderated_at TEXT
);
CREATE INDEX net_stories_status ON net_stories (status, id);

-- A comment or question on an idea ('idea') or a story ('story').
CREATE TABLE net_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target_kind TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    body TEXT NOT NULL,
    is_question BIGINT NOT NULL,
    status TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    moderated_by TEXT,
    moderated_at TEXT
);
CREATE INDEX net_comments_target ON net_comments (target_kind, target_id, id);

-- The contact of a team (a ward or a trust) that agrees to be asked about its work.
CREATE TABLE net_contacts (
    org_code TEXT NOT NULL PRIMARY KEY,
    user_name TEXT NOT NULL,
    team TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    agreed_at TEXT NOT NULL
);

CREATE TABLE net_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    day BIGINT NOT NULL,
    place TEXT NOT NULL,
    material TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX net_events_day ON net_events (day);

-- The catalogue as seeded: the ten Safewards interventions (Bowers 2014) and the themes of the
-- national restrictive practice collaborative. The programme admin edits it.
INSERT INTO net_categories (family, name, description, position) VALUES
 ('Safewards', 'Clear mutual expectations', 'Rules for staff and patients agreed together and displayed.', 1),
 ('Safewards', 'Soft words', 'Care in how limits are set and requests refused.', 2),
 ('Safewards', 'Talk down', 'De-escalation: delimiting, clarifying and resolving.', 3),
 ('Safewards', 'Positive words', 'Saying something positive about each patient at handover.', 4),
 ('Safewards', 'Bad news mitigation', 'Anticipating and softening bad news.', 5),
 ('Safewards', 'Know each other', 'Staff and patients share interests and ideas.', 6),
 ('Safewards', 'Mutual help meeting', 'A regular meeting where patients offer and receive help.', 7),
 ('Safewards', 'Calm down methods', 'A kit of calming activities before PRN or restraint.', 8),
 ('Safewards', 'Reassurance', 'Talking to every patient after an incident on the ward.', 9),
 ('Safewards', 'Discharge messages', 'Messages of hope from patients leaving the ward.', 10),
 ('Restrictive practice collaborative', 'Safety huddles', 'Short daily meetings to spot and plan for risk.', 11),
 ('Restrictive practice collaborative', 'Patient and carer involvement', 'Co-producing the ward''s approach with patients and carers.', 12),
 ('Restrictive practice collaborative', 'Post-incident support and debrief', 'Reviewing each incident with the patient and the staff.', 13),
 ('Restrictive practice collaborative', 'Therapeutic activities and engagement', 'Meaningful activity, especially evenings and weekends.', 14),
 ('Restrictive practice collaborative', 'Sensory approaches and environment', 'Sensory rooms, comfort items, calmer spaces.', 15),
 ('Restrictive practice collaborative', 'Reducing blanket restrictions', 'Reviewing rules that apply to everyone regardless of risk.', 16),
 ('Restrictive practice collaborative', 'Trauma-informed care', 'Understanding distress through the person''s history.', 17),
 ('Restrictive practice collaborative', 'Staff skills and leadership', 'Training, supervision and visible ward leadership.', 18);
