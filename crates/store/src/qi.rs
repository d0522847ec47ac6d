//! Quality improvement projects (issue 11, docs/qi.md): a `qi::Project` kept in its own tables
//! (project and aim, status history, team, family of measures, driver diagram nodes and links,
//! PDSA cycles, spread), the team's own measures with their monthly values, and the scores set
//! by hand. The record's rules live in the `qi` crate; callers validate before they save. Every
//! change is written with its audit entry in one transaction, so a change is never unaudited
//! and a refused change leaves nothing behind. One SQL text for both engines.

use crate::{Result, Store, StoreError};
use domain::dates::{date_from_day, day_number};
use qi::{
    Act, Aim, ChangeIdea, Cycle, Decision, Do, Expected, FamilyMeasure, MeasureRef, MeasureRole,
    OrgLevel, Organisation, Plan, Prediction, Primary, Project, Score, Secondary, SetScore, Spread,
    Status, TeamMember, TeamRole,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;
use time::Date;

/// A project as stored: its id, the record, and who registered it when.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredProject {
    pub id: i64,
    pub project: Project,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

/// One of the team's own measures: what it counts, its unit, and which way is better
/// (`increase`, `decrease` or `neutral`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnMeasure {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub direction: String,
}

/// A monthly value of an own measure (`month`: the month's first day).
#[derive(Clone, Debug, PartialEq)]
pub struct OwnValue {
    pub measure: String,
    pub month: Date,
    pub value: f64,
    pub user: String,
    pub at: String,
}

/// A change of status (the first is the status the project was registered with).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChange {
    pub status: Status,
    pub user: String,
    pub at: String,
}

/// A score set by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreRow {
    pub id: i64,
    pub score: Score,
    pub reason: String,
    pub user: String,
    pub at: String,
}

pub const DIRECTIONS: [&str; 3] = ["increase", "decrease", "neutral"];

fn bad(what: &str, found: &str) -> StoreError {
    StoreError::Invalid(format!("stored QI record: unknown {what} '{found}'"))
}

pub fn team_role_str(r: TeamRole) -> &'static str {
    match r {
        TeamRole::Lead => "lead",
        TeamRole::Sponsor => "sponsor",
        TeamRole::Member => "member",
    }
}

pub fn parse_team_role(s: &str) -> Option<TeamRole> {
    match s {
        "lead" => Some(TeamRole::Lead),
        "sponsor" => Some(TeamRole::Sponsor),
        "member" => Some(TeamRole::Member),
        _ => None,
    }
}

pub fn expected_str(e: Expected) -> &'static str {
    match e {
        Expected::Increase => "increase",
        Expected::Decrease => "decrease",
        Expected::NoChange => "no_change",
    }
}

pub fn parse_expected(s: &str) -> Option<Expected> {
    match s {
        "increase" => Some(Expected::Increase),
        "decrease" => Some(Expected::Decrease),
        "no_change" => Some(Expected::NoChange),
        _ => None,
    }
}

pub fn parse_status(s: &str) -> Option<Status> {
    [
        Status::Active,
        Status::Paused,
        Status::Completed,
        Status::Stopped,
    ]
    .into_iter()
    .find(|x| x.as_str() == s)
}

pub fn parse_role(s: &str) -> Option<MeasureRole> {
    [
        MeasureRole::Outcome,
        MeasureRole::Process,
        MeasureRole::Balancing,
    ]
    .into_iter()
    .find(|x| x.as_str() == s)
}

pub fn parse_decision(s: &str) -> Option<Decision> {
    [Decision::Adopt, Decision::Adapt, Decision::Abandon]
        .into_iter()
        .find(|x| x.as_str() == s)
}

pub fn parse_level(s: &str) -> Option<OrgLevel> {
    [OrgLevel::Ward, OrgLevel::Site, OrgLevel::Trust]
        .into_iter()
        .find(|x| x.as_str() == s)
}

fn measure_kind(m: &MeasureRef) -> &'static str {
    match m {
        MeasureRef::Catalogue(_) => "catalogue",
        MeasureRef::Project(_) => "project",
    }
}

fn measure_ref(kind: &str, id: String) -> Result<MeasureRef> {
    match kind {
        "catalogue" => Ok(MeasureRef::Catalogue(id)),
        "project" => Ok(MeasureRef::Project(id)),
        other => Err(bad("measure kind", other)),
    }
}

fn day(d: Date) -> i64 {
    i64::from(day_number(d))
}

fn date(n: i64) -> Date {
    date_from_day(n as i32)
}

fn target(id: i64) -> String {
    format!("qi/{id}")
}

/// The audit entry of a change, inside the change's transaction (as `Store::audit_for`).
/// Writes the value of own measure `measure` for the month holding `month`, replacing any value
/// held for that month, with who wrote it and when.
async fn upsert_own_value(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    measure: &str,
    month: Date,
    value: f64,
    user: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO qi_own_values (project_id, measure_id, month_day, value, user_name, at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (project_id, measure_id, month_day) DO UPDATE SET value = excluded.value, user_name = excluded.user_name, at = excluded.at",
    )
    .bind(id)
    .bind(measure)
    .bind(day(month.replace_day(1).unwrap_or(month)))
    .bind(value)
    .bind(user)
    .bind(crate::imports::now_iso())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn audit_tx(
    tx: &mut Transaction<'_, Any>,
    user: &str,
    action: &str,
    id: i64,
    org: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_name, action, target, org_code, detail) VALUES ($1, $2, $3, $4, \
         COALESCE((SELECT code FROM organisations WHERE code = $5), (SELECT code FROM wards WHERE code = $5)), $6)",
    )
    .bind(crate::imports::now_iso())
    .bind(user)
    .bind(action)
    .bind(target(id))
    .bind(org)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The aim's baseline and target. A missing aim is written as NULL in the SQL text rather than
/// bound: sqlx 0.8.6's `Any` driver declares a NULL `f64` as a 4-byte float to PostgreSQL, and
/// the statement, cached with that type, then refuses the next real 8-byte value ("incorrect
/// binary data format in bind parameter").
async fn write_aim_values(tx: &mut Transaction<'_, Any>, id: i64, p: &Project) -> Result<()> {
    match &p.aim {
        Some(a) => {
            sqlx::query("UPDATE qi_projects SET aim_baseline = $2, aim_target = $3 WHERE id = $1")
                .bind(id)
                .bind(a.baseline)
                .bind(a.target)
                .execute(&mut **tx)
                .await?
        }
        None => {
            sqlx::query(
                "UPDATE qi_projects SET aim_baseline = NULL, aim_target = NULL WHERE id = $1",
            )
            .bind(id)
            .execute(&mut **tx)
            .await?
        }
    };
    Ok(())
}

const CHILD_TABLES: [&str; 6] = [
    "qi_team",
    "qi_measures",
    "qi_nodes",
    "qi_node_links",
    "qi_cycles",
    "qi_spread",
];

async fn write_children(tx: &mut Transaction<'_, Any>, id: i64, p: &Project) -> Result<()> {
    for t in CHILD_TABLES {
        sqlx::query(&format!("DELETE FROM {t} WHERE project_id = $1"))
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    for (i, m) in p.team.iter().enumerate() {
        sqlx::query(
            "INSERT INTO qi_team (project_id, position, user_name, role) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(&m.user)
        .bind(team_role_str(m.role))
        .execute(&mut **tx)
        .await?;
    }
    for (i, m) in p.measures.iter().enumerate() {
        sqlx::query("INSERT INTO qi_measures (project_id, position, role, measure_kind, measure_id, name) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(i as i64)
            .bind(m.role.as_str())
            .bind(measure_kind(&m.measure))
            .bind(m.measure.id())
            .bind(&m.name)
            .execute(&mut **tx)
            .await?;
    }
    let d = &p.diagram;
    let nodes = d
        .primaries
        .iter()
        .map(|n| ("primary", &n.id, &n.text, Vec::new()))
        .chain(
            d.secondaries
                .iter()
                .map(|n| ("secondary", &n.id, &n.text, n.primaries.clone())),
        )
        .chain(
            d.change_ideas
                .iter()
                .map(|n| ("change_idea", &n.id, &n.text, n.secondaries.clone())),
        );
    for (i, (kind, node, text, parents)) in nodes.enumerate() {
        sqlx::query("INSERT INTO qi_nodes (project_id, node_id, kind, position, text) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(node)
            .bind(kind)
            .bind(i as i64)
            .bind(text)
            .execute(&mut **tx)
            .await?;
        for (j, parent) in parents.iter().enumerate() {
            sqlx::query("INSERT INTO qi_node_links (project_id, child, parent, position) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(node)
                .bind(parent)
                .bind(j as i64)
                .execute(&mut **tx)
                .await?;
        }
    }
    for (i, c) in p.cycles.iter().enumerate() {
        sqlx::query(
            "INSERT INTO qi_cycles (project_id, cycle_id, position, change_idea, question, \
             prediction_measure_kind, prediction_measure_id, prediction_direction, prediction_text, \
             plan_who, plan_what, plan_where, plan_when, do_start, do_end, do_notes, study, \
             act_decision, act_day, act_notes, next_cycle, act_rebase) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        )
        .bind(id)
        .bind(&c.id)
        .bind(i as i64)
        .bind(&c.change_idea)
        .bind(&c.question)
        .bind(measure_kind(&c.prediction.measure))
        .bind(c.prediction.measure.id())
        .bind(expected_str(c.prediction.direction))
        .bind(&c.prediction.text)
        .bind(&c.plan.who)
        .bind(&c.plan.what)
        .bind(&c.plan.where_)
        .bind(&c.plan.when)
        .bind(c.do_.start.map(day))
        .bind(c.do_.end.map(day))
        .bind(&c.do_.notes)
        .bind(&c.study)
        .bind(c.act.as_ref().map(|a| a.decision.as_str().to_string()))
        .bind(c.act.as_ref().map(|a| day(a.date)))
        .bind(c.act.as_ref().map(|a| a.notes.clone()))
        .bind(c.next.clone())
        .bind(i64::from(c.act.as_ref().is_some_and(|a| a.rebase)))
        .execute(&mut **tx)
        .await?;
    }
    for (i, s) in p.spread.iter().enumerate() {
        sqlx::query("INSERT INTO qi_spread (project_id, position, ward, change_idea, adopted_day, evidence_kind, evidence_id, notes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id)
            .bind(i as i64)
            .bind(&s.ward)
            .bind(&s.change_idea)
            .bind(day(s.adopted))
            .bind(measure_kind(&s.evidence))
            .bind(s.evidence.id())
            .bind(&s.notes)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

const PROJECT_COLUMNS: &str = "id, org_level, org_code, title, charter, aim_measure_kind, aim_measure_id, aim_baseline, aim_target, aim_target_day, status, diagram_aim, created_by, created_at, updated_at";

fn project_row(r: &AnyRow) -> Result<StoredProject> {
    let level: String = r.try_get(1)?;
    let status: String = r.try_get(10)?;
    let aim_kind: Option<String> = r.try_get(5)?;
    let aim_id: Option<String> = r.try_get(6)?;
    let baseline: Option<f64> = r.try_get(7)?;
    let target: Option<f64> = r.try_get(8)?;
    let target_day: Option<i64> = r.try_get(9)?;
    let aim = match (aim_kind, aim_id, baseline, target, target_day) {
        (Some(k), Some(m), Some(b), Some(t), Some(d)) => Some(Aim {
            measure: measure_ref(&k, m)?,
            baseline: b,
            target: t,
            target_date: date(d),
        }),
        _ => None,
    };
    let mut project = Project::new(
        r.try_get::<String, _>(3)?,
        Organisation {
            level: parse_level(&level).ok_or_else(|| bad("level", &level))?,
            code: r.try_get(2)?,
        },
    );
    project.charter = r.try_get(4)?;
    project.aim = aim;
    project.status = parse_status(&status).ok_or_else(|| bad("status", &status))?;
    project.diagram.aim = r.try_get(11)?;
    Ok(StoredProject {
        id: r.try_get(0)?,
        project,
        created_by: r.try_get(12)?,
        created_at: r.try_get(13)?,
        updated_at: r.try_get(14)?,
    })
}

impl Store {
    /// Registers a project (already validated by the caller) and returns its id. Its first
    /// status goes into the history, and the audit log records who registered it.
    pub async fn qi_create(&self, p: &Project, user: &str) -> Result<i64> {
        let now = crate::imports::now_iso();
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO qi_projects (org_level, org_code, title, charter, aim_measure_kind, aim_measure_id, \
             aim_target_day, status, diagram_aim, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(p.organisation.level.as_str())
        .bind(&p.organisation.code)
        .bind(&p.title)
        .bind(&p.charter)
        .bind(p.aim.as_ref().map(|a| measure_kind(&a.measure).to_string()))
        .bind(p.aim.as_ref().map(|a| a.measure.id().to_string()))
        .bind(p.aim.as_ref().map(|a| day(a.target_date)))
        .bind(p.status.as_str())
        .bind(&p.diagram.aim)
        .bind(user)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        write_aim_values(&mut tx, id, p).await?;
        write_children(&mut tx, id, p).await?;
        sqlx::query("INSERT INTO qi_status_history (project_id, status, user_name, at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(p.status.as_str())
            .bind(user)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        audit_tx(
            &mut tx,
            user,
            "qi_project_created",
            id,
            &p.organisation.code,
            &format!("project {id}: {}", p.title),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces project `id`'s record with `p` (validated by the caller), and audits the
    /// change as `action` with `detail`. A change of status goes into the history. The
    /// project's organisation never changes. Returns false when there is no such project.
    pub async fn qi_save(
        &self,
        id: i64,
        p: &Project,
        user: &str,
        action: &str,
        detail: &str,
    ) -> Result<bool> {
        let now = crate::imports::now_iso();
        let mut tx = self.pool.begin().await?;
        let old: Option<(String, String)> =
            sqlx::query_as("SELECT status, org_code FROM qi_projects WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((old_status, org)) = old else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE qi_projects SET title = $2, charter = $3, aim_measure_kind = $4, aim_measure_id = $5, \
             aim_target_day = $6, status = $7, diagram_aim = $8, updated_at = $9 WHERE id = $1",
        )
        .bind(id)
        .bind(&p.title)
        .bind(&p.charter)
        .bind(p.aim.as_ref().map(|a| measure_kind(&a.measure).to_string()))
        .bind(p.aim.as_ref().map(|a| a.measure.id().to_string()))
        .bind(p.aim.as_ref().map(|a| day(a.target_date)))
        .bind(p.status.as_str())
        .bind(&p.diagram.aim)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        write_aim_values(&mut tx, id, p).await?;
        write_children(&mut tx, id, p).await?;
        if old_status != p.status.as_str() {
            sqlx::query("INSERT INTO qi_status_history (project_id, status, user_name, at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(p.status.as_str())
                .bind(user)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
        audit_tx(&mut tx, user, action, id, &org, detail).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One project, with everything in its record.
    pub async fn qi_project(&self, id: i64) -> Result<Option<StoredProject>> {
        let row = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM qi_projects WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut p = project_row(&row)?;
        let mut one = vec![p.clone()];
        self.fill(&mut one, Some(id)).await?;
        p = one.pop().unwrap_or(p);
        Ok(Some(p))
    }

    /// Every project, in id order (callers keep those the user may see).
    pub async fn qi_projects(&self) -> Result<Vec<StoredProject>> {
        let rows = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM qi_projects ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows.iter().map(project_row).collect::<Result<Vec<_>>>()?;
        self.fill(&mut out, None).await?;
        Ok(out)
    }

    /// Reads the child tables (of one project, or of all) into the projects.
    async fn fill(&self, projects: &mut [StoredProject], only: Option<i64>) -> Result<()> {
        let index: HashMap<i64, usize> = projects
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i))
            .collect();
        // One SQL text per table either way: all projects are those whose id is not -1.
        let filter = if only.is_some() {
            "WHERE project_id = $1"
        } else {
            "WHERE project_id <> $1"
        };
        let arg = only.unwrap_or(-1);
        let fetch = |sql: String| async move {
            sqlx::query(&sql)
                .bind(arg)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::from)
        };
        let get = |pid: i64| index.get(&pid).copied();

        for r in fetch(format!(
            "SELECT project_id, user_name, role FROM qi_team {filter} ORDER BY project_id, position"
        ))
        .await?
        {
            if let Some(i) = get(r.try_get(0)?) {
                let role: String = r.try_get(2)?;
                projects[i].project.team.push(TeamMember {
                    user: r.try_get(1)?,
                    role: parse_team_role(&role).ok_or_else(|| bad("team role", &role))?,
                });
            }
        }
        for r in fetch(format!("SELECT project_id, role, measure_kind, measure_id, name FROM qi_measures {filter} ORDER BY project_id, position")).await? {
            if let Some(i) = get(r.try_get(0)?) {
                let role: String = r.try_get(1)?;
                let kind: String = r.try_get(2)?;
                projects[i].project.measures.push(FamilyMeasure {
                    role: parse_role(&role).ok_or_else(|| bad("measure role", &role))?,
                    measure: measure_ref(&kind, r.try_get(3)?)?,
                    name: r.try_get(4)?,
                });
            }
        }
        let mut links: HashMap<(i64, String), Vec<String>> = HashMap::new();
        for r in fetch(format!("SELECT project_id, child, parent FROM qi_node_links {filter} ORDER BY project_id, child, position")).await? {
            links
                .entry((r.try_get(0)?, r.try_get(1)?))
                .or_default()
                .push(r.try_get(2)?);
        }
        for r in fetch(format!("SELECT project_id, node_id, kind, text FROM qi_nodes {filter} ORDER BY project_id, position")).await? {
            let pid: i64 = r.try_get(0)?;
            if let Some(i) = get(pid) {
                let id: String = r.try_get(1)?;
                let kind: String = r.try_get(2)?;
                let text: String = r.try_get(3)?;
                let parents = links.remove(&(pid, id.clone())).unwrap_or_default();
                let d = &mut projects[i].project.diagram;
                match kind.as_str() {
                    "primary" => d.primaries.push(Primary { id, text }),
                    "secondary" => d.secondaries.push(Secondary { id, text, primaries: parents }),
                    "change_idea" => d.change_ideas.push(ChangeIdea { id, text, secondaries: parents }),
                    other => return Err(bad("diagram node kind", other)),
                }
            }
        }
        for r in fetch(format!(
            "SELECT project_id, cycle_id, change_idea, question, prediction_measure_kind, prediction_measure_id, \
             prediction_direction, prediction_text, plan_who, plan_what, plan_where, plan_when, do_start, do_end, \
             do_notes, study, act_decision, act_day, act_notes, next_cycle, act_rebase FROM qi_cycles {filter} ORDER BY project_id, position"
        ))
        .await?
        {
            if let Some(i) = get(r.try_get(0)?) {
                let kind: String = r.try_get(4)?;
                let dir: String = r.try_get(6)?;
                let decision: Option<String> = r.try_get(16)?;
                let act_day: Option<i64> = r.try_get(17)?;
                let act = match (decision, act_day) {
                    (Some(dcs), Some(d)) => Some(Act {
                        decision: parse_decision(&dcs).ok_or_else(|| bad("decision", &dcs))?,
                        date: date(d),
                        notes: r.try_get::<Option<String>, _>(18)?.unwrap_or_default(),
                        rebase: r.try_get::<i64, _>(20)? != 0,
                    }),
                    _ => None,
                };
                projects[i].project.cycles.push(Cycle {
                    id: r.try_get(1)?,
                    change_idea: r.try_get(2)?,
                    question: r.try_get(3)?,
                    prediction: Prediction {
                        measure: measure_ref(&kind, r.try_get(5)?)?,
                        direction: parse_expected(&dir).ok_or_else(|| bad("direction", &dir))?,
                        text: r.try_get(7)?,
                    },
                    plan: Plan {
                        who: r.try_get(8)?,
                        what: r.try_get(9)?,
                        where_: r.try_get(10)?,
                        when: r.try_get(11)?,
                    },
                    do_: Do {
                        start: r.try_get::<Option<i64>, _>(12)?.map(date),
                        end: r.try_get::<Option<i64>, _>(13)?.map(date),
                        notes: r.try_get(14)?,
                    },
                    study: r.try_get(15)?,
                    act,
                    next: r.try_get(19)?,
                });
            }
        }
        for r in fetch(format!("SELECT project_id, ward, change_idea, adopted_day, evidence_kind, evidence_id, notes FROM qi_spread {filter} ORDER BY project_id, position")).await? {
            if let Some(i) = get(r.try_get(0)?) {
                let kind: String = r.try_get(4)?;
                projects[i].project.spread.push(Spread {
                    ward: r.try_get(1)?,
                    change_idea: r.try_get(2)?,
                    adopted: date(r.try_get(3)?),
                    evidence: measure_ref(&kind, r.try_get(5)?)?,
                    notes: r.try_get(6)?,
                });
            }
        }
        Ok(())
    }

    /// Adds one of the team's own measures to project `id`: its definition, and its place in
    /// the family as `role`. The caller has checked the id is free and the family valid.
    pub async fn qi_add_own_measure(
        &self,
        id: i64,
        m: &OwnMeasure,
        role: MeasureRole,
        user: &str,
    ) -> Result<()> {
        if !DIRECTIONS.contains(&m.direction.as_str()) {
            return Err(StoreError::Invalid(format!(
                "direction: expected increase, decrease or neutral; found \"{}\"",
                m.direction
            )));
        }
        let mut tx = self.pool.begin().await?;
        let org: Option<(String,)> =
            sqlx::query_as("SELECT org_code FROM qi_projects WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((org,)) = org else {
            return Err(StoreError::Invalid(format!("there is no project {id}")));
        };
        sqlx::query("INSERT INTO qi_own_measures (project_id, measure_id, name, unit, direction) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(&m.id)
            .bind(&m.name)
            .bind(&m.unit)
            .bind(&m.direction)
            .execute(&mut *tx)
            .await?;
        let (next,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM qi_measures WHERE project_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO qi_measures (project_id, position, role, measure_kind, measure_id, name) VALUES ($1, $2, $3, 'project', $4, $5)")
            .bind(id)
            .bind(next)
            .bind(role.as_str())
            .bind(&m.id)
            .bind(&m.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE qi_projects SET updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(crate::imports::now_iso())
            .execute(&mut *tx)
            .await?;
        audit_tx(
            &mut tx,
            user,
            "qi_measure_added",
            id,
            &org,
            &format!(
                "project {id}: own measure {} ({}, {}): {}",
                m.id,
                role.as_str(),
                m.direction,
                m.name
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The team's own measures of project `id`, in the order they were added.
    pub async fn qi_own_measures(&self, id: i64) -> Result<Vec<OwnMeasure>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT o.measure_id, o.name, o.unit, o.direction FROM qi_own_measures o \
             LEFT JOIN qi_measures m ON m.project_id = o.project_id AND m.measure_kind = 'project' AND m.measure_id = o.measure_id \
             WHERE o.project_id = $1 ORDER BY COALESCE(m.position, 0), o.measure_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, unit, direction)| OwnMeasure {
                id,
                name,
                unit,
                direction,
            })
            .collect())
    }

    /// Sets the value of own measure `measure` for the month starting `month` (replacing any
    /// value for that month), audited.
    pub async fn qi_set_value(
        &self,
        id: i64,
        measure: &str,
        month: Date,
        value: f64,
        user: &str,
    ) -> Result<()> {
        if !value.is_finite() {
            return Err(StoreError::Invalid(
                "value: expected a finite number".into(),
            ));
        }
        let month = month.replace_day(1).unwrap_or(month);
        let mut tx = self.pool.begin().await?;
        let org: Option<(String,)> = sqlx::query_as(
            "SELECT p.org_code FROM qi_projects p JOIN qi_own_measures o ON o.project_id = p.id \
             WHERE p.id = $1 AND o.measure_id = $2",
        )
        .bind(id)
        .bind(measure)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((org,)) = org else {
            return Err(StoreError::Invalid(format!(
                "measure: expected one of the project's own measures; found \"{measure}\""
            )));
        };
        upsert_own_value(&mut tx, id, measure, month, value, user).await?;
        audit_tx(
            &mut tx,
            user,
            "qi_value_set",
            id,
            &org,
            &format!(
                "project {id}: {measure} {}-{:02} = {value}",
                month.year(),
                u8::from(month.month())
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets many monthly values of project `id`'s own measures at once (an uploaded file,
    /// `file`), in one transaction with one audit row: all are written or none. Each month
    /// replaces any value held for it. The caller has read and checked the file.
    pub async fn qi_set_values(
        &self,
        id: i64,
        values: &[(String, Date, f64)],
        file: &str,
        user: &str,
    ) -> Result<()> {
        if let Some((m, _, v)) = values.iter().find(|(_, _, v)| !v.is_finite()) {
            return Err(StoreError::Invalid(format!(
                "value of {m}: expected a finite number; found {v}"
            )));
        }
        let mut tx = self.pool.begin().await?;
        let org: Option<(String,)> =
            sqlx::query_as("SELECT org_code FROM qi_projects WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((org,)) = org else {
            return Err(StoreError::Invalid(format!("there is no project {id}")));
        };
        let own: Vec<(String,)> =
            sqlx::query_as("SELECT measure_id FROM qi_own_measures WHERE project_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let mut measures = std::collections::BTreeSet::new();
        for (measure, month, value) in values {
            if !own.iter().any(|(m,)| m == measure) {
                return Err(StoreError::Invalid(format!(
                    "measure: expected one of the project's own measures; found \"{measure}\""
                )));
            }
            upsert_own_value(&mut tx, id, measure, *month, *value, user).await?;
            measures.insert(measure.as_str());
        }
        audit_tx(
            &mut tx,
            user,
            "qi_values_uploaded",
            id,
            &org,
            &format!(
                "project {id}: {} monthly values of {} from the file {file}",
                values.len(),
                measures.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The monthly values of project `id`'s own measures, by measure then month.
    pub async fn qi_values(&self, id: i64) -> Result<Vec<OwnValue>> {
        let rows: Vec<(String, i64, f64, String, String)> = sqlx::query_as(
            "SELECT measure_id, month_day, value, user_name, at FROM qi_own_values WHERE project_id = $1 ORDER BY measure_id, month_day",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(measure, d, value, user, at)| OwnValue {
                measure,
                month: date(d),
                value,
                user,
                at,
            })
            .collect())
    }

    /// Every change of project `id`'s status, oldest first.
    pub async fn qi_status_history(&self, id: i64) -> Result<Vec<StatusChange>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT status, user_name, at FROM qi_status_history WHERE project_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(s, user, at)| {
                Ok(StatusChange {
                    status: parse_status(&s).ok_or_else(|| bad("status", &s))?,
                    user,
                    at,
                })
            })
            .collect()
    }

    /// Records a score the team set by hand (checked by `qi::set_score`), audited with its
    /// reason. Returns false when there is no such project.
    pub async fn qi_set_score(&self, id: i64, s: &SetScore, user: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let org: Option<(String,)> =
            sqlx::query_as("SELECT org_code FROM qi_projects WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((org,)) = org else { return Ok(false) };
        sqlx::query("INSERT INTO qi_scores (project_id, halves, reason, user_name, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(i64::from(s.score.halves()))
            .bind(&s.reason)
            .bind(user)
            .bind(crate::imports::now_iso())
            .execute(&mut *tx)
            .await?;
        audit_tx(
            &mut tx,
            user,
            "qi_score_set",
            id,
            &org,
            &format!("project {id}: score {} because {}", s.score, s.reason),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The scores set by hand for project `id`, newest first (the first is the one in force).
    pub async fn qi_scores(&self, id: i64) -> Result<Vec<ScoreRow>> {
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, halves, reason, user_name, at FROM qi_scores WHERE project_id = $1 ORDER BY id DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(score_row).collect()
    }

    /// The score in force (the newest set by hand) of every project that has one.
    pub async fn qi_latest_scores(&self) -> Result<HashMap<i64, ScoreRow>> {
        let rows: Vec<(i64, i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT s.project_id, s.id, s.halves, s.reason, s.user_name, s.at FROM qi_scores s \
             WHERE s.id = (SELECT MAX(t.id) FROM qi_scores t WHERE t.project_id = s.project_id)",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::new();
        for (pid, id, h, reason, user, at) in rows {
            out.insert(pid, score_row((id, h, reason, user, at))?);
        }
        Ok(out)
    }

    /// Every project's own measures and values (for the programme view), by project id.
    pub async fn qi_all_own(&self) -> Result<HashMap<i64, (Vec<OwnMeasure>, Vec<OwnValue>)>> {
        let mut out: HashMap<i64, (Vec<OwnMeasure>, Vec<OwnValue>)> = HashMap::new();
        let defs: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT project_id, measure_id, name, unit, direction FROM qi_own_measures ORDER BY project_id, measure_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for (pid, id, name, unit, direction) in defs {
            out.entry(pid).or_default().0.push(OwnMeasure {
                id,
                name,
                unit,
                direction,
            });
        }
        let values: Vec<(i64, String, i64, f64, String, String)> = sqlx::query_as(
            "SELECT project_id, measure_id, month_day, value, user_name, at FROM qi_own_values ORDER BY project_id, measure_id, month_day",
        )
        .fetch_all(&self.pool)
        .await?;
        for (pid, measure, d, value, user, at) in values {
            out.entry(pid).or_default().1.push(OwnValue {
                measure,
                month: date(d),
                value,
                user,
                at,
            });
        }
        Ok(out)
    }
}

fn score_row((id, h, reason, user, at): (i64, i64, String, String, String)) -> Result<ScoreRow> {
    let score = u8::try_from(h)
        .ok()
        .and_then(Score::from_halves)
        .ok_or_else(|| bad("score", &h.to_string()))?;
    Ok(ScoreRow {
        id,
        score,
        reason,
        user,
        at,
    })
}
