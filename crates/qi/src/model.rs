//! The record of a quality improvement project: its aim, team, family of measures, driver
//! diagram, PDSA cycles and spread. Plain data; `crate::validate` says what is allowed.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

/// Where a project runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgLevel {
    Ward,
    Site,
    Trust,
}

impl OrgLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgLevel::Ward => "ward",
            OrgLevel::Site => "site",
            OrgLevel::Trust => "trust",
        }
    }
}

/// The organisation a project belongs to: its level and its code (ward code or ODS code).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Organisation {
    pub level: OrgLevel,
    pub code: String,
}

/// A measure: one of the catalogue's (by its id, e.g. `restraint_rate`) or one the team defined
/// for this project (by the project measure's id, e.g. `huddles`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum MeasureRef {
    Catalogue(String),
    Project(String),
}

impl MeasureRef {
    pub fn id(&self) -> &str {
        match self {
            MeasureRef::Catalogue(id) | MeasureRef::Project(id) => id,
        }
    }
}

impl fmt::Display for MeasureRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeasureRef::Catalogue(id) => write!(f, "{id}"),
            MeasureRef::Project(id) => write!(f, "project measure {id}"),
        }
    }
}

/// The three kinds of measure in a family of measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureRole {
    /// What patients experience (e.g. the restraint rate).
    Outcome,
    /// Are we doing the change (e.g. % of shifts with a huddle).
    Process,
    /// What could get worse (e.g. rapid tranquillisation, staff injuries).
    Balancing,
}

impl MeasureRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureRole::Outcome => "outcome",
            MeasureRole::Process => "process",
            MeasureRole::Balancing => "balancing",
        }
    }
}

/// One measure of the project's family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyMeasure {
    pub role: MeasureRole,
    pub measure: MeasureRef,
    /// The name shown to people ("Restraints per 1,000 occupied bed days").
    pub name: String,
}

/// The aim: what (the measure), by how much (from the baseline to the target), by when.
/// Values are in the measure's charted units (a rate already multiplied, a percentage as 0-100
/// when the chart shows 0-100).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aim {
    pub measure: MeasureRef,
    pub baseline: f64,
    pub target: f64,
    #[serde(with = "crate::dates::serde_iso")]
    pub target_date: Date,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Paused,
    Completed,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Completed => "completed",
            Status::Stopped => "stopped",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    Lead,
    Sponsor,
    Member,
}

/// A member of the team: a user's login name and their part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub user: String,
    pub role: TeamRole,
}

/// A primary driver: a big lever on the aim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Primary {
    pub id: String,
    pub text: String,
}

/// A secondary driver; it serves one or more primary drivers (by id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secondary {
    pub id: String,
    pub text: String,
    pub primaries: Vec<String>,
}

/// A change idea; it acts on one or more secondary drivers (by id). PDSA cycles test it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeIdea {
    pub id: String,
    pub text: String,
    pub secondaries: Vec<String>,
}

/// Aim → primary drivers → secondary drivers → change ideas. Ids are stable: an edit never
/// renumbers, and are unique across the whole diagram.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DriverDiagram {
    /// The aim as the team writes it ("Reduce restraint on Ash Ward by 30% by March 2025").
    pub aim: String,
    pub primaries: Vec<Primary>,
    pub secondaries: Vec<Secondary>,
    pub change_ideas: Vec<ChangeIdea>,
}

/// What the team predicts the change will do to a measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    Increase,
    Decrease,
    NoChange,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub measure: MeasureRef,
    pub direction: Expected,
    /// In the team's words ("fewer restraints on nights with a huddle").
    pub text: String,
}

/// Plan: who, what, where, when (free text, as teams write them).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    pub who: String,
    pub what: String,
    #[serde(rename = "where")]
    pub where_: String,
    pub when: String,
}

/// Do: when the test ran and what happened.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Do {
    #[serde(with = "crate::dates::serde_iso_option", default)]
    pub start: Option<Date>,
    #[serde(with = "crate::dates::serde_iso_option", default)]
    pub end: Option<Date>,
    pub notes: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Adopt,
    Adapt,
    Abandon,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Adopt => "adopt",
            Decision::Adapt => "adapt",
            Decision::Abandon => "abandon",
        }
    }
}

/// Act: the decision and its date. An adoption may rebase the predicted measure's chart at its
/// date (`rebase`): the team's decision that the change made a new process (SPC.md section 4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Act {
    pub decision: Decision,
    #[serde(with = "crate::dates::serde_iso")]
    pub date: Date,
    pub notes: String,
    /// Rebase the chart of the cycle's predicted measure at `date` (adoptions only).
    #[serde(default)]
    pub rebase: bool,
}

/// One Plan-Do-Study-Act cycle testing a change idea.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cycle {
    pub id: String,
    pub change_idea: String,
    pub question: String,
    pub prediction: Prediction,
    pub plan: Plan,
    #[serde(rename = "do")]
    pub do_: Do,
    pub study: String,
    pub act: Option<Act>,
    /// The next cycle of the ramp (its id).
    pub next: Option<String>,
}

impl Cycle {
    /// Done: it has a start and an end, and the end is on or before `today`.
    pub fn is_done(&self, today: Date) -> bool {
        matches!((self.do_.start, self.do_.end), (Some(s), Some(e)) if s <= e && e <= today)
    }

    /// The date its adoption rebases the predicted measure's chart, if the team chose that.
    pub fn rebases_on(&self) -> Option<Date> {
        self.act
            .as_ref()
            .filter(|a| a.decision == Decision::Adopt && a.rebase)
            .map(|a| a.date)
    }

    /// The date of its adoption, if the act was "adopt".
    pub fn adopted_on(&self) -> Option<Date> {
        self.act
            .as_ref()
            .filter(|a| a.decision == Decision::Adopt)
            .map(|a| a.date)
    }
}

/// The change adopted on another ward, with the measure that shows whether it worked there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// The other ward's code.
    pub ward: String,
    /// The change idea that spread (its id in this project's diagram).
    pub change_idea: String,
    #[serde(with = "crate::dates::serde_iso")]
    pub adopted: Date,
    /// The measure on that ward that is the evidence.
    pub evidence: MeasureRef,
    pub notes: String,
}

/// A quality improvement project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub title: String,
    pub organisation: Organisation,
    /// The charter: the problem, scope and why it matters, in the team's words.
    pub charter: String,
    pub team: Vec<TeamMember>,
    pub aim: Option<Aim>,
    pub status: Status,
    pub measures: Vec<FamilyMeasure>,
    pub diagram: DriverDiagram,
    pub cycles: Vec<Cycle>,
    pub spread: Vec<Spread>,
}

impl Project {
    /// A new project: a title at an organisation, nothing else yet.
    pub fn new(title: impl Into<String>, organisation: Organisation) -> Project {
        Project {
            title: title.into(),
            organisation,
            charter: String::new(),
            team: Vec::new(),
            aim: None,
            status: Status::Active,
            measures: Vec::new(),
            diagram: DriverDiagram::default(),
            cycles: Vec::new(),
            spread: Vec::new(),
        }
    }

    /// The role of a measure in this project: its family role; the aim's measure counts as an
    /// outcome measure when the family does not list it.
    pub fn role_of(&self, measure: &MeasureRef) -> Option<MeasureRole> {
        self.measures
            .iter()
            .find(|m| &m.measure == measure)
            .map(|m| m.role)
            .or_else(|| {
                self.aim
                    .as_ref()
                    .filter(|a| &a.measure == measure)
                    .map(|_| MeasureRole::Outcome)
            })
    }

    pub fn has_role(&self, role: MeasureRole) -> bool {
        self.measures.iter().any(|m| m.role == role)
            || (role == MeasureRole::Outcome && self.aim.is_some())
    }

    /// The earliest date any cycle started (its Do start).
    pub fn first_cycle_start(&self) -> Option<Date> {
        self.cycles.iter().filter_map(|c| c.do_.start).min()
    }

    /// The earliest adoption date of any cycle.
    pub fn first_adoption(&self) -> Option<Date> {
        self.cycles.iter().filter_map(Cycle::adopted_on).min()
    }
}
